/**
 * permessage-deflate (RFC 7692) over real loopback sockets: the exact Sec-WebSocket-Extensions
 * headers (a raw TCP client against WebSocketServer, a raw TCP fake server against connect()),
 * the bytes on the wire (RSV1, the removed 00 00 ff ff tail, fragments, control frames), what a
 * peer's compressed frames produce (messages, close 1002/1007/1009), context takeover sizes, and
 * the shared zlib contexts after many connections.
 *
 * Compressed bytes are produced and checked with node:zlib, never with the library's code.
 */
import assert from 'node:assert/strict';
import { constants, inflateRawSync } from 'node:zlib';
import { after, beforeEach, describe, test, type TestContext } from 'node:test';
import { connect, type ConnectOptions, type WebSocket } from '../../src/index.js';
import { ErrorCode, type PerMessageDeflateOptions, pooledContextCount, WebSocketError } from '../../src/protocol/index.js';
import { startFakeServer, switchingProtocols } from '../helpers/fake-server.js';
import {
  deflateMessage, inflateMessage, jsonText, noisyBytes, TAKEOVER, TakeoverDeflater, TRAILER, WindowedInflater,
} from '../helpers/deflate-codec.js';
import { paramSet } from '../helpers/extension-params.js';
import { hexBytes } from '../helpers/hex-bytes.js';
import { guardProcess } from '../helpers/process-guard.js';
import { exchange, headerValue, type HttpHead, openRaw, type RawPeer, upgradeRequest } from '../helpers/raw-peer.js';
import { echo, SERVER_MODES, startServer, type RunningServer, type ServerMode } from '../helpers/server-fixture.js';
import { nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';
import { OP, readClose, serverFrame, type WireFrame } from '../helpers/wire-frames.js';
import { seededRandom } from '../helpers/seeded-random.js';

guardProcess();

// ---------------------------------------------------------------------------------------------- helpers

const DEFAULT_RESPONSE = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';

/** The response's Sec-WebSocket-Extensions: one header line at most, compared as a parameter set. */
function assertExtensionsHeader(head: HttpHead, expected: string | null, what = ''): void {
  const lines = head.headers.get('sec-websocket-extensions') ?? [];
  assert.ok(lines.length <= 1, `at most one Sec-WebSocket-Extensions line ${what}:\n${head.raw}`);
  assert.deepEqual(paramSet(lines[0]), paramSet(expected), `${what}\n${head.raw}`);
}

async function deflateServer(t: TestContext, perMessageDeflate: boolean | PerMessageDeflateOptions, extra: object = {}, mode: ServerMode = 'listen'): Promise<RunningServer> {
  const server = await startServer({ perMessageDeflate, ...extra }, mode);
  t.after(() => server.stop());
  return server;
}

/** A raw client that offers `offer` (null: no header); the server's WebSocket too. */
async function rawClient(t: TestContext, server: RunningServer, offer: string | null): Promise<{ peer: RawPeer; head: HttpHead; ws: WebSocket }> {
  const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 3000);
  const { peer, head } = await openRaw(server.port, { extra: offer === null ? [] : [`Sec-WebSocket-Extensions: ${offer}`] });
  t.after(() => peer.destroy());
  const [ws] = await connection;
  return { peer, head, ws };
}

/** connect() against a fake server answering `answer` (null: no header); resolves the pieces. */
async function clientAgainstFake(t: TestContext, options: ConnectOptions, answer: string | null) {
  const fake = await startFakeServer();
  t.after(() => fake.close());
  const connecting = connect(`ws://127.0.0.1:${fake.port}/`, options);
  connecting.catch(() => {});
  const peer = await fake.nextPeer();
  const request = await peer.readHead();
  peer.write(switchingProtocols(request, { lines: answer === null ? [] : [`Sec-WebSocket-Extensions: ${answer}`] }));
  return { fake, peer, request, connecting };
}

async function openClient(t: TestContext, options: ConnectOptions, answer: string | null): Promise<{ ws: WebSocket; peer: RawPeer; request: HttpHead }> {
  const { peer, request, connecting } = await clientAgainstFake(t, options, answer);
  const ws = await withTimeout(connecting, 3000, 'connect()');
  t.after(() => ws.terminate());
  ws.on('error', () => {});
  peer.startFrames();
  return { ws, peer, request };
}

/** Send a frame as a client would (masked). */
function sendMasked(peer: RawPeer, spec: { opcode: number; payload?: Buffer | string; fin?: boolean; rsv1?: boolean }): void {
  peer.sendClientFrame(spec);
}

async function nextData(peer: RawPeer, ms = 3000): Promise<WireFrame> {
  for (;;) {
    const frame = await peer.nextFrame(ms);
    if (frame.opcode !== OP.PING && frame.opcode !== OP.PONG) return frame;
  }
}

/** The peer failed the connection: a close frame with `code` (no RSV1), then TCP closed. */
async function expectClose(peer: RawPeer, code: number): Promise<void> {
  const close = await peer.closeFrame(3000);
  assert.equal(close.code, code, `close ${close.code} ${close.reason}`);
  await peer.waitEnd(3000);
}

// ---------------------------------------------------------------------------------------------- server negotiation

describe('server negotiation on the wire (RFC 7692 §5, §7.1)', () => {
  for (const mode of SERVER_MODES) {
    test(`RFC 7692 §7.1.1 decision: perMessageDeflate: true answers "${DEFAULT_RESPONSE}" in the 101, and ws.extensions says so (${mode})`, async (t) => {
      const server = await deflateServer(t, true, {}, mode);
      const { head, ws } = await rawClient(t, server, 'permessage-deflate; client_max_window_bits');
      assertExtensionsHeader(head, DEFAULT_RESPONSE);
      assert.deepEqual(paramSet(ws.extensions), paramSet(DEFAULT_RESPONSE));
    });

    test(`RFC 6455 §9.1: a malformed Sec-WebSocket-Extensions header → 400 (${mode})`, async (t) => {
      const server = await deflateServer(t, true, {}, mode);
      for (const header of ['permessage-deflate; =10', 'permessage-deflate;', 'permessage-deflate; a="b c"', 'permessage-deflate x']) {
        const response = await exchange(server.port, upgradeRequest({ extra: [`Sec-WebSocket-Extensions: ${header}`] }));
        assert.equal(response.head.status, 400, `${header}:\n${response.head.raw}`);
        assert.equal(headerValue(response.head, 'sec-websocket-accept'), undefined);
      }
    });
  }

  const table: Array<[string, PerMessageDeflateOptions, string, string | null]> = [
    ['§7.1.2.1: server_max_window_bits=10 offered → 10', {}, 'permessage-deflate; server_max_window_bits=10', `${DEFAULT_RESPONSE}; server_max_window_bits=10`],
    ['§7.1.2.1: configured serverMaxWindowBits 11, not offered → answered', { serverMaxWindowBits: 11 }, 'permessage-deflate', `${DEFAULT_RESPONSE}; server_max_window_bits=11`],
    ['§7.1.2.2: bare client_max_window_bits, configured 10 → 10', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits', `${DEFAULT_RESPONSE}; client_max_window_bits=10`],
    ['§7.1.2.2: client_max_window_bits=12, configured 10 → 10', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=12', `${DEFAULT_RESPONSE}; client_max_window_bits=10`],
    ['§7.1.2.2: client_max_window_bits not offered → never answered', { clientMaxWindowBits: 10 }, 'permessage-deflate', DEFAULT_RESPONSE],
    ['§7.1.1: takeover allowed, nothing offered → no parameter', TAKEOVER, 'permessage-deflate', 'permessage-deflate'],
    ['§7.1.1.1: takeover allowed, server_no_context_takeover offered → granted', TAKEOVER, 'permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'],
    ['§5: first acceptable offer in the client\'s order', {}, 'permessage-deflate; server_max_window_bits=08, permessage-deflate; server_max_window_bits=9', `${DEFAULT_RESPONSE}; server_max_window_bits=9`],
    ['§7.1: an unknown parameter → no extension', {}, 'permessage-deflate; foo', null],
    ['§7.1: a parameter twice → no extension', {}, 'permessage-deflate; client_no_context_takeover; client_no_context_takeover', null],
    ['§7.1: a value on client_no_context_takeover → no extension', {}, 'permessage-deflate; client_no_context_takeover=yes', null],
    ['§7.1: server_max_window_bits=16 → no extension', {}, 'permessage-deflate; server_max_window_bits=16', null],
    ['§7.1: client_max_window_bits=x → no extension', {}, 'permessage-deflate; client_max_window_bits=x', null],
    ['decision: acceptOffer returning false → no extension', { acceptOffer: () => false }, 'permessage-deflate', null],
  ];
  for (const [rule, options, offer, expected] of table) {
    test(`RFC 7692 ${rule} (exact 101 header)`, async (t) => {
      const server = await deflateServer(t, options);
      const { head, ws } = await rawClient(t, server, offer);
      assertExtensionsHeader(head, expected, `offer: ${offer}`);
      if (expected === null) assert.equal(ws.extensions, '');
      else assert.deepEqual(paramSet(ws.extensions), paramSet(expected));
    });
  }

  test('RFC 7692 §5 / RFC 6455 §9.1: an offer without acceptable element: 101 without the header, messages plain, RSV1 from the client → 1002', async (t) => {
    const server = await deflateServer(t, true);
    echo(server.wss);
    const { peer, head } = await rawClient(t, server, 'permessage-deflate; server_max_window_bits=16');
    assertExtensionsHeader(head, null);
    sendMasked(peer, { opcode: OP.TEXT, payload: jsonText(4096) });
    const frame = await nextData(peer);
    assert.ok(!frame.rsv1, 'no compression without the extension');
    assert.equal(frame.payload.toString(), jsonText(4096));
    sendMasked(peer, { opcode: OP.TEXT, rsv1: true, payload: deflateMessage('Hello') });
    await expectClose(peer, 1002);
  });

  test('RFC 6455 §9.1: a server without perMessageDeflate ignores the offer (no header in the 101)', async (t) => {
    const server = await startServer({});
    t.after(() => server.stop());
    const { head, ws } = await rawClient(t, server, 'permessage-deflate; client_max_window_bits');
    assertExtensionsHeader(head, null);
    assert.equal(ws.extensions, '');
  });

  test('decision: ws.extensions keeps the agreed element after the connection closed (server side)', async (t) => {
    const server = await deflateServer(t, true);
    const { peer, ws } = await rawClient(t, server, 'permessage-deflate');
    const closed = nextEvent(ws, 'close', 3000);
    peer.sendClose(1000);
    await closed;
    assert.deepEqual(paramSet(ws.extensions), paramSet(DEFAULT_RESPONSE));
  });
});

// ---------------------------------------------------------------------------------------------- client negotiation

describe('client negotiation on the wire (RFC 7692 §5, §7.1)', () => {
  test('RFC 7692 §7.1.2.2: connect(url, { perMessageDeflate: true }) offers exactly "permessage-deflate; client_max_window_bits"', async (t) => {
    const { request, peer } = await clientAgainstFake(t, { perMessageDeflate: true }, null);
    assert.deepEqual(request.headers.get('sec-websocket-extensions'), ['permessage-deflate; client_max_window_bits']);
    peer.destroy();
  });

  test('RFC 7692 §7.1: requested parameters are offered', async (t) => {
    const { request, peer } = await clientAgainstFake(
      t,
      { perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 } },
      null,
    );
    const lines = request.headers.get('sec-websocket-extensions') ?? [];
    assert.equal(lines.length, 1);
    assert.deepEqual(
      paramSet(lines[0]),
      paramSet('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12'),
    );
    peer.destroy();
  });

  test('RFC 6455 §9.1: without perMessageDeflate the client offers nothing', async (t) => {
    const { request, peer } = await clientAgainstFake(t, {}, null);
    assert.equal(request.headers.get('sec-websocket-extensions'), undefined);
    peer.destroy();
  });

  test('RFC 7692 §5: a 101 without the header: the connection opens without compression', async (t) => {
    const { ws, peer } = await openClient(t, { perMessageDeflate: true }, null);
    assert.equal(ws.extensions, '');
    ws.send(jsonText(4096));
    const frame = await nextData(peer);
    assert.ok(!frame.rsv1);
  });

  test('decision: ws.extensions shows the agreed element and keeps it after close (client side)', async (t) => {
    const { ws, peer } = await openClient(t, { perMessageDeflate: true }, DEFAULT_RESPONSE);
    assert.equal(ws.extensions, DEFAULT_RESPONSE);
    const closed = nextEvent(ws, 'close', 3000);
    peer.write(serverFrame({ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xe8]) }));
    await peer.closeFrame(3000);
    peer.destroy();
    await closed;
    assert.equal(ws.extensions, DEFAULT_RESPONSE);
  });

  const refused: Array<[string, PerMessageDeflateOptions | true, string]> = [
    ['RFC 6455 §9.1: an extension that was not offered', true, 'x-webkit-deflate-frame'],
    ['RFC 6455 §9.1: permessage-deflate twice', true, 'permessage-deflate, permessage-deflate'],
    ['RFC 7692 §7.1: an unknown parameter', true, 'permessage-deflate; foo=1'],
    ['RFC 7692 §7.1: a duplicated parameter', true, 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['RFC 7692 §7.1.2.2: client_max_window_bits without a value', true, 'permessage-deflate; client_max_window_bits'],
    ['RFC 7692 §7.1.2.2: client_max_window_bits above the offered value', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=12'],
    ['RFC 7692 §7.1.2.1: server_max_window_bits above the requested value', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=12'],
    ['RFC 7692 §7.1.2.1: an invalid server_max_window_bits', true, 'permessage-deflate; server_max_window_bits=16'],
    ['RFC 7692 §7.1.1.1: server_no_context_takeover missing though requested', { serverNoContextTakeover: true }, 'permessage-deflate'],
  ];
  for (const [rule, option, answer] of refused) {
    test(`${rule}: "${answer}" → WSF_ERR_HANDSHAKE_EXTENSION, the client closes the TCP connection`, async (t) => {
      const { peer, connecting } = await clientAgainstFake(t, { perMessageDeflate: option }, answer);
      await assert.rejects(
        withTimeout(connecting, 3000, 'connect()'),
        (error: unknown) => error instanceof WebSocketError && error.code === ErrorCode.HANDSHAKE_EXTENSION,
      );
      await peer.waitEnd(3000);
    });
  }

  test('RFC 6455 §9.1: a permessage-deflate response to a client that offered nothing → WSF_ERR_HANDSHAKE_EXTENSION', async (t) => {
    const { connecting } = await clientAgainstFake(t, {}, 'permessage-deflate');
    await assert.rejects(withTimeout(connecting, 3000, 'connect()'), (error: unknown) => error instanceof WebSocketError && error.code === ErrorCode.HANDSHAKE_EXTENSION);
  });
});

// ---------------------------------------------------------------------------------------------- what is sent

describe('framing on the wire (RFC 7692 §6, §7.2.1)', () => {
  test('RFC 7692 §6.1/§7.2.1: the server sends 1024 bytes and more with RSV1, raw DEFLATE without the tail; 1023 bytes plain', async (t) => {
    const server = await deflateServer(t, true);
    const { peer, ws } = await rawClient(t, server, 'permessage-deflate');
    const big = jsonText(1024);
    const binary = noisyBytes(5000, 1);
    ws.send(big);
    ws.send(jsonText(1023));
    ws.send(binary);
    const [a, b, c] = [await nextData(peer), await nextData(peer), await nextData(peer)];
    assert.deepEqual([a.opcode, a.rsv1, a.fin], [OP.TEXT, true, true]);
    assert.ok(!a.payload.subarray(-4).equals(TRAILER));
    assert.equal(inflateMessage(a.payload).toString(), big);
    assert.deepEqual([b.opcode, b.rsv1, b.payload.toString()], [OP.TEXT, false, jsonText(1023)]);
    assert.deepEqual([c.opcode, c.rsv1], [OP.BINARY, true]);
    assert.ok(inflateMessage(c.payload).equals(binary));
  });

  test('RFC 7692 §6.1: control frames never have RSV1 (auto-pong to a 125-byte ping, ping, close; threshold 0)', async (t) => {
    const server = await deflateServer(t, { threshold: 0 });
    const { peer, ws } = await rawClient(t, server, 'permessage-deflate');
    sendMasked(peer, { opcode: OP.PING, payload: Buffer.alloc(125, 0x70) });
    const pong = await peer.nextFrame();
    assert.deepEqual([pong.opcode, pong.rsv1, pong.payload.length], [OP.PONG, false, 125]);
    ws.ping(Buffer.alloc(125, 0x71));
    const ping = await peer.nextFrame();
    assert.deepEqual([ping.opcode, ping.rsv1, ping.payload.length], [OP.PING, false, 125]);
    ws.send('tiny');
    const tiny = await peer.nextFrame();
    assert.ok(tiny.rsv1, 'threshold 0 compresses data frames');
    ws.close(1000, 'r'.repeat(123));
    const close = await peer.nextFrame();
    assert.deepEqual([close.opcode, close.rsv1, readClose(close).code], [OP.CLOSE, false, 1000]);
  });

  test('RFC 7692 §6.1/§7.2.1: the server\'s sendStream: RSV1 on the first frame only, non-final fragments end with 00 00 ff ff, the last does not, all inflate to the message', async (t) => {
    const server = await deflateServer(t, true);
    const { peer, ws } = await rawClient(t, server, 'permessage-deflate');
    const chunks = [jsonText(3000), jsonText(2000), noisyBytes(1500, 2).toString('latin1'), 'end'];
    await withTimeout(ws.sendStream(chunks, { binary: false }), 3000, 'sendStream');
    const frames: WireFrame[] = [];
    while (frames.length === 0 || !frames[frames.length - 1]!.fin) frames.push(await nextData(peer));
    assert.ok(frames.length >= 2, `fragmented (${frames.length} frames)`);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.rsv1]),
      frames.map((_, i) => [i === 0 ? OP.TEXT : OP.CONTINUATION, i === 0]),
    );
    frames.slice(0, -1).forEach((f, i) => assert.ok(f.payload.subarray(-4).equals(TRAILER), `fragment ${i} ends with the sync flush`));
    assert.ok(!frames[frames.length - 1]!.payload.subarray(-4).equals(TRAILER), 'the last fragment lacks the tail');
    assert.equal(inflateMessage(Buffer.concat(frames.map((f) => f.payload))).toString('latin1'), chunks.join(''));
  });

  test('RFC 7692 §6.1 / RFC 6455 §5.3: the client sends compressed, masked frames; its sendStream has RSV1 on the first frame only', async (t) => {
    const { ws, peer } = await openClient(t, { perMessageDeflate: true }, DEFAULT_RESPONSE);
    const message = jsonText(8000);
    ws.send(message);
    const frame = await nextData(peer);
    assert.ok(frame.masked);
    assert.ok(frame.rsv1);
    assert.equal(inflateMessage(frame.payload).toString(), message);
    await withTimeout(ws.sendStream([Buffer.from(jsonText(2000)), Buffer.from(jsonText(2500))]), 3000, 'sendStream');
    const first = await nextData(peer);
    const second = await nextData(peer);
    assert.deepEqual(
      [first.opcode, first.rsv1, first.fin, second.opcode, second.rsv1, second.fin],
      [OP.BINARY, true, false, OP.CONTINUATION, false, true],
    );
    assert.ok(first.masked && second.masked);
    assert.equal(inflateMessage(Buffer.concat([first.payload, second.payload])).toString(), jsonText(2000) + jsonText(2500));
  });

  test('RFC 7692 §7.1.2.1: the server compresses within server_max_window_bits=9 (its messages inflate with a 512-byte window)', async (t) => {
    const server = await deflateServer(t, true);
    const { peer, ws } = await rawClient(t, server, 'permessage-deflate; server_max_window_bits=9');
    const block = noisyBytes(1500, 3);
    const message = Buffer.concat([block, block, block]);
    ws.send(message);
    const frame = await nextData(peer);
    assert.ok(frame.rsv1);
    assert.ok(inflateMessage(frame.payload, 9).equals(message));
  });

  test('RFC 7692 §7.1.2.2: the client compresses within client_max_window_bits=9 from the response', async (t) => {
    const { ws, peer } = await openClient(t, { perMessageDeflate: true }, `${DEFAULT_RESPONSE}; client_max_window_bits=9`);
    const block = noisyBytes(1500, 4);
    const message = Buffer.concat([block, block, block]);
    ws.send(message);
    const frame = await nextData(peer);
    assert.ok(frame.rsv1);
    assert.ok(inflateMessage(frame.payload, 9).equals(message));
  });
});

// ---------------------------------------------------------------------------------------------- what is received

describe('receiving compressed frames on the wire (RFC 7692 §6.2, §8)', () => {
  test('RFC 7692 §6.2: a fragmented compressed message from the client is inflated and delivered whole (echoed back)', async (t) => {
    const server = await deflateServer(t, true);
    echo(server.wss);
    const { peer } = await rawClient(t, server, 'permessage-deflate');
    const message = jsonText(40_000);
    const payload = deflateMessage(message);
    const size = Math.ceil(payload.length / 5);
    for (let i = 0, at = 0; at < payload.length; i++, at += size) {
      sendMasked(peer, { opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, rsv1: i === 0, fin: at + size >= payload.length, payload: payload.subarray(at, at + size) });
    }
    const frame = await nextData(peer);
    assert.ok(frame.fin && frame.rsv1);
    assert.equal(inflateMessage(frame.payload).toString(), message);
  });

  const failures: Array<[string, Array<{ opcode: number; payload?: Buffer | string; fin?: boolean; rsv1?: boolean }>, number]> = [
    ['RFC 7692 §6.1: RSV1 on a continuation frame → 1002', [{ opcode: OP.TEXT, rsv1: true, fin: false, payload: deflateMessage(jsonText(3000)).subarray(0, 20) }, { opcode: OP.CONTINUATION, rsv1: true, payload: deflateMessage(jsonText(3000)).subarray(20) }], 1002],
    ['RFC 7692 §6.1: RSV1 on a ping → 1002', [{ opcode: OP.PING, rsv1: true, payload: 'x' }], 1002],
    ['RFC 7692 §6.1: RSV1 on a close frame → 1002', [{ opcode: OP.CLOSE, rsv1: true, payload: Buffer.from([0x03, 0xe8]) }], 1002],
    ['RFC 7692 §8: invalid compressed data → 1007', [{ opcode: OP.BINARY, rsv1: true, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]) }], 1007],
    ['RFC 6455 §8.1: compressed text inflating to invalid UTF-8 → 1007', [{ opcode: OP.TEXT, rsv1: true, payload: deflateMessage(Buffer.from([0x48, 0x69, 0xed, 0xa0, 0x80])) }], 1007],
  ];
  for (const [rule, frames, code] of failures) {
    test(`${rule} (server)`, async (t) => {
      const server = await deflateServer(t, true);
      echo(server.wss);
      const { peer, ws } = await rawClient(t, server, 'permessage-deflate');
      ws.on('error', () => {});
      const closed = nextEvent<[number]>(ws, 'close', 3000);
      for (const frame of frames) sendMasked(peer, frame);
      await expectClose(peer, code);
      await closed;
    });
  }

  test('RFC 7692 §6 / RFC 6455 §5.2: RSV1 on a connection without permessage-deflate → 1002 (server and client)', async (t) => {
    const server = await deflateServer(t, true);
    const { peer } = await rawClient(t, server, null);
    sendMasked(peer, { opcode: OP.TEXT, rsv1: true, payload: deflateMessage('Hello') });
    await expectClose(peer, 1002);

    const client = await openClient(t, { perMessageDeflate: true }, null);
    client.peer.write(serverFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage('Hello') }));
    const close = await client.peer.closeFrame(3000);
    assert.equal(close.code, 1002);
  });

  test('RFC 7692 §8 / RFC 6455 §8.1: the client closes with 1007 on invalid compressed data and on compressed invalid UTF-8', async (t) => {
    for (const payload of [Buffer.from([0xff, 0xff, 0xff]), deflateMessage(Buffer.from([0xc0, 0xaf]))]) {
      const { ws, peer } = await openClient(t, { perMessageDeflate: true }, DEFAULT_RESPONSE);
      const closed = nextEvent<[number]>(ws, 'close', 3000);
      peer.write(serverFrame({ opcode: OP.TEXT, rsv1: true, payload }));
      const close = await peer.closeFrame(3000);
      assert.equal(close.code, 1007);
      peer.destroy();
      await closed;
    }
  });

  test('RFC 7692 §7.2.3.2: the client decodes the RFC\'s shared-window "Hello" pair from a server keeping its context', async (t) => {
    const { ws, peer } = await openClient(t, { perMessageDeflate: true }, 'permessage-deflate');
    const messages: string[] = [];
    ws.on('message', (data) => messages.push(String(data)));
    peer.write(hexBytes('c1 07 f2 48 cd c9 c9 07 00'));
    peer.write(hexBytes('c1 05 f2 00 11 00 00'));
    await waitUntil(() => messages.length === 2, 3000, 'two messages');
    assert.deepEqual(messages, ['Hello', 'Hello']);
  });
});

// ---------------------------------------------------------------------------------------------- context takeover

describe('context takeover on the wire (RFC 7692 §7.1.1, §7.2.1)', () => {
  test('RFC 7692 §7.1.1: with takeover negotiated, the server\'s second identical 2 KiB message is much smaller, and inflates with the first as window', async (t) => {
    const server = await deflateServer(t, TAKEOVER);
    const { peer, ws, head } = await rawClient(t, server, 'permessage-deflate');
    assertExtensionsHeader(head, 'permessage-deflate');
    const message = noisyBytes(2048, 5);
    ws.send(message);
    ws.send(message);
    const a = await nextData(peer);
    const b = await nextData(peer);
    assert.ok(a.rsv1 && b.rsv1);
    assert.ok(b.payload.length * 10 < a.payload.length, `second ${b.payload.length} bytes, first ${a.payload.length}`);
    const inflater = new WindowedInflater(true);
    assert.ok(inflater.message(a.payload).equals(message));
    assert.ok(inflater.message(b.payload).equals(message));
  });

  test('RFC 7692 §7.1.1.1: with server_no_context_takeover (the default), the second identical message is the same size', async (t) => {
    const server = await deflateServer(t, true);
    const { peer, ws } = await rawClient(t, server, 'permessage-deflate');
    const message = noisyBytes(2048, 6);
    ws.send(message);
    ws.send(message);
    const a = await nextData(peer);
    const b = await nextData(peer);
    assert.equal(b.payload.length, a.payload.length);
    assert.ok(inflateMessage(b.payload).equals(message), 'inflates with an empty window');
  });

  test('RFC 7692 §7.1.1.2: the client keeps its context unless told not to: second identical message smaller; with client_no_context_takeover the same size', async (t) => {
    const message = noisyBytes(2048, 7);
    const sizes: Record<string, number[]> = {};
    for (const answer of ['permessage-deflate', 'permessage-deflate; client_no_context_takeover']) {
      const { ws, peer } = await openClient(t, { perMessageDeflate: true }, answer);
      ws.send(message);
      ws.send(message);
      const a = await nextData(peer);
      const b = await nextData(peer);
      sizes[answer] = [a.payload.length, b.payload.length];
      const inflater = new WindowedInflater(answer === 'permessage-deflate');
      assert.ok(inflater.message(a.payload).equals(message));
      assert.ok(inflater.message(b.payload).equals(message), answer);
    }
    const [a1, b1] = sizes['permessage-deflate']!;
    const [a2, b2] = sizes['permessage-deflate; client_no_context_takeover']!;
    assert.ok(b1! * 10 < a1!, `takeover: ${a1} then ${b1}`);
    assert.equal(b2, a2, 'no takeover: the same size');
  });

  test('RFC 7692 §7.2.1/§7.2.3.6: under context takeover (threshold 0) an empty message does not break the stream: a receiver keeping its context decodes the next one', async (t) => {
    const server = await deflateServer(t, { ...TAKEOVER, threshold: 0 });
    const { peer, ws } = await rawClient(t, server, 'permessage-deflate');
    for (const m of ['first', '', 'after', '']) ws.send(m);
    ws.send('end');
    const frames: WireFrame[] = [];
    for (let i = 0; i < 5; i++) frames.push(await nextData(peer));
    assert.ok(frames.every((f) => f.rsv1));
    assert.ok(
      frames.every((f) => f.payload.length > 0),
      `RFC 7692 §7.2.3.6: an empty message is the byte 00, never an empty payload; got ${frames.map((f) => f.payload.toString('hex') || '(empty)').join(' ')}`,
    );
    // A receiver keeping its context (ws, browsers): one zlib stream over every payload + 00 00 ff ff.
    const stream = inflateRawSync(Buffer.concat(frames.flatMap((f) => [f.payload, TRAILER])), { finishFlush: constants.Z_SYNC_FLUSH });
    assert.equal(stream.toString(), 'firstafterend');
  });

  test('RFC 7692 §7.1.1.2: a server allowing client takeover decodes a peer that refers to earlier messages (zlib stream, sync flushes)', async (t) => {
    const server = await deflateServer(t, TAKEOVER);
    echo(server.wss);
    const { peer } = await rawClient(t, server, 'permessage-deflate');
    const deflater = new TakeoverDeflater();
    t.after(() => deflater.close());
    const messages = [noisyBytes(2048, 8), noisyBytes(2048, 8), Buffer.from(jsonText(3000)), Buffer.from(jsonText(3000))];
    for (const m of messages) sendMasked(peer, { opcode: OP.BINARY, rsv1: true, payload: await deflater.message(m) });
    const inflater = new WindowedInflater(true);
    for (const m of messages) {
      const frame = await nextData(peer);
      assert.equal(frame.opcode, OP.BINARY);
      assert.ok(inflater.message(frame.payload).equals(m));
    }
  });

  test('RFC 7692 §7.1.1.2: with client_no_context_takeover agreed (default) the server resets between messages: a message referring to the previous one → 1007', async (t) => {
    const server = await deflateServer(t, true);
    echo(server.wss);
    const { peer } = await rawClient(t, server, 'permessage-deflate');
    const deflater = new TakeoverDeflater();
    t.after(() => deflater.close());
    const message = noisyBytes(2048, 9);
    sendMasked(peer, { opcode: OP.BINARY, rsv1: true, payload: await deflater.message(message) });
    const echoed = await nextData(peer);
    assert.ok(inflateMessage(echoed.payload).equals(message));
    sendMasked(peer, { opcode: OP.BINARY, rsv1: true, payload: await deflater.message(message) });
    await expectClose(peer, 1007);
  });

  test('RFC 7692 §7.1.1.1: a client decodes a server that keeps its context (zlib stream, 1 KiB window)', async (t) => {
    const { ws, peer } = await openClient(t, { perMessageDeflate: true }, 'permessage-deflate; server_max_window_bits=10');
    const received: Buffer[] = [];
    ws.on('message', (data) => received.push(Buffer.from(data as Buffer)));
    const deflater = new TakeoverDeflater(10);
    t.after(() => deflater.close());
    const messages = [noisyBytes(900, 10), noisyBytes(900, 10), Buffer.from(jsonText(5000)), Buffer.from(jsonText(5000))];
    for (const m of messages) peer.write(serverFrame({ opcode: OP.BINARY, rsv1: true, payload: await deflater.message(m) }));
    await waitUntil(() => received.length === messages.length, 3000, 'all messages');
    received.forEach((r, i) => assert.ok(r.equals(messages[i]!), `message ${i}`));
  });
});

// ---------------------------------------------------------------------------------------------- limits and pool

describe('limits and shared zlib contexts (decisions)', () => {
  test('decision: maxPayload counts inflated bytes: 64 KiB allowed, a 100-byte frame inflating to 64 KiB + 1 → 1009 (server)', async (t) => {
    const server = await deflateServer(t, true, { maxPayload: 64 * 1024 });
    echo(server.wss);
    const { peer } = await rawClient(t, server, 'permessage-deflate');
    sendMasked(peer, { opcode: OP.BINARY, rsv1: true, payload: deflateMessage(Buffer.alloc(64 * 1024)) });
    const echoed = await nextData(peer);
    assert.equal(inflateMessage(echoed.payload).length, 64 * 1024);
    const payload = deflateMessage(Buffer.alloc(64 * 1024 + 1));
    assert.ok(payload.length < 200);
    sendMasked(peer, { opcode: OP.BINARY, rsv1: true, payload });
    await expectClose(peer, 1009);
  });

  test('decision: maxPayload counts inflated bytes: an incompressible message of exactly maxPayload bytes is delivered though its compressed form is longer', async (t) => {
    const server = await deflateServer(t, true, { maxPayload: 64 * 1024 });
    echo(server.wss);
    const { peer } = await rawClient(t, server, 'permessage-deflate');
    const data = Buffer.alloc(64 * 1024);
    const random = seededRandom(99);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
    const payload = deflateMessage(data);
    assert.ok(payload.length > data.length, `compressed ${payload.length} bytes`);
    sendMasked(peer, { opcode: OP.BINARY, rsv1: true, payload });
    const frame = await peer.nextFrame(3000);
    assert.notEqual(frame.opcode, OP.CLOSE, `closed with ${frame.opcode === OP.CLOSE ? readClose(frame).code : ''}: the message inflates to exactly maxPayload`);
    assert.ok(inflateMessage(frame.payload).equals(data));
  });

  test('decision: maxPayload counts inflated bytes on the client too → 1009', async (t) => {
    const { ws, peer } = await openClient(t, { perMessageDeflate: true, maxPayload: 4096 }, DEFAULT_RESPONSE);
    const closed = nextEvent<[number]>(ws, 'close', 3000);
    peer.write(serverFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage('x'.repeat(5000)) }));
    const close = await peer.closeFrame(3000);
    assert.equal(close.code, 1009);
    peer.destroy();
    await closed;
  });

  test('decision: after 40 connections (20 at once) exchanged compressed messages and closed, pooledContextCount() is at most 10 each way', async (t) => {
    const server = await deflateServer(t, true);
    echo(server.wss);
    let compressedEchoes = 0;
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const { peer } = await rawClient(t, server, 'permessage-deflate');
          for (let k = 0; k < 3; k++) {
            const message = `${jsonText(4000)}-${round}-${i}-${k}`;
            sendMasked(peer, { opcode: OP.TEXT, rsv1: true, payload: deflateMessage(message) });
            const frame = await nextData(peer, 5000);
            if (frame.rsv1) compressedEchoes++;
            assert.equal(inflateMessage(frame.payload).toString(), message);
          }
          peer.sendClose(1000);
          await peer.closeFrame(3000);
          peer.destroy();
        }),
      );
    }
    assert.equal(compressedEchoes, 120);
    await waitUntil(() => server.wss.clients.size === 0, 3000, 'all connections gone');
    const pooled = pooledContextCount();
    assert.ok(pooled.inflate <= 10, `inflate contexts pooled: ${pooled.inflate}`);
    assert.ok(pooled.deflate <= 10, `deflate contexts pooled: ${pooled.deflate}`);
  });

  test('decision: the bound of 10 idle deflate contexts holds across settings (two servers, zlib levels 1 and 9, 20 connections each)', async (t) => {
    for (const level of [1, 9]) {
      const server = await deflateServer(t, { level });
      echo(server.wss);
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const { peer } = await rawClient(t, server, 'permessage-deflate');
          const message = `${jsonText(4000)}-${level}-${i}`;
          sendMasked(peer, { opcode: OP.TEXT, rsv1: true, payload: deflateMessage(message) });
          const frame = await nextData(peer, 5000);
          assert.ok(frame.rsv1, 'the echo is compressed');
          assert.equal(inflateMessage(frame.payload).toString(), message);
          peer.sendClose(1000);
          await peer.closeFrame(3000);
          peer.destroy();
        }),
      );
      await waitUntil(() => server.wss.clients.size === 0, 3000, 'all connections gone');
      const pooled = pooledContextCount();
      assert.ok(pooled.deflate >= 1, `level ${level}: contexts of the setting in use are pooled (${pooled.deflate})`);
      assert.ok(pooled.deflate <= 10, `level ${level}: deflate contexts pooled in all: ${pooled.deflate}`);
    }
  });
});

// Last: a BFINAL message once left a broken context in the process-wide pool (CHANGELOG 0.1.0, RFC 7692
// §7.2.3.4); the pool is emptied around these tests so that a regression shows here only.
describe('a DEFLATE block with BFINAL set (RFC 7692 §7.2.3.4)', () => {
  async function drainInflatePool(): Promise<void> {
    const server = await startServer({ perMessageDeflate: true });
    try {
      const peers = await Promise.all(Array.from({ length: 10 }, () => openRaw(server.port, { extra: ['Sec-WebSocket-Extensions: permessage-deflate'] })));
      for (const { peer } of peers) peer.sendClientFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage('drain') });
      await Promise.all(peers.map(({ peer }) => peer.nextFrame(3000).catch(() => null)));
      for (const { peer } of peers) peer.destroy();
    } finally {
      await server.stop();
    }
  }
  beforeEach(drainInflatePool);
  after(drainInflatePool);

  test('RFC 7692 §7.2.3.4: after one client sends the RFC\'s BFINAL "Hello", other connections and the same one keep working', async (t) => {
    const server = await deflateServer(t, true);
    const received: string[] = [];
    server.wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data) => received.push(String(data)));
    });
    const first = await rawClient(t, server, 'permessage-deflate');
    sendMasked(first.peer, { opcode: OP.TEXT, rsv1: true, payload: hexBytes('f3 48 cd c9 c9 07 00 00') });
    await waitUntil(() => received.length === 1, 3000, 'the BFINAL message');
    const others = await Promise.all([1, 2].map(() => rawClient(t, server, 'permessage-deflate')));
    for (const [i, other] of others.entries()) {
      sendMasked(other.peer, { opcode: OP.TEXT, rsv1: true, payload: deflateMessage(`other ${i}`) });
      await waitUntil(() => received.length === 2 + i || other.peer.ended, 3000, `message from connection ${i}`);
    }
    sendMasked(first.peer, { opcode: OP.TEXT, rsv1: true, payload: deflateMessage('again') });
    await waitUntil(() => received.length === 4 || first.peer.ended, 3000, 'the second message of the first connection');
    assert.deepEqual(received, ['Hello', 'other 0', 'other 1', 'again']);
  });
});
