// Items through the low-level client: every attribute type round-trips,
// ReturnValues, conditional writes and DynamoDB's errors as the SDK's
// typed exceptions.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand,
  ResourceNotFoundException, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

import { createTable, ddb, rejection } from './helpers.mjs';

const table = await createTable();

test('every attribute type round-trips', async () => {
  const item = {
    pk: { S: 'types' },
    s: { S: 'héllo ✓' },
    n: { N: '-12.5e3' },
    b: { B: new Uint8Array([0, 1, 2, 255]) },
    t: { BOOL: true },
    z: { NULL: true },
    l: { L: [{ S: 'a' }, { N: '1' }, { L: [] }] },
    m: { M: { inner: { M: { deep: { S: 'x' } } } } },
    ss: { SS: ['a', 'b'] },
    ns: { NS: ['1', '2.5'] },
    bs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
  };
  await ddb.send(new PutItemCommand({ TableName: table, Item: item }));
  const { Item } = await ddb.send(new GetItemCommand({
    TableName: table, Key: { pk: { S: 'types' } }, ConsistentRead: true }));
  assert.equal(Item.s.S, 'héllo ✓');
  assert.equal(Number(Item.n.N), -12500);
  assert.deepEqual([...Item.b.B], [0, 1, 2, 255]);
  assert.equal(Item.t.BOOL, true);
  assert.equal(Item.z.NULL, true);
  assert.deepEqual(Item.l, item.l);
  assert.deepEqual(Item.m, item.m);
  assert.deepEqual([...Item.ss.SS].sort(), ['a', 'b']);
  assert.deepEqual([...Item.ns.NS].map(Number).sort(), [1, 2.5]);
  assert.deepEqual(Item.bs.BS.map((b) => [...b]).sort(), [[1], [2, 3]]);
});

test('a missing item is an empty answer', async () => {
  const out = await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'none' } } }));
  assert.equal(out.Item, undefined);
  assert.equal(out.$metadata.httpStatusCode, 200);
});

test('ReturnValues of put, update and delete', async () => {
  const Key = { pk: { S: 'rv' } };
  let out = await ddb.send(new PutItemCommand({
    TableName: table, Item: { ...Key, v: { N: '1' } }, ReturnValues: 'ALL_OLD' }));
  assert.equal(out.Attributes, undefined);
  out = await ddb.send(new PutItemCommand({
    TableName: table, Item: { ...Key, v: { N: '2' } }, ReturnValues: 'ALL_OLD' }));
  assert.deepEqual(out.Attributes, { ...Key, v: { N: '1' } });
  out = await ddb.send(new UpdateItemCommand({
    TableName: table, Key, UpdateExpression: 'SET v = v + :one, w = :w',
    ExpressionAttributeValues: { ':one': { N: '1' }, ':w': { S: 'x' } },
    ReturnValues: 'UPDATED_NEW' }));
  assert.deepEqual(out.Attributes, { v: { N: '3' }, w: { S: 'x' } });
  out = await ddb.send(new DeleteItemCommand({ TableName: table, Key, ReturnValues: 'ALL_OLD' }));
  assert.deepEqual(out.Attributes, { ...Key, v: { N: '3' }, w: { S: 'x' } });
});

test('a failed condition is ConditionalCheckFailedException, with the item when asked', async () => {
  const Key = { pk: { S: 'cond' } };
  await ddb.send(new PutItemCommand({ TableName: table, Item: { ...Key, v: { N: '1' } } }));
  const e = await rejection(ddb.send(new PutItemCommand({
    TableName: table, Item: { ...Key, v: { N: '9' } },
    ConditionExpression: 'attribute_not_exists(pk)',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })));
  assert.ok(e instanceof ConditionalCheckFailedException, e.name);
  assert.equal(e.$metadata.httpStatusCode, 400);
  assert.deepEqual(e.Item, { ...Key, v: { N: '1' } });
  const { Item } = await ddb.send(new GetItemCommand({ TableName: table, Key }));
  assert.equal(Item.v.N, '1');
});

test('errors are the SDK\'s typed exceptions', async () => {
  const missing = await rejection(ddb.send(new GetItemCommand({
    TableName: 'no-such-table', Key: { pk: { S: 'x' } } })));
  assert.ok(missing instanceof ResourceNotFoundException, missing.name);
  assert.match(missing.message, /not found/);
  const invalid = await rejection(ddb.send(new PutItemCommand({
    TableName: table, Item: { other: { S: 'no key' } } })));
  assert.equal(invalid.name, 'ValidationException');
  assert.match(invalid.message, /Missing the key pk/);
});
