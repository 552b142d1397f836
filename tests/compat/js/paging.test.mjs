// Paging as the SDK's paginators drive it: Query and Scan with Limit and
// 1 MB pages, ListTables, every item once and in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  BatchWriteItemCommand, ListTablesCommand, paginateListTables, paginateQuery, paginateScan,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

import { createTable, ddb } from './helpers.mjs';

const table = await createTable({ range: true, rangeType: 'N' });
const big = 'x'.repeat(100 * 1024);

test('setup: 3 partitions of 40 items, one partition of 15 big ones', async () => {
  const requests = [];
  for (const pk of ['a', 'b', 'c']) {
    for (let sk = 0; sk < 40; sk += 1) requests.push({ PutRequest: { Item: marshall({ pk, sk }) } });
  }
  for (let sk = 0; sk < 15; sk += 1) requests.push({ PutRequest: { Item: marshall({ pk: 'big', sk, big }) } });
  for (let i = 0; i < requests.length; i += 25) {
    const out = await ddb.send(new BatchWriteItemCommand({
      RequestItems: { [table]: requests.slice(i, i + 25) } }));
    assert.deepEqual(out.UnprocessedItems, {});
  }
});

test('paginateQuery with Limit returns every item once, in order', async () => {
  const pages = [];
  for await (const page of paginateQuery({ client: ddb, pageSize: 7 }, {
    TableName: table, KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: marshall({ ':p': 'b' }), ScanIndexForward: false })) {
    pages.push(page.Items.map((i) => unmarshall(i).sk));
  }
  assert.ok(pages.slice(0, -1).every((p) => p.length === 7), JSON.stringify(pages));
  assert.deepEqual(pages.flat(), Array.from({ length: 40 }, (_, i) => 39 - i));
});

test('a 1 MB page limit ends a Query page early', async () => {
  const out = await ddb.send(new QueryCommand({
    TableName: table, KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: marshall({ ':p': 'big' }) }));
  assert.ok(out.Count < 15 && out.Count >= 9, `first page had ${out.Count} items`);
  assert.deepEqual(unmarshall(out.LastEvaluatedKey), { pk: 'big', sk: out.Count - 1 });
  let total = 0;
  for await (const page of paginateQuery({ client: ddb }, {
    TableName: table, KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: marshall({ ':p': 'big' }), ProjectionExpression: 'sk' })) {
    total += page.Count;
  }
  assert.equal(total, 15);
});

test('paginateScan visits every item exactly once', async () => {
  const seen = [];
  for await (const page of paginateScan({ client: ddb, pageSize: 11 }, {
    TableName: table, ProjectionExpression: 'pk, sk' })) {
    seen.push(...page.Items.map((i) => { const { pk, sk } = unmarshall(i); return `${pk}/${sk}`; }));
  }
  assert.equal(seen.length, 135);
  assert.equal(new Set(seen).size, 135);
});

test('parallel scan segments partition the table', async () => {
  const segments = await Promise.all([0, 1, 2].map(async (Segment) => {
    const keys = [];
    for await (const page of paginateScan({ client: ddb }, {
      TableName: table, Segment, TotalSegments: 3, ProjectionExpression: 'pk, sk' })) {
      keys.push(...page.Items.map((i) => JSON.stringify(unmarshall(i))));
    }
    return keys;
  }));
  const all = segments.flat();
  assert.equal(all.length, 135);
  assert.equal(new Set(all).size, 135);
});

test('paginateListTables lists this table among all, two at a time', async () => {
  const names = [];
  for await (const page of paginateListTables({ client: ddb, pageSize: 2 }, {})) {
    assert.ok(page.TableNames.length <= 2);
    names.push(...page.TableNames);
  }
  assert.ok(names.includes(table));
  assert.deepEqual(names, [...names].sort());
  const { TableNames } = await ddb.send(new ListTablesCommand({}));
  assert.deepEqual(names, TableNames);
});
