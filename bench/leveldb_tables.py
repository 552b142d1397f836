#!/usr/bin/env python3
"""How much of a data directory's LevelDB tables stays in memory.

LevelDB keeps, for every open table, its index block and its Bloom filter
block in memory, outside the block cache. This reads each table file's
footer and metaindex and sums the two blocks' sizes as stored: the filter
blocks exactly (stored raw), the index blocks compressed when LevelDB
compressed them (their size in memory is at least that).

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
    index = filters = compressed = 0
    for path in tables:
        with open(path, "rb") as f:
            data = f.read()
        footer = data[-48:]
        meta_offset, i = varint(footer, 0)
        meta_size, i = varint(footer, i)
        index_offset, i = varint(footer, i)
        index_size, i = varint(footer, i)
        index += index_size
        compressed += data[index_offset + index_size] != 0
        for key, handle in block_entries(data[meta_offset:
                                              meta_offset + meta_size]):
            if key.startswith(b"filter."):
                _, j = varint(handle, 0)
                size, _ = varint(handle, j)
                filters += size
    print("%d tables: Bloom filters %.1f MB, index blocks %.1f MB as stored "
          "(%d of them compressed)" % (len(tables), filters / 1e6,
                                       index / 1e6, compressed))


if __name__ == "__main__":
    main()
