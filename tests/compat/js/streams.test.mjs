// DynamoDB Streams with client-dynamodb-streams: the stream of a table,
// its shards, iterators and records (INSERT, MODIFY, REMOVE with images),
// read the way a consumer of the SDK reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DeleteItemCommand, DescribeTableCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListStreamsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { marshall } from '@aws-sdk/util-dynamodb';

import { createTable, ddb, rejection, streams } from './helpers.mjs';

const table = await createTable({ stream: 'NEW_AND_OLD_IMAGES' });
const { Table } = await ddb.send(new DescribeTableCommand({ TableName: table }));
const arn = Table.LatestStreamArn;

async function shards() {
  const out = [];
  let start;
  do {
    const { StreamDescription: d } = await streams.send(new DescribeStreamCommand({
      StreamArn: arn, ExclusiveStartShardId: start }));
    out.push(...d.Shards);
    start = d.LastEvaluatedShardId;
  } while (start);
  return out;
}

// Every record of every shard from TRIM_HORIZON up to now.
async function readAll() {
  const records = [];
  for (const shard of await shards()) {
    let { ShardIterator: iterator } = await streams.send(new GetShardIteratorCommand({
      StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (iterator) {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...out.Records.map((r) => ({ ...r, shardId: shard.ShardId })));
      if (out.Records.length === 0) break;  // Caught up with an open shard.
      iterator = out.NextShardIterator;
    }
  }
  return records;
}

test('the stream is listed with its table and view type', async () => {
  const { Streams } = await streams.send(new ListStreamsCommand({ TableName: table }));
  assert.deepEqual(Streams.map((s) => s.StreamArn), [arn]);
  const { StreamDescription: d } = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
  assert.equal(d.StreamStatus, 'ENABLED');
  assert.equal(d.StreamViewType, 'NEW_AND_OLD_IMAGES');
  assert.equal(d.TableName, table);
  assert.ok(d.Shards.length >= 1);
});

test('INSERT, MODIFY and REMOVE records, in order, with images', async () => {
  const Key = marshall({ pk: 'item-1' });
  await ddb.send(new PutItemCommand({ TableName: table, Item: marshall({ pk: 'item-1', v: 1 }) }));
  await ddb.send(new UpdateItemCommand({ TableName: table, Key, UpdateExpression: 'SET v = :v',
                                         ExpressionAttributeValues: marshall({ ':v': 2 }) }));
  // A write that changes nothing makes no record.
  await ddb.send(new PutItemCommand({ TableName: table, Item: marshall({ pk: 'item-1', v: 2 }) }));
  await ddb.send(new DeleteItemCommand({ TableName: table, Key }));
  for (let i = 0; i < 20; i += 1) {
    await ddb.send(new PutItemCommand({ TableName: table, Item: marshall({ pk: `other-${i}` }) }));
  }
  const records = await readAll();
  assert.equal(records.length, 23);
  const mine = records.filter((r) => r.dynamodb.Keys.pk.S === 'item-1');
  assert.deepEqual(mine.map((r) => r.eventName), ['INSERT', 'MODIFY', 'REMOVE']);
  const [insert, modify, remove] = mine;
  assert.equal(insert.eventSource, 'aws:dynamodb');
  assert.equal(insert.eventVersion, '1.1');
  assert.equal(insert.awsRegion, 'us-east-1');
  assert.deepEqual(insert.dynamodb.NewImage, { pk: { S: 'item-1' }, v: { N: '1' } });
  assert.equal(insert.dynamodb.OldImage, undefined);
  assert.deepEqual(modify.dynamodb.OldImage.v, { N: '1' });
  assert.deepEqual(modify.dynamodb.NewImage.v, { N: '2' });
  assert.deepEqual(remove.dynamodb.OldImage.v, { N: '2' });
  assert.equal(remove.dynamodb.NewImage, undefined);
  assert.ok(insert.dynamodb.ApproximateCreationDateTime instanceof Date);
  assert.equal(insert.dynamodb.StreamViewType, 'NEW_AND_OLD_IMAGES');
  const sequence = mine.map((r) => BigInt(r.dynamodb.SequenceNumber));
  assert.ok(sequence[0] < sequence[1] && sequence[1] < sequence[2]);
});

test('AFTER_SEQUENCE_NUMBER resumes after a record', async () => {
  const records = await readAll();
  const first = records.find((r) => r.dynamodb.Keys.pk.S === 'item-1');
  const { ShardIterator } = await streams.send(new GetShardIteratorCommand({
    StreamArn: arn, ShardId: first.shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
    SequenceNumber: first.dynamodb.SequenceNumber }));
  const { Records } = await streams.send(new GetRecordsCommand({ ShardIterator }));
  assert.deepEqual(Records.filter((r) => r.dynamodb.Keys.pk.S === 'item-1').map((r) => r.eventName),
                   ['MODIFY', 'REMOVE']);
});

test('a bad iterator is the SDK\'s error', async () => {
  const e = await rejection(streams.send(new GetRecordsCommand({ ShardIterator: 'not-an-iterator' })));
  assert.equal(e.$metadata.httpStatusCode, 400);
  assert.ok(['ValidationException', 'ExpiredIteratorException'].includes(e.name), e.name);
});
