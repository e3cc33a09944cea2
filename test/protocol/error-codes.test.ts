/**
 * The one table from errors to close codes (RFC 6455 §7.4.1: protocol error 1002, invalid data
 * 1007, policy 1008, too big 1009, internal 1011) and the generic reasons sent with them (never
 * internal details), and what a WebSocketError carries.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closeCodeForError, closeReasonForError, ErrorCode, WebSocketError } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

describe('close codes for errors (RFC 6455 §7.4.1)', () => {
  const table: Array<[ErrorCode, number, string]> = [
    [ErrorCode.RESERVED_BITS, 1002, 'protocol error'],
    [ErrorCode.INVALID_OPCODE, 1002, 'protocol error'],
    [ErrorCode.MASK_REQUIRED, 1002, 'protocol error'],
    [ErrorCode.INVALID_CLOSE_CODE, 1002, 'protocol error'],
    [ErrorCode.INVALID_UTF8, 1007, 'invalid UTF-8'],
    [ErrorCode.INVALID_COMPRESSED_DATA, 1007, 'invalid compressed data'],
    [ErrorCode.BUFFERED_AMOUNT_EXCEEDED, 1008, 'slow consumer'],
    [ErrorCode.MESSAGE_TOO_BIG, 1009, 'message too big'],
    [ErrorCode.TOO_MANY_FRAGMENTS, 1009, 'too many fragments'],
    [ErrorCode.IDLE_TIMEOUT, 1001, ''],
    [ErrorCode.INTERNAL, 1011, ''],
    [ErrorCode.KEEPALIVE_TIMEOUT, 1011, ''],
    [ErrorCode.LISTENER_THREW, 1011, ''],
    // Not failures of an open connection: 1011 if one ever reaches a close frame.
    [ErrorCode.NOT_OPEN, 1011, ''],
    [ErrorCode.HANDSHAKE_STATUS, 1011, ''],
  ];
  for (const [code, closeCode, reason] of table) {
    test(`RFC 6455 §7.4.1: ${code} closes ${closeCode} with reason ${JSON.stringify(reason)}`, () => {
      assert.equal(closeCodeForError(code), closeCode);
      assert.equal(closeReasonForError(code), reason);
      assert.equal(new WebSocketError(code, 'details stay local').closeCode, closeCode);
    });
  }
});

describe('WebSocketError', () => {
  test('API: code, message, name, an explicit close code, the cause and a refusal response are kept', () => {
    const cause = new Error('root');
    const response = { status: 401, statusText: 'Unauthorized', headers: { 'www-authenticate': 'Bearer' }, body: 'sign in' };
    const error = new WebSocketError(ErrorCode.HANDSHAKE_STATUS, 'refused', { cause, closeCode: 4000, response });
    assert.deepEqual([error.name, error.code, error.message, error.closeCode, error.cause, error.response], ['WebSocketError', ErrorCode.HANDSHAKE_STATUS, 'refused', 4000, cause, response]);
    assert.ok(error instanceof Error);
    const bare = new WebSocketError(ErrorCode.INVALID_UTF8, 'bad');
    assert.deepEqual([bare.cause, bare.response, 'cause' in bare], [undefined, undefined, false]);
  });
});
