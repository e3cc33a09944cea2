/**
 * The session's sends that wait their turn (sans-I/O): behind an asynchronous compression,
 * behind a message sent in fragments, a stream waiting for its turn, and what a close does to
 * all of them (RFC 6455 §5.4: frames of one message are not interleaved with another's; §5.5:
 * control frames may be; §7.1.2: after our close, no data frame). The compression here is the
 * stepped test extension, answered by the test, so every ordering is chosen, not raced.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, PreparedMessage, ReadyState, WebSocketError } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { SessionHarness } from '../helpers/session-recorder.js';
import { reversed, SteppedExtension, withoutFragmentEncoding } from '../helpers/stepped-extension.js';
import { clientFrame, closePayload, OP, readClose, type WireFrame } from '../helpers/wire-frames.js';

guardProcess();

/** A server session with the stepped extension negotiated (messages from `threshold` bytes on are encoded). */
function steppedServer(threshold = 5): { h: SessionHarness; extension: SteppedExtension } {
  const extension = new SteppedExtension();
  extension.threshold = threshold;
  const h = new SessionHarness('server');
  h.session.setExtension(extension);
  return { h, extension };
}

/** Frames as [opcode, fin, rsv1, payload as latin1 text] for exact comparisons. */
function summary(frames: WireFrame[]): Array<[number, boolean, boolean, string]> {
  return frames.map((f) => [f.opcode, f.fin, f.rsv1, f.payload.toString('latin1')]);
}

const rev = (text: string): string => reversed(text).toString('latin1');

/** What a stream waiting in line was told: null when its turn came, else the error code. */
function streamTurns(): { turns: Array<string | null>; onTurn: (error: WebSocketError | null) => void } {
  const turns: Array<string | null> = [];
  return { turns, onTurn: (error) => turns.push(error === null ? null : error.code) };
}

describe('sends behind a compression (RFC 6455 §5.4, RFC 7692 §6)', () => {
  test('RFC 6455 §5.4: sends made while a message is being compressed wait, then go out in call order; a ping does not wait (§5.5)', () => {
    const { h, extension } = steppedServer();
    const prepared = new PreparedMessage(Buffer.from('prepared'), false, false);
    h.session.sendText('compressed first');
    h.session.sendText('plain', false);
    h.session.sendBytes(Buffer.from('bin'), true, false);
    h.session.sendPrepared(prepared);
    h.session.ping(Buffer.from('now'));
    assert.deepEqual(summary(h.sent()), [[OP.PING, true, false, 'now']]);
    assert.equal(h.session.pendingBytes, 'plain'.length + 'bin'.length + 'prepared'.length, 'waiting sends count as pending');
    extension.finishEncode();
    assert.deepEqual(summary(h.sent()), [
      [OP.TEXT, true, true, rev('compressed first')],
      [OP.TEXT, true, false, 'plain'],
      [OP.BINARY, true, false, 'bin'],
      [OP.TEXT, true, false, 'prepared'],
    ]);
    assert.equal(h.session.pendingBytes, 0);
  });

  test('RFC 7692 §6: a queued message that is compressed in turn holds the ones after it until its own encode answers', () => {
    const { h, extension } = steppedServer();
    h.session.sendBytes(Buffer.from('one-compressed'), true);
    h.session.sendBytes(Buffer.from('two-compressed'), true);
    h.session.sendText('three', false);
    extension.finishEncode();
    assert.deepEqual(summary(h.sent()), [[OP.BINARY, true, true, rev('one-compressed')]]);
    assert.equal(extension.encodes.length, 1, 'the second compression started');
    extension.finishEncode();
    assert.deepEqual(summary(h.sent()), [
      [OP.BINARY, true, true, rev('two-compressed')],
      [OP.TEXT, true, false, 'three'],
    ]);
  });

  test('RFC 7692 §6: a message below the threshold, or sent with compress=false, is sent at once and plain', () => {
    const { h, extension } = steppedServer(100);
    h.session.sendText('short');
    h.session.sendBytes(Buffer.alloc(200, 0x61), true, false);
    assert.equal(extension.encodes.length, 0);
    assert.deepEqual(summary(h.sent()), [
      [OP.TEXT, true, false, 'short'],
      [OP.BINARY, true, false, 'a'.repeat(200)],
    ]);
  });

  test('RFC 7692 §6: an extension without shouldEncodeText is asked with the UTF-8 byte length of the text', () => {
    const { h, extension } = steppedServer(4);
    h.session.sendText('éé'); // 2 UTF-16 units, 4 UTF-8 bytes
    assert.equal(extension.encodes.length, 1);
    assert.equal(extension.encodes[0]!.data.toString(), 'éé');
  });
});

describe('failures and closes while a compression runs (RFC 6455 §7.1.2, §7.1.7)', () => {
  test('RFC 6455 §7.1.2: close() while compressing: what was queued goes first, then the close; a waiting stream is told WSF_ERR_NOT_OPEN', () => {
    const { h, extension } = steppedServer();
    const stream = streamTurns();
    h.session.sendText('compressed');
    h.session.sendText('queued', false);
    h.session.reserveStream(stream.onTurn);
    h.session.close(1000, 'bye');
    assert.deepEqual(stream.turns, [ErrorCode.NOT_OPEN], 'a stream that has not started will not');
    assert.equal(h.session.readyState, ReadyState.CLOSING);
    assert.equal(h.session.closeSent, false, 'the close frame waits behind the queued messages');
    assert.throws(() => h.session.sendText('late'), { code: ErrorCode.NOT_OPEN });
    assert.deepEqual(h.sent(), []);
    extension.finishEncode();
    const frames = h.sent();
    assert.deepEqual(summary(frames.slice(0, 2)), [
      [OP.TEXT, true, true, rev('compressed')],
      [OP.TEXT, true, false, 'queued'],
    ]);
    assert.equal(frames.length, 3);
    assert.deepEqual(readClose(frames[2]!), { code: 1000, reason: 'bye' });
    assert.equal(h.session.closeSent, true);
    assert.deepEqual(h.events.filter((e) => e.type === 'close-sent'), [{ type: 'close-sent', code: 1000 }]);
  });

  test('RFC 6455 §7.1.2: close() without a code while compressing sends an empty close frame after the queue', () => {
    const { h, extension } = steppedServer();
    h.session.sendText('compressed');
    h.session.close();
    extension.finishEncode();
    const frames = h.sent();
    assert.equal(frames.length, 2);
    assert.equal(frames[1]!.opcode, OP.CLOSE);
    assert.equal(frames[1]!.payload.length, 0);
    assert.deepEqual(h.events.filter((e) => e.type === 'close-sent'), [{ type: 'close-sent', code: 1005 }]);
  });

  test('RFC 6455 §5.5.1: the peer closes while we compress: only the close is answered, queued sends are dropped, streams told', () => {
    const { h, extension } = steppedServer();
    const stream = streamTurns();
    h.session.sendText('compressed');
    h.session.sendText('queued', false);
    h.session.reserveStream(stream.onTurn);
    h.feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1001, 'away') }));
    assert.deepEqual(stream.turns, [ErrorCode.NOT_OPEN]);
    assert.deepEqual(
      h.sent().map((f) => readClose(f)),
      [{ code: 1001, reason: 'away' }],
    );
    extension.finishEncode();
    assert.deepEqual(h.sent(), [], 'no data frame after the closing handshake');
    assert.equal(h.session.readyState, ReadyState.CLOSED);
    assert.deepEqual([h.session.closeCode, h.session.closeReason], [1001, 'away']);
  });

  test('sans-I/O: the transport closes while we compress: the answer is ignored, the extension is disposed once', () => {
    const { h, extension } = steppedServer();
    h.session.sendText('compressed');
    assert.equal(h.session.transportClosed(), false, 'not a clean close');
    extension.finishEncode();
    assert.equal(h.session.takeOutput(), null);
    assert.equal(extension.disposed, 1);
    assert.equal(h.session.canCompressFragments, false, 'the extension is gone');
    assert.equal(h.session.negotiatedExtension, extension, 'what was agreed is still known');
  });

  for (const outcome of [new WebSocketError(ErrorCode.INTERNAL, 'zlib broke'), 'no output'] as const) {
    const name = outcome === 'no output' ? 'answers without output' : 'fails';
    test(`RFC 6455 §7.1.7: a compression that ${name} fails the connection with 1011 (our fault), dropping the queue`, () => {
      const { h, extension } = steppedServer();
      h.session.sendText('compressed');
      h.session.sendText('queued', false);
      extension.finishEncode(outcome);
      const frames = h.sent();
      assert.equal(frames.length, 1);
      assert.equal(readClose(frames[0]!).code, 1011);
      assert.deepEqual(h.errors, [{ type: 'error', code: ErrorCode.INTERNAL, closeCode: 1011 }]);
      assert.equal(h.session.readyState, ReadyState.CLOSED);
    });
  }
});

describe('messages in fragments and streams waiting their turn (RFC 6455 §5.4)', () => {
  test('RFC 6455 §5.4: a stream reserved behind a compression gets its turn after it; messages sent meanwhile wait for its last fragment', () => {
    const { h, extension } = steppedServer(100);
    const stream = streamTurns();
    h.session.sendText('x'.repeat(100));
    h.session.reserveStream(stream.onTurn);
    h.session.sendText('after the stream');
    assert.deepEqual(stream.turns, []);
    extension.finishEncode();
    assert.deepEqual(stream.turns, [null], 'its turn came');
    assert.equal(h.session.streamReserved, true);
    assert.equal(h.session.isStreaming, true);
    h.session.sendFragment(Buffer.from('part 1 '), false, true, false);
    assert.equal(h.session.streamReserved, false);
    h.session.sendFragment(Buffer.from('part 2'), false, false, true);
    assert.equal(h.session.isStreaming, false);
    assert.deepEqual(summary(h.sent()), [
      [OP.TEXT, true, true, rev('x'.repeat(100))],
      [OP.TEXT, false, false, 'part 1 '],
      [OP.CONTINUATION, true, false, 'part 2'],
      [OP.TEXT, true, false, 'after the stream'],
    ]);
  });

  test('RFC 6455 §5.4: two streams take turns in call order', () => {
    const h = new SessionHarness('server');
    const first = streamTurns();
    const second = streamTurns();
    h.session.reserveStream(first.onTurn);
    h.session.reserveStream(second.onTurn);
    assert.deepEqual([first.turns, second.turns], [[null], []]);
    h.session.sendFragment(Buffer.from('A'), true, true, true);
    assert.deepEqual(second.turns, [null]);
    h.session.sendFragment(Buffer.from('B'), true, true, true);
    assert.deepEqual(summary(h.sent()), [
      [OP.BINARY, true, false, 'A'],
      [OP.BINARY, true, false, 'B'],
    ]);
  });

  test('API: cancelStream() before any fragment gives the turn back; after a fragment it does nothing', () => {
    const h = new SessionHarness('server');
    const stream = streamTurns();
    h.session.reserveStream(stream.onTurn);
    h.session.sendText('waits');
    assert.deepEqual(h.sent(), []);
    h.session.cancelStream();
    assert.deepEqual(summary(h.sent()), [[OP.TEXT, true, false, 'waits']]);
    assert.equal(h.session.isStreaming, false);
    h.session.reserveStream(stream.onTurn);
    h.session.sendFragment(Buffer.from('a'), false, true, false);
    h.session.cancelStream();
    assert.equal(h.session.isStreaming, true, 'a started message cannot be taken back');
    h.session.sendFragment(Buffer.from('b'), false, false, true);
    assert.deepEqual(summary(h.sent()), [
      [OP.TEXT, false, false, 'a'],
      [OP.CONTINUATION, true, false, 'b'],
    ]);
  });

  test('API: a continuation without a fragmented message, or a second first fragment, throws WSF_ERR_INVALID_ARGUMENT', () => {
    const h = new SessionHarness('server');
    assert.throws(() => h.session.sendFragment(Buffer.from('x'), true, false, true), {
      code: ErrorCode.INVALID_ARGUMENT,
      message: 'no fragmented message in progress',
    });
    h.session.sendFragment(Buffer.from('x'), true, true, false);
    assert.throws(() => h.session.sendFragment(Buffer.from('y'), true, true, false), {
      code: ErrorCode.INVALID_ARGUMENT,
      message: 'a fragmented message is already in progress',
    });
    assert.deepEqual(summary(h.sent()), [[OP.BINARY, false, false, 'x']]);
  });

  test('RFC 6455 §5.4: a fragmented message cannot start while earlier sends wait: WSF_ERR_INVALID_ARGUMENT, nothing interleaved', () => {
    const { h, extension } = steppedServer();
    h.session.sendText('compressed first');
    assert.throws(() => h.session.sendFragment(Buffer.from('a'), false, true, false), { code: ErrorCode.INVALID_ARGUMENT });
    assert.throws(() => h.session.sendCompressedFragment(Buffer.from('a'), false, true, false, () => {}), { code: ErrorCode.INVALID_ARGUMENT });
    assert.equal(h.session.isStreaming, false);
    h.session.sendText('queued', false);
    assert.throws(() => h.session.sendFragment(Buffer.from('b'), false, true, true), { code: ErrorCode.INVALID_ARGUMENT });
    extension.finishEncode();
    assert.deepEqual(summary(h.sent()), [
      [OP.TEXT, true, true, rev('compressed first')],
      [OP.TEXT, true, false, 'queued'],
    ]);
    // Once nothing waits, a fragmented message starts at once.
    h.session.sendFragment(Buffer.from('c'), false, true, true);
    assert.deepEqual(summary(h.sent()), [[OP.TEXT, true, false, 'c']]);
  });

  test('RFC 6455 §5.4: close() cuts a fragmented message in progress, and the waiting stream is told it will not start', () => {
    const h = new SessionHarness('server');
    const waiting = streamTurns();
    h.session.sendFragment(Buffer.from('half'), false, true, false);
    h.session.reserveStream(waiting.onTurn);
    h.session.close(1001);
    assert.deepEqual(waiting.turns, [ErrorCode.NOT_OPEN]);
    const frames = h.sent();
    assert.deepEqual(summary(frames.slice(0, 1)), [[OP.TEXT, false, false, 'half']]);
    assert.equal(readClose(frames[1]!).code, 1001);
    assert.throws(() => h.session.sendFragment(Buffer.from('rest'), false, false, true), { code: ErrorCode.NOT_OPEN });
  });
});

describe('compressed fragments (RFC 7692 §6.1)', () => {
  test('RFC 7692 §6.1: RSV1 on the first fragment only, each fragment the encoder\'s output; messages after wait for the last', () => {
    const { h, extension } = steppedServer();
    assert.equal(h.session.canCompressFragments, true);
    const done: Array<string | null> = [];
    h.session.reserveStream(() => {});
    h.session.sendCompressedFragment(Buffer.from('first'), true, true, false, (error) => done.push(error?.code ?? null));
    h.session.sendText('after', false);
    assert.deepEqual(extension.encodes.map((e) => e.fragment), [{ first: true, fin: false }]);
    extension.finishEncode();
    h.session.sendCompressedFragment(Buffer.from('last'), true, false, true, (error) => done.push(error?.code ?? null));
    extension.finishEncode();
    assert.deepEqual(done, [null, null]);
    assert.deepEqual(summary(h.sent()), [
      [OP.BINARY, false, true, rev('first')],
      [OP.CONTINUATION, true, false, rev('last')],
      [OP.TEXT, true, false, 'after'],
    ]);
  });

  test('RFC 6455 §5.5.1: a fragment whose compression ends after our close is not sent; its callback gets WSF_ERR_NOT_OPEN', () => {
    const { h, extension } = steppedServer();
    const done: Array<string | null> = [];
    h.session.sendCompressedFragment(Buffer.from('late'), false, true, true, (error) => done.push(error?.code ?? null));
    h.session.close(1000);
    extension.finishEncode();
    assert.deepEqual(done, [ErrorCode.NOT_OPEN]);
    assert.deepEqual(
      h.sent().map((f) => f.opcode),
      [OP.CLOSE],
    );
  });

  test('sans-I/O: a fragment whose compression ends after the transport closed is not sent either', () => {
    const { h, extension } = steppedServer();
    const done: Array<string | null> = [];
    h.session.sendCompressedFragment(Buffer.from('late'), false, true, true, (error) => done.push(error?.code ?? null));
    h.session.transportClosed();
    extension.finishEncode();
    assert.deepEqual(done, [ErrorCode.NOT_OPEN]);
    assert.equal(h.session.takeOutput(), null);
  });

  for (const outcome of [new WebSocketError(ErrorCode.INTERNAL, 'zlib broke'), 'no output'] as const) {
    test(`RFC 6455 §7.1.7: a fragment compression that ${outcome === 'no output' ? 'gives no output' : 'fails'} fails the connection with 1011 and the callback`, () => {
      const { h, extension } = steppedServer();
      const done: Array<string | null> = [];
      h.session.sendCompressedFragment(Buffer.from('x'), false, true, true, (error) => done.push(error?.code ?? null));
      extension.finishEncode(outcome);
      assert.deepEqual(done, [ErrorCode.INTERNAL]);
      assert.equal(readClose(h.sent()[0]!).code, 1011);
      assert.deepEqual(h.errors, [{ type: 'error', code: ErrorCode.INTERNAL, closeCode: 1011 }]);
    });
  }

  test('RFC 7692 §6.1: an extension without encodeFragment cannot compress fragments; none negotiated, neither', () => {
    const h = new SessionHarness('server');
    assert.equal(h.session.canCompressFragments, false);
    h.session.setExtension(withoutFragmentEncoding(new SteppedExtension()));
    assert.equal(h.session.canCompressFragments, false);
    h.session.setExtension(new SteppedExtension());
    assert.equal(h.session.canCompressFragments, true);
    h.session.setExtension(null);
    assert.equal(h.session.canCompressFragments, false);
    assert.equal(h.session.negotiatedExtension, null);
  });
});
