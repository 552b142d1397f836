// Signatures as the SDK makes them: with --auth the server verifies them
// (a wrong secret or an unknown key is refused with DynamoDB's error); in
// anonymous mode any well-formed signature is accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ListTablesCommand } from '@aws-sdk/client-dynamodb';

import { authMode, clientWith, ddb, rejection } from './helpers.mjs';

test('the test identity\'s signature is accepted', async () => {
  const out = await ddb.send(new ListTablesCommand({}));
  assert.equal(out.$metadata.httpStatusCode, 200);
});

test(`other keys are ${authMode ? 'refused' : 'accepted'} (${authMode ? '--auth' : 'anonymous'})`, async () => {
  const wrongSecret = clientWith(process.env.AWS_ACCESS_KEY_ID, 'not-the-secret');
  const unknownKey = clientWith('AKIDUNKNOWNJSKEY', 'whatever');
  try {
    if (authMode) {
      const bad = await rejection(wrongSecret.send(new ListTablesCommand({})));
      assert.equal(bad.name, 'InvalidSignatureException');
      assert.equal(bad.$metadata.httpStatusCode, 400);
      const unknown = await rejection(unknownKey.send(new ListTablesCommand({})));
      assert.equal(unknown.name, 'UnrecognizedClientException');
    } else {
      for (const client of [wrongSecret, unknownKey]) {
        const out = await client.send(new ListTablesCommand({}));
        assert.equal(out.$metadata.httpStatusCode, 200);
      }
    }
  } finally {
    wrongSecret.destroy();
    unknownKey.destroy();
  }
});
