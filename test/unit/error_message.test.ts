// The text of a caught value (sidecar/protocol/error_message.ts): anything can be thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode, errorMessage, errorReason } from '../../sidecar/protocol/error_message';

test('an Error, a string, an object and undefined each give readable text', () => {
  assert.equal(errorMessage(new TypeError('bad')), 'bad');
  assert.equal(errorMessage('plain'), 'plain');
  assert.equal(errorMessage({ reason: 1 }), '{"reason":1}');
  assert.equal(errorMessage(undefined), 'undefined');
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  assert.equal(errorMessage(cyclic), '[object Object]');
});

test('a system error gives its code as the reason; others their message', () => {
  const missing = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
  assert.equal(errorCode(missing), 'ENOENT');
  assert.equal(errorReason(missing), 'ENOENT');
  assert.equal(errorCode(new Error('x')), undefined);
  assert.equal(errorCode({ code: 3 }), undefined);
  assert.equal(errorReason(new Error('x')), 'x');
});
