// Expressions through the low-level client: update actions, condition
// functions, projections and filters, with attribute names and values.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import {
  ConditionalCheckFailedException, GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

import { createTable, ddb, rejection } from './helpers.mjs';

const table = await createTable();
const Key = marshall({ pk: 'e1' });

async function get() {
  const { Item } = await ddb.send(new GetItemCommand({ TableName: table, Key, ConsistentRead: true }));
  return unmarshall(Item);
}

before(async () => {
  await ddb.send(new PutItemCommand({ TableName: table, Item: marshall({
    pk: 'e1', name: 'widget', price: 10, tags: new Set(['a', 'b']), colors: new Set(['red', 'green']), nums: [1, 2, 3],
    info: { color: 'red', size: 'L' }, 'dotted.name': 'd', status: 'new' }) }));
});

test('SET, REMOVE, ADD and DELETE in one update', async () => {
  await ddb.send(new UpdateItemCommand({
    TableName: table, Key,
    // status and size are reserved words: they need #names.
    UpdateExpression: 'SET price = price + :ten, info.color = :blue, #s = :used, nums[0] = :zero '
      + 'REMOVE info.#size, nums[2] ADD tags :c, hits :one DELETE colors :red',
    ExpressionAttributeNames: { '#s': 'status', '#size': 'size' },
    ExpressionAttributeValues: marshall({
      ':ten': 10, ':blue': 'blue', ':used': 'used', ':zero': 0, ':c': new Set(['c']),
      ':one': 1, ':red': new Set(['red']) }) }));
  const item = await get();
  assert.equal(item.price, 20);
  assert.deepEqual(item.info, { color: 'blue' });
  assert.equal(item.status, 'used');
  assert.deepEqual(item.nums, [0, 2]);
  assert.deepEqual([...item.tags].sort(), ['a', 'b', 'c']);
  assert.deepEqual([...item.colors], ['green']);
  assert.equal(item.hits, 1);
});

test('condition functions decide a write', async () => {
  const cases = [
    ['attribute_exists(info.color) AND attribute_not_exists(nothing)', true],
    ['begins_with(#n, :w)', true],
    ['contains(tags, :b)', true],
    ['size(nums) = :two', true],
    ['attribute_type(price, :numtype)', true],
    ['price BETWEEN :lo AND :hi', true],
    ['#n IN (:w, :x)', false],
    ['NOT contains(tags, :b)', false],
    ['#d = :d', true],
  ];
  for (const [condition, passes] of cases) {
    const send = ddb.send(new UpdateItemCommand({
      TableName: table, Key, UpdateExpression: 'SET touched = :t', ConditionExpression: condition,
      ExpressionAttributeNames: condition.includes('#') ? Object.fromEntries(
        [['#n', 'name'], ['#d', 'dotted.name']].filter(([k]) => condition.includes(k))) : undefined,
      ExpressionAttributeValues: marshall(Object.fromEntries(Object.entries({
        ':t': condition, ':w': 'wid', ':x': 'gadget', ':b': 'b', ':two': 2, ':numtype': 'N',
        ':lo': 1, ':hi': 100, ':d': 'd' }).filter(([k]) => k === ':t' || condition.includes(k)))),
    }));
    if (passes) {
      await send;
      assert.equal((await get()).touched, condition);
    } else {
      const e = await rejection(send);
      assert.ok(e instanceof ConditionalCheckFailedException, `${condition}: ${e.name}`);
    }
  }
});

test('projection and filter expressions', async () => {
  for (let i = 0; i < 6; i += 1) {
    await ddb.send(new PutItemCommand({ TableName: table, Item: marshall({
      pk: `f${i}`, kind: i % 2 ? 'odd' : 'even', n: i, nested: { a: i, b: 'x' } }) }));
  }
  const { Items, Count, ScannedCount } = await ddb.send(new ScanCommand({
    TableName: table, FilterExpression: 'kind = :k AND n >= :min',
    ProjectionExpression: 'pk, nested.a, #n', ExpressionAttributeNames: { '#n': 'n' },
    ExpressionAttributeValues: marshall({ ':k': 'even', ':min': 2 }) }));
  assert.equal(ScannedCount, 7);
  assert.equal(Count, 2);
  assert.deepEqual(Items.map((i) => unmarshall(i)).sort((a, b) => a.n - b.n), [
    { pk: 'f2', n: 2, nested: { a: 2 } }, { pk: 'f4', n: 4, nested: { a: 4 } }]);
});

test('an expression that does not parse is a ValidationException', async () => {
  const e = await rejection(ddb.send(new UpdateItemCommand({
    TableName: table, Key, UpdateExpression: 'SET = :v',
    ExpressionAttributeValues: marshall({ ':v': 1 }) })));
  assert.equal(e.name, 'ValidationException');
  assert.match(e.message, /Invalid UpdateExpression: Syntax error/);
});
