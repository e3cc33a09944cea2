/**
 * A connection's pending output (sans-I/O): small frames share a slab, large payloads go by
 * reference, and a piece that will wait in a socket's queue is copied out of the shared slab so
 * that a slow peer pins only its own bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutputBuffer } from '../../src/protocol/index.js';
import { detachFromSlab } from '../../src/protocol/send/output-buffer.js';
import { guardProcess } from '../helpers/process-guard.js';
import { SessionHarness } from '../helpers/session-recorder.js';

guardProcess();

describe('output pieces and the shared slab', () => {
  test('decision: a slab slice that will wait is copied out (same bytes, its own memory); a buffer of its own is kept as is', () => {
    const h = new SessionHarness('server');
    h.session.sendText('small frames go into the shared slab');
    const slice = h.session.takeOutput();
    assert.ok(Buffer.isBuffer(slice));
    assert.ok(slice.buffer.byteLength > slice.length, 'a view into a larger slab');
    const detached = detachFromSlab(slice);
    assert.notEqual(detached.buffer, slice.buffer);
    assert.deepEqual(detached, slice);
    const own = Buffer.alloc(20_000);
    assert.equal(detachFromSlab(own), own);
  });

  test('API: appending an empty buffer by reference adds nothing; take() of nothing is null', () => {
    const out = new OutputBuffer();
    out.appendReference(Buffer.alloc(0));
    assert.equal(out.length, 0);
    assert.equal(out.take(), null);
    const data = Buffer.alloc(10, 1);
    out.appendReference(data);
    assert.equal(out.take(), data, 'one piece is handed over as it is');
  });
});
