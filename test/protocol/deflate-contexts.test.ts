/**
 * The zlib contexts behind permessage-deflate (sans-I/O, real zlib): the process-wide limiter
 * (at most `concurrency` jobs at once, the first configured value wins), the pools of idle
 * contexts for messages without context takeover (bounded in total, across settings), and what
 * a connection's codec does with its contexts when it ends in the middle of a job.
 *
 * The limiter and the pools are process-wide state: this file runs in its own process (node
 * --test runs one per file) and its tests build on each other in order, counting contexts with
 * pooledContextCount().
 */
import assert from 'node:assert/strict';
import { constants, deflateRawSync } from 'node:zlib';
import { describe, test } from 'node:test';
import {
  clientPerMessageDeflate,
  ErrorCode,
  type MessageExtension,
  parseExtensionHeader,
  type PerMessageDeflateOptions,
  pooledContextCount,
  serverPerMessageDeflate,
  type WebSocketError,
} from '../../src/protocol/index.js';
import { deflateMessage, inflateMessage, jsonText, noisyBytes, TAKEOVER, TRAILER } from '../helpers/deflate-codec.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

/** The server side of permessage-deflate as agreed for `offer`. */
function agreed(offer = 'permessage-deflate', options: PerMessageDeflateOptions = {}): MessageExtension {
  const extension = serverPerMessageDeflate(options).accept(parseExtensionHeader(offer));
  assert.ok(extension !== null, `declined: ${offer}`);
  return extension;
}

/** One whole message compressed by the codec (its answer is the event waited for). */
function encoded(extension: MessageExtension, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => extension.encode(data, (error, output) => (error === null ? resolve(output!) : reject(error))));
}

/** One whole message inflated by the codec. */
function decoded(extension: MessageExtension, payload: Buffer, limit = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    extension.decode(payload, true, limit, (error, output) => (error === null ? resolve(Buffer.concat(output!)) : reject(error))),
  );
}

/** One fragment compressed by the codec. */
function fragment(extension: MessageExtension, data: Buffer, first: boolean, fin: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    extension.encodeFragment!(data, first, fin, (error, output) => (error === null ? resolve(output!) : reject(error))),
  );
}

const MESSAGE = Buffer.from(jsonText(3000));
const COMPRESSED = deflateMessage(MESSAGE);

describe('the limiter and the pools (decision: bounded zlib memory)', () => {
  test('decision: perMessageDeflate.concurrency must be a positive integer', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => serverPerMessageDeflate({ concurrency }), { code: ErrorCode.INVALID_OPTION }, `concurrency ${concurrency}`);
      assert.throws(() => clientPerMessageDeflate({ concurrency }), { code: ErrorCode.INVALID_OPTION }, `concurrency ${concurrency}`);
    }
  });

  test('decision: contexts are pooled for reuse under the default limit (10): three messages at once leave three idle contexts each way', async () => {
    assert.deepEqual(pooledContextCount(), { deflate: 0, inflate: 0 }, 'a fresh process');
    const extensions = [agreed(), agreed(), agreed()];
    const inflated = await Promise.all(extensions.map((e) => decoded(e, COMPRESSED)));
    const deflated = await Promise.all(extensions.map((e) => encoded(e, MESSAGE)));
    for (const output of inflated) assert.deepEqual(output, MESSAGE);
    for (const output of deflated) assert.deepEqual(inflateMessage(output), MESSAGE);
    assert.deepEqual(pooledContextCount(), { deflate: 3, inflate: 3 });
    for (const extension of extensions) extension.dispose();
    assert.deepEqual(pooledContextCount(), { deflate: 3, inflate: 3 }, 'pooled contexts are not the connection\'s to close');
  });

  test('decision: once concurrency 2 is configured, contexts given back beyond 2 idle ones are closed', async () => {
    agreed('permessage-deflate', { concurrency: 2 }).dispose();
    const extension = agreed();
    assert.deepEqual(await decoded(extension, COMPRESSED), MESSAGE);
    assert.deepEqual(inflateMessage(await encoded(extension, MESSAGE)), MESSAGE);
    assert.deepEqual(pooledContextCount(), { deflate: 2, inflate: 2 });
  });

  test('decision: the first configured concurrency wins: a later value does not raise the limit', async () => {
    agreed('permessage-deflate', { concurrency: 5 }).dispose();
    assert.throws(() => serverPerMessageDeflate({ concurrency: 0 }), { code: ErrorCode.INVALID_OPTION }, 'an invalid value is refused all the same');
    const extensions = [agreed(), agreed(), agreed()];
    await Promise.all(extensions.map((e) => decoded(e, COMPRESSED)));
    assert.equal(pooledContextCount().inflate, 2, 'three messages at once, at most two contexts');
  });

  test('decision: a job waiting for the limiter on a connection that ended gives its turn to the next job', async () => {
    const [a, b, ended, next] = [agreed(), agreed(), agreed(), agreed()];
    const answers: string[] = [];
    const running = [encoded(a, MESSAGE), encoded(b, MESSAGE)];
    ended.encode(MESSAGE, () => answers.push('ended encode'));
    ended.decode(COMPRESSED, true, 1 << 20, () => answers.push('ended decode'));
    ended.dispose();
    const last = encoded(next, MESSAGE).then(() => answers.push('next'));
    await Promise.all([...running, last]);
    assert.deepEqual(answers, ['next'], 'the ended connection\'s jobs ran as no-ops, in order, before the next one');
  });

  test('decision: idle contexts are bounded in total: giving one back for another setting closes one of an older setting', async () => {
    assert.equal(pooledContextCount().deflate, 2);
    const window10 = agreed('permessage-deflate; server_max_window_bits=10');
    assert.deepEqual(inflateMessage(await encoded(window10, MESSAGE), 10), MESSAGE);
    assert.equal(pooledContextCount().deflate, 2, 'still 2 idle contexts, one of each setting now');
    // The window-10 context given back is the one pooled: the next window-10 message takes it.
    const pending = encoded(window10, MESSAGE);
    assert.equal(pooledContextCount().deflate, 1);
    await pending;
    for (const bits of [12, 11, 9, 15]) {
      const extension = agreed(`permessage-deflate; server_max_window_bits=${bits}`);
      assert.deepEqual(inflateMessage(await encoded(extension, MESSAGE), bits), MESSAGE, `window bits ${bits}`);
      assert.equal(pooledContextCount().deflate, 2, `after window bits ${bits}`);
    }
  });
});

describe('a connection that ends during a zlib job (decision: no context leaks into the pool half-used)', () => {
  test('decision: disposed while a message is compressed: the answer still comes, and the context is closed, not pooled', async () => {
    const extension = agreed();
    const before = pooledContextCount().deflate;
    const pending = encoded(extension, MESSAGE);
    const during = pooledContextCount().deflate;
    assert.equal(during, before - 1, 'an idle context was taken for the message');
    extension.dispose();
    assert.deepEqual(inflateMessage(await pending), MESSAGE);
    assert.equal(pooledContextCount().deflate, during, 'not given back');
  });

  test('decision: disposed while a message is inflated: the answer still comes, and the context is closed, not pooled', async () => {
    const extension = agreed();
    const before = pooledContextCount().inflate;
    const pending = decoded(extension, COMPRESSED);
    const during = pooledContextCount().inflate;
    assert.equal(during, before - 1, 'an idle context was taken for the message');
    extension.dispose();
    assert.deepEqual(await pending, MESSAGE);
    assert.equal(pooledContextCount().inflate, during, 'not given back');
  });

  test('RFC 7692 §7.2.1: the fragments of one message share a context, given back after the last one', async () => {
    const extension = agreed();
    const pendingFirst = fragment(extension, MESSAGE.subarray(0, 1000), true, false);
    const during = pooledContextCount().deflate;
    const first = await pendingFirst;
    assert.equal(pooledContextCount().deflate, during, 'held between the fragments');
    const last = await fragment(extension, MESSAGE.subarray(1000), false, true);
    assert.equal(pooledContextCount().deflate, during + 1, 'given back after the last');
    assert.ok(first.subarray(-4).equals(TRAILER), 'a non-final fragment keeps its sync flush tail');
    assert.ok(!last.subarray(-4).equals(TRAILER), 'the last loses it');
    assert.deepEqual(inflateMessage(Buffer.concat([first, last])), MESSAGE);
    extension.dispose();
  });

  test('decision: disposed between the fragments of a message: the context it held is closed, not pooled', async () => {
    const extension = agreed();
    const before = pooledContextCount().deflate;
    await fragment(extension, MESSAGE.subarray(0, 1000), true, false);
    assert.equal(pooledContextCount().deflate, before - 1, 'the pooled context is held by the message');
    extension.dispose();
    assert.equal(pooledContextCount().deflate, before - 1, 'closed, not given back');
  });

  test('RFC 7692 §7.1.1: with context takeover, disposed mid-job or idle: both connection contexts are closed and none is pooled', async () => {
    const before = pooledContextCount();
    const busy = agreed('permessage-deflate', TAKEOVER);
    const compressedNow = encoded(busy, MESSAGE);
    const inflatedNow = decoded(busy, COMPRESSED);
    busy.dispose();
    assert.deepEqual(inflateMessage(await compressedNow), MESSAGE);
    assert.deepEqual(await inflatedNow, MESSAGE);
    const idle = agreed('permessage-deflate', TAKEOVER);
    await encoded(idle, MESSAGE);
    await decoded(idle, COMPRESSED);
    idle.dispose();
    assert.deepEqual(pooledContextCount(), before);
  });
});

describe('inflating: BFINAL blocks, empty messages, the limit (RFC 7692 §7.2.2, §7.2.3.4)', () => {
  test('RFC 7692 §7.2.3.4: after a long BFINAL message (inflated in several pieces), the next message may refer to its last 32 KiB', async () => {
    const extension = agreed('permessage-deflate', TAKEOVER);
    const first = noisyBytes(100_000, 7);
    // A peer ending its stream: Z_FINISH writes a final block (BFINAL = 1) and no sync flush tail.
    const finalBlock = deflateRawSync(first);
    assert.deepEqual(await decoded(extension, finalBlock, 1 << 20), first);
    const second = Buffer.concat([first.subarray(first.length - 20_000, first.length - 10_000), Buffer.from('end')]);
    const window = first.subarray(first.length - 32_768);
    const referring = deflateRawSync(second, { dictionary: window, finishFlush: constants.Z_SYNC_FLUSH });
    const payload = referring.subarray(0, referring.length - 4);
    assert.ok(payload.length < 1000, 'the second message is mostly references into the first');
    assert.deepEqual(await decoded(extension, payload), second);
    extension.dispose();
  });

  test('RFC 7692 §7.2.2: a compressed message whose frames are all empty inflates to an empty message (00 00 ff ff alone)', async () => {
    const extension = agreed();
    const first = await new Promise<Buffer[] | null>((resolve) => extension.decode(Buffer.alloc(0), false, 1 << 20, (_, output) => resolve(output)));
    assert.equal(first, null, 'held until the last frame');
    assert.deepEqual(await decoded(extension, Buffer.alloc(0)), Buffer.alloc(0));
    extension.dispose();
  });

  test('decision: maxPayload stops an inflate at once (WSF_ERR_MESSAGE_TOO_BIG), with or without takeover', async () => {
    for (const extension of [agreed(), agreed('permessage-deflate', TAKEOVER)]) {
      await assert.rejects(decoded(extension, COMPRESSED, 100), (error: WebSocketError) => error.code === ErrorCode.MESSAGE_TOO_BIG);
      extension.dispose();
    }
  });
});
