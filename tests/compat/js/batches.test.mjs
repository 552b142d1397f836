// BatchWriteItem and BatchGetItem: full batches over several tables,
// unprocessed work handed back the way the SDK expects, and the limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BatchGetItemCommand, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

import { createTable, ddb, rejection } from './helpers.mjs';

const [a, b] = [await createTable(), await createTable()];

// Writes `requests` ({table: [WriteRequest]}) until nothing is unprocessed.
async function writeAll(requests) {
  let pending = requests;
  for (let round = 0; Object.keys(pending).length; round += 1) {
    assert.ok(round < 10, 'unprocessed items never drained');
    ({ UnprocessedItems: pending = {} } = await ddb.send(
      new BatchWriteItemCommand({ RequestItems: pending })));
  }
}

test('25 puts over two tables, then 100 gets', async () => {
  const put = (n) => ({ PutRequest: { Item: marshall({ pk: `k${n}`, n }) } });
  for (let start = 0; start < 100; start += 25) {
    const requests = Array.from({ length: 25 }, (_, i) => put(start + i));
    await writeAll({ [a]: requests.slice(0, 13), [b]: requests.slice(13) });
  }
  const keys = Array.from({ length: 100 }, (_, n) => marshall({ pk: `k${n}` }));
  const found = [];
  let request = { [a]: { Keys: keys.slice(0, 50) }, [b]: { Keys: keys.slice(50) } };
  while (Object.keys(request).length) {
    const out = await ddb.send(new BatchGetItemCommand({ RequestItems: request }));
    for (const items of Object.values(out.Responses)) found.push(...items.map((i) => unmarshall(i)));
    request = out.UnprocessedKeys || {};
  }
  // Each table holds the items its batches put: k0..k12, k25..k37, ... in a.
  const inA = new Set(Array.from({ length: 100 }, (_, n) => n).filter((n) => n % 25 < 13));
  const expected = [...inA].filter((n) => n < 50)
    .concat(Array.from({ length: 50 }, (_, i) => i + 50).filter((n) => !inA.has(n)));
  assert.deepEqual(found.map((i) => i.n).sort((x, y) => x - y), expected.sort((x, y) => x - y));
});

test('deletes and puts in one batch', async () => {
  await writeAll({ [a]: [
    { DeleteRequest: { Key: marshall({ pk: 'k0' }) } },
    { PutRequest: { Item: marshall({ pk: 'new', n: -1 }) } }] });
  const out = await ddb.send(new BatchGetItemCommand({ RequestItems: {
    [a]: { Keys: [marshall({ pk: 'k0' }), marshall({ pk: 'new' })], ConsistentRead: true } } }));
  assert.deepEqual(out.Responses[a].map((i) => unmarshall(i)), [{ pk: 'new', n: -1 }]);
});

test('batch limits are ValidationExceptions', async () => {
  const tooMany = Array.from({ length: 26 }, (_, n) => ({
    PutRequest: { Item: marshall({ pk: `x${n}` }) } }));
  const e = await rejection(ddb.send(new BatchWriteItemCommand({ RequestItems: { [a]: tooMany } })));
  assert.equal(e.name, 'ValidationException');
  const dup = await rejection(ddb.send(new BatchGetItemCommand({ RequestItems: {
    [a]: { Keys: [marshall({ pk: 'k1' }), marshall({ pk: 'k1' })] } } })));
  assert.equal(dup.name, 'ValidationException');
  assert.match(dup.message, /duplicates/);
});
