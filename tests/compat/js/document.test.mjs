// The DocumentClient (lib-dynamodb): native JavaScript values in and out,
// Sets, numbers, nested documents, and its commands for every operation.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  BatchGetCommand, BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand,
  ScanCommand, TransactWriteCommand, UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

import { createTable, doc } from './helpers.mjs';

const table = await createTable({ range: true, rangeType: 'N' });

test('native values round-trip', async () => {
  const item = {
    pk: 'user#1', sk: 1, name: 'Ada', age: 36, active: true, nothing: null,
    tags: new Set(['math', 'engines']), scores: new Set([3, 1, 2]),
    address: { city: 'London', lines: ['12 St James\'s Square'] },
    blob: new Uint8Array([104, 105]), skipped: undefined,
  };
  await doc.send(new PutCommand({ TableName: table, Item: item }));
  const { Item } = await doc.send(new GetCommand({
    TableName: table, Key: { pk: 'user#1', sk: 1 }, ConsistentRead: true }));
  const { skipped, ...stored } = item;
  assert.equal(skipped, undefined);
  assert.deepEqual(Item, stored);
});

test('update, query and delete with native values', async () => {
  for (let sk = 1; sk <= 5; sk += 1) {
    await doc.send(new PutCommand({ TableName: table, Item: { pk: 'q', sk, n: sk * 10 } }));
  }
  const { Attributes } = await doc.send(new UpdateCommand({
    TableName: table, Key: { pk: 'q', sk: 3 },
    UpdateExpression: 'SET n = n + :d, #l = list_append(if_not_exists(#l, :empty), :x)',
    ExpressionAttributeNames: { '#l': 'log' },
    ExpressionAttributeValues: { ':d': 5, ':empty': [], ':x': ['changed'] },
    ReturnValues: 'ALL_NEW' }));
  assert.deepEqual(Attributes, { pk: 'q', sk: 3, n: 35, log: ['changed'] });
  const { Items, Count } = await doc.send(new QueryCommand({
    TableName: table, KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
    ExpressionAttributeValues: { ':p': 'q', ':a': 2, ':b': 4 }, ScanIndexForward: false }));
  assert.equal(Count, 3);
  assert.deepEqual(Items.map((i) => i.sk), [4, 3, 2]);
  await doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'q', sk: 3 } }));
  const { Items: left } = await doc.send(new ScanCommand({
    TableName: table, FilterExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'q' } }));
  assert.deepEqual(left.map((i) => i.sk).sort(), [1, 2, 4, 5]);
});

test('batch and transaction commands take native values', async () => {
  const items = Array.from({ length: 10 }, (_, i) => ({ pk: 'batch', sk: i, even: i % 2 === 0 }));
  const out = await doc.send(new BatchWriteCommand({ RequestItems: {
    [table]: items.map((Item) => ({ PutRequest: { Item } })) } }));
  assert.deepEqual(out.UnprocessedItems, {});
  const got = await doc.send(new BatchGetCommand({ RequestItems: {
    [table]: { Keys: items.map(({ pk, sk }) => ({ pk, sk })) } } }));
  assert.deepEqual(got.Responses[table].sort((a, b) => a.sk - b.sk), items);
  await doc.send(new TransactWriteCommand({ TransactItems: [
    { Update: { TableName: table, Key: { pk: 'batch', sk: 0 }, UpdateExpression: 'SET even = :f',
                ExpressionAttributeValues: { ':f': false } } },
    { Delete: { TableName: table, Key: { pk: 'batch', sk: 1 } } },
  ] }));
  const { Item } = await doc.send(new GetCommand({ TableName: table, Key: { pk: 'batch', sk: 0 } }));
  assert.equal(Item.even, false);
  const gone = await doc.send(new GetCommand({ TableName: table, Key: { pk: 'batch', sk: 1 } }));
  assert.equal(gone.Item, undefined);
});
