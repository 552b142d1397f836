#!/usr/bin/env python3
"""How much of a data directory's LevelDB tables stays in memory.

LevelDB keeps, for every open table, its index block and its Bloom filter
block in the heap; the store charges them to its block cache
(store/src/table_memory.h). This reads each table file's footer,
metaindex and index block header and sums what the two blocks take in
memory, as the store counts it: the index block as LevelDB decompresses
it, the filter block as stored (raw).

  python3 bench/leveldb_tables.py DATA_DIR      # e.g. ~/.local/share/eddy

Standard library only; reads the files while the server runs or not.
"""

import glob
import os
import sys


def varint(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def block_entries(block):
    """The (key, value) entries of an uncompressed LevelDB block."""
    restarts = int.from_bytes(block[-4:], "little")
    end = len(block) - 4 - 4 * restarts
    i, last = 0, b""
    while i < end:
        shared, i = varint(block, i)
        unshared, i = varint(block, i)
        size, i = varint(block, i)
        key = last[:shared] + block[i:i + unshared]
        i += unshared
        yield key, block[i:i + size]
        i += size
        last = key


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tables = glob.glob(os.path.join(sys.argv[1], "leveldb", "*.ldb"))
    index = filters = 0
    for path in tables:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            f.seek(size - 48)
            footer = f.read(48)
            meta_offset, i = varint(footer, 0)
            meta_size, i = varint(footer, i)
            index_offset, i = varint(footer, i)
            index_size, i = varint(footer, i)
            f.seek(index_offset + index_size)
            if f.read(1) == b"\x01":  # Snappy: its length comes first.
                f.seek(index_offset)
                index_size, _ = varint(f.read(5), 0)
            index += index_size
            f.seek(meta_offset)
            for key, handle in block_entries(f.read(meta_size)):
                if key.startswith(b"filter."):
                    _, j = varint(handle, 0)
                    size, _ = varint(handle, j)
                    filters += size
    print("%d tables: index blocks %.1f MB, Bloom filters %.1f MB in memory "
          "(%.1f MB in all, charged to the block cache)" % (
              len(tables), index / 1e6, filters / 1e6,
              (index + filters) / 1e6))


if __name__ == "__main__":
    main()
