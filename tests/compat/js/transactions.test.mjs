// TransactWriteItems and TransactGetItems: all or nothing, cancellation
// reasons the SDK exposes, idempotent retries with a ClientRequestToken.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  GetItemCommand, PutItemCommand, TransactGetItemsCommand, TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

import { createTable, ddb, rejection } from './helpers.mjs';

const accounts = await createTable();
const ledger = await createTable();

async function balance(pk) {
  const { Item } = await ddb.send(new GetItemCommand({
    TableName: accounts, Key: marshall({ pk }), ConsistentRead: true }));
  return Item ? unmarshall(Item).balance : undefined;
}

function transfer(amount, id) {
  return new TransactWriteItemsCommand({ ClientRequestToken: id, TransactItems: [
    { Update: { TableName: accounts, Key: marshall({ pk: 'alice' }),
                UpdateExpression: 'SET balance = balance - :a', ConditionExpression: 'balance >= :a',
                ExpressionAttributeValues: marshall({ ':a': amount }) } },
    { Update: { TableName: accounts, Key: marshall({ pk: 'bob' }),
                UpdateExpression: 'SET balance = balance + :a',
                ExpressionAttributeValues: marshall({ ':a': amount }) } },
    { Put: { TableName: ledger, Item: marshall({ pk: id, amount }),
             ConditionExpression: 'attribute_not_exists(pk)' } },
  ] });
}

test('a transfer commits every write', async () => {
  await ddb.send(new PutItemCommand({ TableName: accounts, Item: marshall({ pk: 'alice', balance: 100 }) }));
  await ddb.send(new PutItemCommand({ TableName: accounts, Item: marshall({ pk: 'bob', balance: 0 }) }));
  await ddb.send(transfer(30, 'tx-1'));
  assert.deepEqual([await balance('alice'), await balance('bob')], [70, 30]);
  // The same token and request again: accepted, applied once.
  await ddb.send(transfer(30, 'tx-1'));
  assert.deepEqual([await balance('alice'), await balance('bob')], [70, 30]);
});

test('a failed condition cancels the whole transaction with reasons', async () => {
  const e = await rejection(ddb.send(transfer(1000, 'tx-2')));
  assert.ok(e instanceof TransactionCanceledException, e.name);
  assert.deepEqual(e.CancellationReasons.map((r) => r.Code), ['ConditionalCheckFailed', 'None', 'None']);
  assert.match(e.message, /Transaction cancelled, please refer cancellation reasons for specific reasons \[ConditionalCheckFailed, None, None\]/);
  assert.deepEqual([await balance('alice'), await balance('bob')], [70, 30]);
});

test('a token reused with another request is refused', async () => {
  const e = await rejection(ddb.send(transfer(5, 'tx-1')));
  assert.equal(e.name, 'IdempotentParameterMismatchException');
});

test('TransactGetItems reads a consistent set', async () => {
  const { Responses } = await ddb.send(new TransactGetItemsCommand({ TransactItems: [
    { Get: { TableName: accounts, Key: marshall({ pk: 'alice' }) } },
    { Get: { TableName: accounts, Key: marshall({ pk: 'bob' }), ProjectionExpression: 'balance' } },
    { Get: { TableName: ledger, Key: marshall({ pk: 'tx-1' }) } },
    { Get: { TableName: ledger, Key: marshall({ pk: 'tx-none' }) } },
  ] }));
  assert.deepEqual(Responses.map((r) => (r.Item ? unmarshall(r.Item) : null)), [
    { pk: 'alice', balance: 70 }, { balance: 30 }, { pk: 'tx-1', amount: 30 }, null]);
});
