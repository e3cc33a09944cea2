/**
 * Prepared messages (sans-I/O): a message framed once and written to many connections
 * (uWebSockets' prepared messages, ws#617), compressed once per permessage-deflate setting
 * when no context takeover is agreed (RFC 7692 §7.1.1), the connections that wait for that
 * compression, and its failure. Clients frame it themselves (RFC 6455 §5.3: a fresh mask each).
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  clientPerMessageDeflate,
  ErrorCode,
  formatExtension,
  type MessageExtension,
  parseExtensionHeader,
  type PerMessageDeflateOptions,
  PreparedMessage,
  ReadyState,
  serverPerMessageDeflate,
  type SharedEncoding,
  WebSocketError,
} from '../../src/protocol/index.js';
import { inflateMessage, jsonText, TAKEOVER, WindowedInflater } from '../helpers/deflate-codec.js';
import { isSharedFrame } from '../../src/protocol/frame/prepared.js';
import { guardProcess } from '../helpers/process-guard.js';
import { SessionHarness } from '../helpers/session-recorder.js';
import { reversed, SteppedExtension, SteppedSharedEncoding } from '../helpers/stepped-extension.js';
import { waitUntil } from '../helpers/timing.js';
import { encodeWireFrame, OP, parseWireFrames, readClose } from '../helpers/wire-frames.js';

guardProcess();

/** Everything a session has to write, as one Buffer when it is one piece (to check identity). */
function output(h: SessionHarness): Buffer | Buffer[] | null {
  return h.session.takeOutput();
}

/** A server session with permessage-deflate as agreed for `offer`. */
function deflateServer(t: TestContext, offer: string, options: PerMessageDeflateOptions = {}): { h: SessionHarness; extension: MessageExtension } {
  const extension = serverPerMessageDeflate(options).accept(parseExtensionHeader(offer));
  assert.ok(extension !== null);
  t.after(() => extension.dispose());
  const h = new SessionHarness('server');
  h.session.setExtension(extension);
  return { h, extension };
}

/** Resolves once the message's compressed frame for `encoding` is made (waiters are told in order: sessions first). */
function compressed(message: PreparedMessage, encoding: SharedEncoding): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    message.requestCompressedFrame(encoding, { compressedFrameReady: (frame, error) => (frame === null ? reject(error) : resolve(frame)) }),
  );
}

describe('framed once (RFC 6455 §5.2)', () => {
  test('RFC 6455 §5.2: a prepared message is one unmasked FIN frame of its payload, text or binary, minimal length', () => {
    const text = new PreparedMessage(Buffer.from('hello'), false, true);
    assert.deepEqual(text.frame, encodeWireFrame({ opcode: OP.TEXT, payload: 'hello', mask: null }));
    const big = Buffer.alloc(70_000, 7);
    const binary = new PreparedMessage(big, true, false);
    assert.deepEqual(binary.frame, encodeWireFrame({ opcode: OP.BINARY, payload: big, mask: null }));
    assert.equal(binary.compressedFrameFor('any setting'), null, 'nothing compressed until asked');
  });

  test('uWS prepared messages: server sessions write the prepared Buffer itself, by reference, for every connection', () => {
    const message = new PreparedMessage(Buffer.from('to everyone'), false, true);
    const a = new SessionHarness('server');
    const b = new SessionHarness('server');
    a.session.sendPrepared(message);
    b.session.sendPrepared(message);
    assert.equal(output(a), message.frame);
    assert.equal(output(b), message.frame);
    // Behind other output it stays one piece of its own.
    a.session.sendText('before');
    a.session.sendPrepared(message);
    const pieces = output(a);
    assert.ok(Array.isArray(pieces));
    assert.equal(pieces[1], message.frame);
    assert.deepEqual(parseWireFrames(Buffer.concat(pieces)).map((f) => f.payload.toString()), ['before', 'to everyone']);
  });

  test('RFC 6455 §5.3: a client session frames a prepared message itself, masked, with the same payload', () => {
    const message = new PreparedMessage(Buffer.from([1, 2, 3]), true, false);
    const h = new SessionHarness('client');
    h.session.sendPrepared(message);
    const [frame] = h.sent();
    assert.ok(frame !== undefined);
    assert.deepEqual([frame.opcode, frame.masked, [...frame.payload]], [OP.BINARY, true, [1, 2, 3]]);
  });
});

describe('shared frames (decision: budgets count a prepared frame once)', () => {
  test('decision: prepared frames, plain and compressed, are known as shared (memory budgets count them once); other buffers are not', async () => {
    const shared = new SteppedSharedEncoding('x-stepped:shared-frames');
    const message = new PreparedMessage(Buffer.from('counted once'), false, true);
    assert.equal(isSharedFrame(message.frame), true);
    const pending = compressed(message, shared);
    shared.finish();
    assert.equal(isSharedFrame(await pending), true);
    assert.equal(isSharedFrame(Buffer.from(message.frame)), false, 'a copy is a connection\'s own');
  });
});

describe('compressed once per setting (RFC 7692 §7.1.1, no context takeover)', () => {
  test('RFC 7692 §7.1.1: connections that agreed the same setting get the same compressed frame; another setting gets its own', async (t) => {
    const payload = Buffer.from(jsonText(4000));
    const message = new PreparedMessage(payload, false, true);
    const a = deflateServer(t, 'permessage-deflate');
    const b = deflateServer(t, 'permessage-deflate');
    const small = deflateServer(t, 'permessage-deflate; server_max_window_bits=10');
    const key = a.extension.sharedEncoding!.key;
    const smallKey = small.extension.sharedEncoding!.key;
    assert.equal(b.extension.sharedEncoding!.key, key);
    assert.notEqual(smallKey, key);
    for (const { h } of [a, b, small]) h.session.sendPrepared(message);
    assert.equal(a.h.session.takeOutput(), null, 'the frame is being compressed');
    const [frame, smallFrame] = await Promise.all([compressed(message, a.extension.sharedEncoding!), compressed(message, small.extension.sharedEncoding!)]);
    assert.equal(message.compressedFrameFor(key), frame);
    assert.equal(output(a.h), frame, 'the shared compressed frame, by reference');
    assert.equal(output(b.h), frame);
    assert.equal(output(small.h), smallFrame);
    const [parsed] = parseWireFrames(frame);
    assert.deepEqual([parsed!.opcode, parsed!.rsv1, parsed!.fin], [OP.TEXT, true, true]);
    assert.deepEqual(inflateMessage(parsed!.payload), payload);
    assert.deepEqual(inflateMessage(parseWireFrames(smallFrame)[0]!.payload, 10), payload, 'made with a 1 KiB window');
    // A connection asking once it is made writes it at once.
    const late = deflateServer(t, 'permessage-deflate');
    late.h.session.sendPrepared(message);
    assert.equal(output(late.h), frame);
  });

  test('RFC 7692 §6: compress=false, or a message below the threshold, goes as the plain prepared frame', (t) => {
    const { h } = deflateServer(t, 'permessage-deflate');
    const notCompressed = new PreparedMessage(Buffer.from(jsonText(4000)), false, false);
    h.session.sendPrepared(notCompressed);
    assert.equal(output(h), notCompressed.frame);
    const short = new PreparedMessage(Buffer.from('short'), false, true);
    h.session.sendPrepared(short);
    assert.equal(output(h), short.frame);
  });

  test('RFC 7692 §7.1.1.1: with server context takeover each connection compresses the prepared message in its own stream', async (t) => {
    const payload = Buffer.from(jsonText(3000));
    const message = new PreparedMessage(payload, false, true);
    const sessions = [deflateServer(t, 'permessage-deflate', TAKEOVER), deflateServer(t, 'permessage-deflate', TAKEOVER)];
    for (const { h, extension } of sessions) {
      assert.equal(extension.sharedEncoding ?? null, null, 'nothing to share: the stream is the connection\'s');
      h.session.sendPrepared(message);
      h.session.sendPrepared(message);
    }
    for (const { h } of sessions) {
      const frames: ReturnType<SessionHarness['sent']> = [];
      await waitUntil(
        () => {
          frames.push(...h.sent());
          return frames.length >= 2;
        },
        3000,
        'both prepared messages compressed',
      );
      const inflater = new WindowedInflater(true);
      assert.deepEqual(
        frames.map((f) => [f.rsv1, inflater.message(f.payload).equals(payload)]),
        [
          [true, true],
          [true, true],
        ],
      );
      assert.ok(frames[1]!.payload.length < frames[0]!.payload.length, 'the second refers to the first (same stream)');
    }
  });

  test('RFC 7692 §6 / RFC 6455 §5.3: a client compresses a prepared message itself and masks it', async (t) => {
    const factory = clientPerMessageDeflate();
    const server = serverPerMessageDeflate().accept(parseExtensionHeader(factory.offer().map(formatExtension).join(', ')));
    assert.ok(server !== null);
    server.dispose();
    const extension = factory.accept(server.agreed);
    t.after(() => extension.dispose());
    const h = new SessionHarness('client');
    h.session.setExtension(extension);
    const payload = Buffer.from(jsonText(2000));
    h.session.sendPrepared(new PreparedMessage(payload, false, true));
    let frames: ReturnType<SessionHarness['sent']> = [];
    await waitUntil(() => (frames = h.sent()).length > 0, 3000, 'the compressed frame');
    assert.deepEqual([frames[0]!.masked, frames[0]!.rsv1], [true, true]);
    assert.deepEqual(inflateMessage(frames[0]!.payload), payload);
  });
});

describe('waiting for the compressed frame (a stepped shared encoder)', () => {
  function steppedServers(count: number): { shared: SteppedSharedEncoding; sessions: SessionHarness[] } {
    const shared = new SteppedSharedEncoding('x-stepped:shared');
    const sessions = Array.from({ length: count }, () => {
      const h = new SessionHarness('server');
      h.session.setExtension(new SteppedExtension(shared));
      return h;
    });
    return { shared, sessions };
  }

  test('RFC 6455 §5.4: sends after a prepared message wait for its compression; connections asking meanwhile share that one compression', () => {
    const { shared, sessions } = steppedServers(2);
    const [a, b] = sessions as [SessionHarness, SessionHarness];
    const message = new PreparedMessage(Buffer.from('shared'), true, true);
    a.session.sendPrepared(message);
    a.session.sendText('after', false);
    b.session.sendPrepared(message);
    assert.equal(shared.held.length, 1, 'compressed once');
    assert.deepEqual(a.sent(), []);
    shared.finish();
    const compressedFrame = message.compressedFrameFor(shared.key);
    assert.ok(compressedFrame !== null);
    const pieces = output(a);
    assert.ok(Array.isArray(pieces));
    assert.equal(pieces[0], compressedFrame);
    assert.deepEqual(
      parseWireFrames(Buffer.concat(pieces)).map((f) => [f.opcode, f.rsv1, f.payload.toString('latin1')]),
      [
        [OP.BINARY, true, reversed('shared').toString('latin1')],
        [OP.TEXT, false, 'after'],
      ],
    );
    assert.equal(output(b), compressedFrame);
  });

  for (const outcome of [new WebSocketError(ErrorCode.INTERNAL, 'zlib broke'), 'no output'] as const) {
    test(`RFC 6455 §7.1.7: a compression that ${outcome === 'no output' ? 'gives no output' : 'fails'} fails every waiting connection with 1011; one asking later fails at once`, () => {
      const { shared, sessions } = steppedServers(3);
      const [a, b, late] = sessions as [SessionHarness, SessionHarness, SessionHarness];
      const message = new PreparedMessage(Buffer.from('doomed'), false, true);
      a.session.sendPrepared(message);
      b.session.sendPrepared(message);
      shared.finish(outcome);
      for (const h of [a, b]) {
        assert.deepEqual(h.sent().map(readClose), [{ code: 1011, reason: '' }]);
        assert.deepEqual(h.errors, [{ type: 'error', code: ErrorCode.INTERNAL, closeCode: 1011 }]);
      }
      late.session.sendPrepared(message);
      assert.equal(shared.held.length, 0, 'not compressed again');
      assert.deepEqual(late.sent().map((f) => readClose(f).code), [1011]);
      assert.equal(late.session.readyState, ReadyState.CLOSED);
    });
  }

  test('RFC 6455 §7.1.2: close() while the prepared message is compressed: the message goes first, then the close', () => {
    const { shared, sessions } = steppedServers(1);
    const [h] = sessions as [SessionHarness];
    h.session.sendPrepared(new PreparedMessage(Buffer.from('last words'), false, true));
    h.session.close(1001, 'going away');
    assert.deepEqual(h.sent(), []);
    shared.finish();
    const frames = h.sent();
    assert.deepEqual(frames.map((f) => [f.opcode, f.rsv1]), [
      [OP.TEXT, true],
      [OP.CLOSE, false],
    ]);
    assert.deepEqual(readClose(frames[1]!), { code: 1001, reason: 'going away' });
  });

  test('sans-I/O: a connection whose transport closed while it waited writes nothing; the others still get the frame', () => {
    const { shared, sessions } = steppedServers(2);
    const [gone, alive] = sessions as [SessionHarness, SessionHarness];
    const message = new PreparedMessage(Buffer.from('for the living'), false, true);
    gone.session.sendPrepared(message);
    alive.session.sendPrepared(message);
    gone.session.transportClosed();
    shared.finish();
    assert.equal(gone.session.takeOutput(), null);
    assert.equal(output(alive), message.compressedFrameFor(shared.key));
  });

  test('RFC 6455 §5.5.1: a peer close arriving while the frame is compressed: only the close is answered', () => {
    const { shared, sessions } = steppedServers(1);
    const [h] = sessions as [SessionHarness];
    h.session.sendPrepared(new PreparedMessage(Buffer.from('too late'), false, true));
    h.session.sendText('queued too', false);
    h.feed(encodeWireFrame({ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xe8]), mask: Buffer.from([1, 2, 3, 4]) }));
    shared.finish();
    assert.deepEqual(h.sent().map(readClose), [{ code: 1000, reason: '' }]);
  });
});
