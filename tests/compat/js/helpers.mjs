// Shared setup of the AWS SDK for JavaScript v3 suite: clients pointed at
// the server that tests/compat/test_js_sdk.py started (EDDY_ENDPOINT), with
// the credentials it exported (the harness's test identity, allowed
// everything when the server runs with --auth), and table helpers.
import { randomUUID } from 'node:crypto';
import { after } from 'node:test';

import {
  CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const endpoint = process.env.EDDY_ENDPOINT;
if (!endpoint) throw new Error('EDDY_ENDPOINT is not set: run this suite through test_js_sdk.py');
export const authMode = process.env.EDDY_TEST_AUTH === '1';
export const region = process.env.AWS_DEFAULT_REGION || 'us-east-1';

const common = { endpoint, region, maxAttempts: 1 };
export const ddb = new DynamoDBClient(common);
export const doc = DynamoDBDocumentClient.from(ddb, {
  marshallOptions: { removeUndefinedValues: true },
});
export const streams = new DynamoDBStreamsClient(common);

// A client with other keys (for the signature tests).
export function clientWith(accessKeyId, secretAccessKey) {
  return new DynamoDBClient({ ...common, credentials: { accessKeyId, secretAccessKey } });
}

export function uniqueName(prefix = 'js') {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

const created = [];
after(async () => {
  for (const name of created) {
    await ddb.send(new DeleteTableCommand({ TableName: name })).catch(() => {});
  }
  ddb.destroy();
  streams.destroy();
});

// Creates a table (hash key `pk` S, optional range key `sk` of `rangeType`)
// and waits until it is ACTIVE; returns its name.
export async function createTable({ range = false, rangeType = 'S', stream = null,
                                    extra = {} } = {}) {
  const name = uniqueName();
  const keys = [{ AttributeName: 'pk', KeyType: 'HASH' }];
  const defs = [{ AttributeName: 'pk', AttributeType: 'S' }];
  if (range) {
    keys.push({ AttributeName: 'sk', KeyType: 'RANGE' });
    defs.push({ AttributeName: 'sk', AttributeType: rangeType });
  }
  const input = { TableName: name, KeySchema: keys, AttributeDefinitions: defs,
                  BillingMode: 'PAY_PER_REQUEST', ...extra };
  if (stream) input.StreamSpecification = { StreamEnabled: true, StreamViewType: stream };
  await ddb.send(new CreateTableCommand(input));
  created.push(name);
  for (let i = 0; i < 500; i += 1) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
    if (Table.TableStatus === 'ACTIVE') return name;
    await new Promise((resolve) => { setTimeout(resolve, 20); });
  }
  throw new Error(`table ${name} never became ACTIVE`);
}

// The error a promise rejects with (fails if it resolves).
export async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the request to fail, but it succeeded');
}
