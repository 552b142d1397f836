"""Shard rollover through boto3 (issue 14 §3): with `eddy serve
--stream-shard-rollover`, every open shard closes (EndingSequenceNumber)
and a child opens (ParentShardId), as DynamoDB's shards do, so consumers
written for DynamoDB Streams can be tested against Eddy:

- DescribeStream shows the lineage, ids sort in creation order (parents
  before children), ShardFilter CHILD_SHARDS lists a shard's child;
- a closed shard's GetRecords ends without NextShardIterator;
- a consumer that finishes a parent before its child reads every record of
  an item in commit order across rollovers.
"""

import unittest

from eddy_server import item_av, wait_until
from test_streams import StreamTestCase, describe_stream, read_shard

ROLLOVER_S = 1


class StreamRolloverTest(StreamTestCase):
    server_args = ("--stream-shard-rollover", f"{ROLLOVER_S}s", "--stream-shards", "2")

    def generations(self, arn, count):
        """Waits until the stream has `count` generations of shards; returns
        its shards."""
        def enough():
            shards = describe_stream(self.streams, arn)["Shards"]
            return shards if len(shards) >= 2 * count else None
        return wait_until(enough, timeout=30, interval=0.1,
                          what=f"{count} generations of shards")

    def test_lineage_is_described(self):
        table = self.create_stream_table()
        arn = self.stream_arn(table)
        shards = self.generations(arn, 3)
        by_id = {s["ShardId"]: s for s in shards}
        ids = [s["ShardId"] for s in shards]
        self.assertEqual(ids, sorted(ids), "ids not in creation order")
        roots = [s for s in shards if "ParentShardId" not in s]
        self.assertEqual(len(roots), 2)
        for shard in shards:
            parent = shard.get("ParentShardId")
            if parent is None:
                continue
            self.assertIn(parent, by_id)
            self.assertLess(parent, shard["ShardId"])
            # The parent is closed.
            self.assertIn("EndingSequenceNumber", by_id[parent]["SequenceNumberRange"])
        open_shards = [s for s in shards
                       if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
        self.assertEqual(len(open_shards), 2, "one open shard per lane")
        # CHILD_SHARDS: the child of a root.
        root = roots[0]["ShardId"]
        children = self.streams.describe_stream(
            StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": root}
        )["StreamDescription"]["Shards"]
        self.assertEqual(len(children), 1)
        self.assertEqual(children[0]["ParentShardId"], root)

    def test_closed_shard_ends_without_next_iterator(self):
        table = self.create_stream_table()
        arn = self.stream_arn(table)
        self.put(table, {"p": "a", "v": 1})
        shards = self.generations(arn, 2)
        closed = [s for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]]
        for shard in closed:
            iterator = self.iterator(arn, shard["ShardId"])
            for _ in range(10):
                page = self.streams.get_records(ShardIterator=iterator)
                iterator = page.get("NextShardIterator")
                if iterator is None:
                    break
            self.assertIsNone(iterator, f"closed shard {shard['ShardId']} never ended")

    # A DynamoDB Streams consumer (parents before children) sees each
    # item's records in commit order across rollovers.
    def test_per_item_order_across_rollovers(self):
        table = self.create_stream_table()
        arn = self.stream_arn(table)
        keys, versions = 20, 0
        start = describe_stream(self.streams, arn)["Shards"]
        # Write until the stream has rolled over at least twice.
        while len(describe_stream(self.streams, arn)["Shards"]) < len(start) + 4:
            for k in range(keys):
                self.ddb.put_item(TableName=table,
                                  Item=item_av({"p": f"k{k}", "v": versions}))
            versions += 1
        shards = describe_stream(self.streams, arn)["Shards"]
        by_id = {s["ShardId"]: s for s in shards}
        done, order = set(), []
        while len(done) < len(shards):
            for shard in shards:
                sid = shard["ShardId"]
                parent = shard.get("ParentShardId")
                if sid in done or (parent in by_id and parent not in done):
                    continue
                order.append(sid)
                done.add(sid)
        seen = {}
        for sid in order:
            for record in read_shard(self.streams, arn, sid):
                image = record["dynamodb"]["NewImage"]
                seen.setdefault(image["p"]["S"], []).append(int(image["v"]["N"]))
        self.assertEqual(len(seen), keys)
        for key, vs in seen.items():
            self.assertEqual(vs, list(range(versions)), f"order of {key}")
        # Some item's records really are spread over several generations.
        homes = {}
        for sid in order:
            for record in read_shard(self.streams, arn, sid):
                homes.setdefault(record["dynamodb"]["Keys"]["p"]["S"], set()).add(sid)
        self.assertGreater(max(len(h) for h in homes.values()), 1)


if __name__ == "__main__":
    unittest.main()
