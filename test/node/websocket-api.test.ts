/**
 * The WebSocket connection API (docs/API.md) over loopback sockets: what each call puts on the
 * wire, what each event reports, backpressure, the frame-level API, and the server's
 * clients / close() / broadcast().
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { connect, SendStatus, type ServerOptions, type WebSocket } from '../../src/index.js';
import { startFakeServer, switchingProtocols } from '../helpers/fake-server.js';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw, type RawPeer } from '../helpers/raw-peer.js';
import { connectedPair, echo, startServer, type ConnectedPair } from '../helpers/server-fixture.js';
import { delay, nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';
import { clientFrame, OP, readClose, type WireFrame } from '../helpers/wire-frames.js';

guardProcess();

/** A wsforge server and one raw client connected to it. */
const pair = (t: TestContext, options: ServerOptions = {}): Promise<ConnectedPair> => connectedPair(t, options);

async function frames(peer: RawPeer, count: number, ms = 2000): Promise<WireFrame[]> {
  const result: WireFrame[] = [];
  for (let i = 0; i < count; i++) result.push(await peer.nextFrame(ms));
  return result;
}

function collectMessages(ws: WebSocket): Array<[string | Buffer, boolean]> {
  const messages: Array<[string | Buffer, boolean]> = [];
  ws.on('message', (data, isBinary) => messages.push([data, isBinary]));
  return messages;
}

describe('send() and message types (RFC 6455 §5.6)', () => {
  test('API: send(string) → text frame; Buffer, ArrayBuffer, Uint8Array, Uint16Array view, DataView → binary frames with exactly the viewed bytes', async (t) => {
    const { peer, ws } = await pair(t);
    const backing = new ArrayBuffer(16);
    new Uint8Array(backing).set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    ws.send('héllo');
    ws.send(Buffer.from([1, 2, 3]));
    ws.send(new Uint8Array([4, 5]).buffer);
    ws.send(new Uint8Array(backing, 2, 3));
    ws.send(new Uint16Array(backing, 4, 2));
    ws.send(new DataView(backing, 10, 4));
    const got = await frames(peer, 6);
    assert.deepEqual(
      got.map((f) => [f.opcode, f.fin, f.masked, [...f.payload]]),
      [
        [OP.TEXT, true, false, [...Buffer.from('héllo')]],
        [OP.BINARY, true, false, [1, 2, 3]],
        [OP.BINARY, true, false, [4, 5]],
        [OP.BINARY, true, false, [2, 3, 4]],
        [OP.BINARY, true, false, [4, 5, 6, 7]],
        [OP.BINARY, true, false, [10, 11, 12, 13]],
      ],
    );
  });

  test('API: send(bytes, {binary: false}) sends a text frame; send(string, {binary: true}) a binary frame', async (t) => {
    const { peer, ws } = await pair(t);
    ws.send(Buffer.from('as text'), { binary: false });
    ws.send('as binary', { binary: true });
    const [a, b] = await frames(peer, 2);
    assert.equal(a!.opcode, OP.TEXT);
    assert.equal(a!.payload.toString(), 'as text');
    assert.equal(b!.opcode, OP.BINARY);
    assert.equal(b!.payload.toString(), 'as binary');
  });

  test("API: 'message' gives (string, false) for text and (Buffer, true) for binary", async (t) => {
    const { peer, ws } = await pair(t);
    const messages = collectMessages(ws);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'texte ✓' }));
    peer.write(clientFrame({ opcode: OP.BINARY, payload: Buffer.from([0xff, 0]) }));
    peer.write(clientFrame({ opcode: OP.TEXT, payload: '' }));
    peer.write(clientFrame({ opcode: OP.BINARY, payload: '' }));
    await waitUntil(() => messages.length === 4, 2000, '4 messages');
    assert.equal(messages[0]![0], 'texte ✓');
    assert.equal(messages[0]![1], false);
    assert.ok(Buffer.isBuffer(messages[1]![0]));
    assert.deepEqual(messages[1], [Buffer.from([0xff, 0]), true]);
    assert.deepEqual(messages[2], ['', false]);
    assert.deepEqual(messages[3], [Buffer.alloc(0), true]);
  });

  test('API: send() after close() throws WSF_ERR_NOT_OPEN, and after the close event too', async (t) => {
    const { peer, ws, closed } = await pair(t);
    ws.close(1000);
    assert.throws(() => ws.send('late'), { code: 'WSF_ERR_NOT_OPEN' });
    assert.throws(() => ws.ping(), { code: 'WSF_ERR_NOT_OPEN' });
    await peer.nextClose();
    peer.sendClose(1000);
    await closed;
    assert.throws(() => ws.send('later'), { code: 'WSF_ERR_NOT_OPEN' });
    assert.equal(ws.readyState, 3);
  });

  for (const [code, reason] of [[999, ''], [1005, ''], [1006, ''], [1015, ''], [2000, ''], [5000, ''], [1000, 'x'.repeat(124)]] as const) {
    test(`API: close(${code}, ${reason.length}-byte reason) throws WSF_ERR_INVALID_ARGUMENT and the connection stays open`, async (t) => {
      const { peer, ws } = await pair(t);
      assert.throws(() => ws.close(code, reason), { code: 'WSF_ERR_INVALID_ARGUMENT' });
      assert.equal(ws.readyState, 1);
      ws.send('still open');
      const frame = await peer.nextFrame();
      assert.equal(frame.opcode, OP.TEXT);
    });
  }

  test('API: close(1000, 123-byte reason) is allowed and sent as is', async (t) => {
    const { peer, ws } = await pair(t);
    const reason = 'r'.repeat(123);
    ws.close(1000, reason);
    assert.deepEqual(await peer.nextClose(), { code: 1000, reason });
  });

  test('API: terminate() drops TCP without a close frame; close event 1006', async (t) => {
    const { peer, ws, closed } = await pair(t);
    ws.terminate();
    await peer.waitClosed(2000);
    assert.deepEqual(peer.takeFrames(), []);
    assert.deepEqual(await closed, [1006, '']);
    assert.equal(ws.wasClean, false);
  });

  test("API: without an 'error' listener a protocol error does not throw; 'close' reports the code", async (t) => {
    const { peer, ws, closed } = await pair(t);
    assert.equal(ws.listenerCount('error'), 0);
    peer.write(clientFrame({ opcode: 7 }));
    assert.equal((await peer.nextClose()).code, 1002);
    assert.equal((await closed)[0], 1002);
  });

  test("API: a peer that resets the connection without an 'error' listener → close 1006, no crash", async (t) => {
    const { peer, ws, closed } = await pair(t);
    assert.equal(ws.listenerCount('error'), 0);
    peer.socket.resetAndDestroy();
    assert.deepEqual(await closed, [1006, '']);
  });

  test("API: a peer that resets the connection with an 'error' listener → 'error' WSF_ERR_CONNECTION_LOST, then close 1006", async (t) => {
    const { peer, ws, closed } = await pair(t);
    const errors: string[] = [];
    ws.on('error', (error) => errors.push(error.code));
    peer.socket.resetAndDestroy();
    assert.deepEqual(await closed, [1006, '']);
    assert.deepEqual(errors, ['WSF_ERR_CONNECTION_LOST']);
  });

  test("API: with an 'error' listener, a protocol error is emitted as a WebSocketError with code and closeCode", async (t) => {
    const { peer, ws } = await pair(t);
    const error = nextEvent<[{ code: string; closeCode: number; name: string }]>(ws, 'error', 2000);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xc0]) }));
    const [e] = await error;
    assert.equal(e.name, 'WebSocketError');
    assert.equal(e.code, 'WSF_ERR_INVALID_UTF8');
    assert.equal(e.closeCode, 1007);
  });

  test('API: for await (const m of ws) yields strings and Buffers in order and ends at close', async (t) => {
    const { peer, ws } = await pair(t);
    const collected = (async () => {
      const items: Array<string | Buffer> = [];
      for await (const message of ws) items.push(message);
      return items;
    })();
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'one' }));
    peer.write(clientFrame({ opcode: OP.BINARY, payload: Buffer.from([2]) }));
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'three' }));
    peer.sendClose(1000);
    const items = await withTimeout(collected, 3000, 'the iterator to end');
    assert.deepEqual(items, ['one', Buffer.from([2]), 'three']);
  });
});

describe('sendStream (RFC 6455 §5.4)', () => {
  async function* slowChunks(chunks: Array<string | Buffer>, pause = 10) {
    for (const chunk of chunks) {
      await delay(pause);
      yield chunk;
    }
  }

  test('RFC 6455 §5.4: sendStream(async iterable) sends one message: first frame has the opcode, the rest are continuations, the last has FIN', async (t) => {
    const { peer, ws } = await pair(t);
    const done = ws.sendStream(slowChunks([Buffer.from('aa'), Buffer.from('bb'), Buffer.from('cc')]));
    const got = await frames(peer, 3);
    await withTimeout(done, 2000, 'sendStream');
    assert.deepEqual(
      got.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [[OP.BINARY, false, 'aa'], [OP.CONTINUATION, false, 'bb'], [OP.CONTINUATION, true, 'cc']],
    );
  });

  test('RFC 6455 §5.4: sendStream(Readable, {binary: false}) sends a fragmented text message', async (t) => {
    const { peer, ws } = await pair(t);
    await withTimeout(ws.sendStream(Readable.from(['Hel', 'lo ', 'wörld']), { binary: false }), 2000, 'sendStream');
    const got = await frames(peer, 3);
    assert.deepEqual(got.map((f) => [f.opcode, f.fin]), [[OP.TEXT, false], [OP.CONTINUATION, false], [OP.CONTINUATION, true]]);
    assert.equal(Buffer.concat(got.map((f) => f.payload)).toString(), 'Hello wörld');
  });

  test('RFC 6455 §5.4: messages sent after the first fragment is out go on the wire after the last fragment', async (t) => {
    const { peer, ws } = await pair(t);
    const done = ws.sendStream(slowChunks(['s1', 's2', 's3'], 20), { binary: false });
    const first = await peer.nextFrame();
    ws.send('during');
    ws.send(Buffer.from('during too'));
    await withTimeout(done, 2000, 'sendStream');
    const got = [first, ...(await frames(peer, 4))];
    assert.deepEqual(
      got.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [
        [OP.TEXT, false, 's1'],
        [OP.CONTINUATION, false, 's2'],
        [OP.CONTINUATION, true, 's3'],
        [OP.TEXT, true, 'during'],
        [OP.BINARY, true, 'during too'],
      ],
    );
  });

  test('decision (sendStream): a message sent right after sendStream() was called goes after the streamed message', async (t) => {
    const { peer, ws } = await pair(t);
    const done = ws.sendStream(slowChunks(['s1', 's2', 's3'], 20), { binary: false });
    ws.send('during');
    await withTimeout(done, 2000, 'sendStream');
    const got = await frames(peer, 4);
    assert.deepEqual(
      got.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [
        [OP.TEXT, false, 's1'],
        [OP.CONTINUATION, false, 's2'],
        [OP.CONTINUATION, true, 's3'],
        [OP.TEXT, true, 'during'],
      ],
    );
  });

  test('RFC 6455 §5.4: a broadcast during a stream goes on the wire after the streamed message', async (t) => {
    const { peer, ws, server } = await pair(t);
    const done = ws.sendStream(slowChunks(['s1', 's2', 's3'], 20), { binary: false });
    const first = await peer.nextFrame();
    assert.equal(server.wss.broadcast('broadcast'), 1);
    await withTimeout(done, 2000, 'sendStream');
    const got = [first, ...(await frames(peer, 3))];
    assert.deepEqual(
      got.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [[OP.TEXT, false, 's1'], [OP.CONTINUATION, false, 's2'], [OP.CONTINUATION, true, 's3'], [OP.TEXT, true, 'broadcast']],
    );
  });

  test('RFC 6455 §5.4: sendStream of one chunk sends one FIN frame; of nothing, one empty FIN frame', async (t) => {
    const { peer, ws } = await pair(t);
    await withTimeout(ws.sendStream(['only']), 2000, 'sendStream');
    await withTimeout(ws.sendStream([], { binary: false }), 2000, 'sendStream');
    const got = await frames(peer, 2);
    assert.deepEqual(got.map((f) => [f.opcode, f.fin, f.payload.toString()]), [[OP.BINARY, true, 'only'], [OP.TEXT, true, '']]);
  });

  test('RFC 6455 §5.4: a wsforge client receives a streamed message whole (echo through a server)', async (t) => {
    const server = await startServer();
    echo(server.wss);
    t.after(() => server.stop());
    const client = await connect(`ws://127.0.0.1:${server.port}/`);
    t.after(() => client.terminate());
    const reply = nextEvent<[Buffer, boolean]>(client, 'message', 3000);
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000, i));
    await withTimeout(client.sendStream(Readable.from(parts)), 3000, 'sendStream');
    const [data, isBinary] = await reply;
    assert.equal(isBinary, true);
    assert.ok(data.equals(Buffer.concat(parts)));
  });
});

describe('ping / pong (RFC 6455 §5.5.2, §5.5.3)', () => {
  test("API: ping(data) sends a ping; the peer's pong is reported as 'pong'; pong(data) sends an unsolicited pong", async (t) => {
    const { peer, ws } = await pair(t);
    const pong = nextEvent<[Buffer]>(ws, 'pong', 2000);
    ws.ping('are you there');
    const ping = await peer.nextFrame();
    assert.equal(ping.opcode, OP.PING);
    assert.equal(ping.payload.toString(), 'are you there');
    peer.write(clientFrame({ opcode: OP.PONG, payload: ping.payload }));
    assert.equal((await pong)[0].toString(), 'are you there');
    ws.pong(Buffer.from([9]));
    const unsolicited = await peer.nextFrame();
    assert.equal(unsolicited.opcode, OP.PONG);
    assert.deepEqual(unsolicited.payload, Buffer.from([9]));
    assert.throws(() => ws.ping(Buffer.alloc(126)), { code: 'WSF_ERR_INVALID_ARGUMENT' });
  });

  test("API: a received ping is answered automatically and reported as 'ping'", async (t) => {
    const { peer, ws } = await pair(t);
    const ping = nextEvent<[Buffer]>(ws, 'ping', 2000);
    peer.write(clientFrame({ opcode: OP.PING, payload: 'auto' }));
    const frame = await peer.nextFrame();
    assert.equal(frame.opcode, OP.PONG);
    assert.equal(frame.payload.toString(), 'auto');
    assert.equal((await ping)[0].toString(), 'auto');
  });
});

describe('frame-level API', () => {
  test('API: ws.sendFrame({opcode, fin, payload, rsv1}) puts exactly that frame on the wire', async (t) => {
    const { peer, ws } = await pair(t);
    ws.sendFrame({ opcode: OP.TEXT, fin: false, payload: 'ab', rsv1: true });
    ws.sendFrame({ opcode: OP.CONTINUATION, fin: true, payload: Buffer.from('cd') });
    ws.sendFrame({ opcode: 0xb });
    const got = await frames(peer, 3);
    assert.deepEqual(got[0]!.raw, Buffer.from([0x41, 0x02, 0x61, 0x62]));
    assert.deepEqual(got[1]!.raw, Buffer.from([0x80, 0x02, 0x63, 0x64]));
    assert.deepEqual(got[2]!.raw, Buffer.from([0x8b, 0x00]));
  });

  test('API + RFC 6455 §5.3: a client\'s sendFrame puts that frame on the wire, masked', async (t) => {
    const fake = await startFakeServer();
    t.after(() => fake.close());
    const connecting = connect(`ws://127.0.0.1:${fake.port}/`);
    const peer = await fake.nextPeer();
    peer.write(switchingProtocols(await peer.readHead()));
    peer.startFrames();
    const client = await withTimeout(connecting, 2000, 'connect()');
    t.after(() => client.terminate());
    client.sendFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.from([1, 2, 3]), rsv1: true });
    client.sendFrame({ opcode: OP.CONTINUATION, payload: 'end' });
    const [a, b] = await frames(peer, 2);
    assert.deepEqual([a!.opcode, a!.fin, a!.rsv1, a!.masked, [...a!.payload]], [OP.BINARY, false, true, true, [1, 2, 3]]);
    assert.deepEqual([b!.opcode, b!.fin, b!.rsv1, b!.masked, b!.payload.toString()], [OP.CONTINUATION, true, false, true, 'end']);
    assert.equal(a!.raw.length, 2 + 4 + 3, 'minimal header plus mask');
  });

  test("API: observeFrames: true reports each received frame in a 'frame' event", async (t) => {
    const { peer, ws } = await pair(t, { observeFrames: true });
    const seen: Array<[number, boolean, string]> = [];
    ws.on('frame', (frame) => seen.push([frame.opcode, frame.fin, frame.payload.toString()]));
    const messages = collectMessages(ws);
    peer.write(clientFrame({ opcode: OP.TEXT, fin: false, payload: 'x' }));
    peer.write(clientFrame({ opcode: OP.PING, payload: 'p' }));
    peer.write(clientFrame({ opcode: OP.CONTINUATION, payload: 'y' }));
    peer.write(clientFrame({ opcode: OP.BINARY, payload: 'z' }));
    await waitUntil(() => messages.length === 2, 2000, 'two messages');
    assert.deepEqual(seen, [[OP.TEXT, false, 'x'], [OP.PING, true, 'p'], [OP.CONTINUATION, true, 'y'], [OP.BINARY, true, 'z']]);
    assert.deepEqual(messages, [['xy', false], [Buffer.from('z'), true]]);
  });
});

describe('backpressure (decision: highWaterMark 1 MiB, drain, maxBackpressure)', () => {
  test('API: bufferedAmount counts bytes not yet written and falls back to 0', async (t) => {
    const { peer, ws } = await pair(t);
    assert.equal(ws.bufferedAmount, 0);
    ws.send(Buffer.alloc(100_000));
    assert.ok(ws.bufferedAmount >= 100_000, `bufferedAmount ${ws.bufferedAmount}`);
    await peer.nextFrame();
    await waitUntil(() => ws.bufferedAmount === 0, 2000, 'bufferedAmount to reach 0');
  });

  test("decision: send() of 2 MiB returns false at the default highWaterMark (1 MiB), and 'drain' follows", async (t) => {
    const { peer, ws } = await pair(t);
    peer.discard();
    assert.equal(ws.send(Buffer.alloc(512 * 1024)), SendStatus.SENT, 'below the high-water mark');
    const drain = nextEvent(ws, 'drain', 5000);
    assert.equal(ws.send(Buffer.alloc(2 * 1024 * 1024)), SendStatus.BACKPRESSURE, 'at the high-water mark');
    await drain;
    assert.ok(ws.bufferedAmount < 1024 * 1024);
  });

  test("decision: with a peer that does not read, 'drain' waits until the peer reads again", async (t) => {
    const { peer, ws } = await pair(t);
    peer.discard();
    peer.pauseReading();
    let drained = false;
    ws.on('drain', () => (drained = true));
    let result: number = SendStatus.SENT;
    // Fill the loopback socket buffers until our own buffer really holds data.
    for (let i = 0; i < 96 && ws.bufferedAmount < 4 * 1024 * 1024; i++) {
      result = ws.send(Buffer.alloc(1024 * 1024));
      await delay(2);
    }
    assert.ok(ws.bufferedAmount >= 4 * 1024 * 1024, `bufferedAmount ${ws.bufferedAmount} after filling`);
    assert.equal(result, SendStatus.BACKPRESSURE, 'send() returned BACKPRESSURE');
    // 'drain' may have fired while the kernel still took data; from here on the socket cannot empty.
    drained = false;
    // No event can show that 'drain' stays away (the socket cannot empty while the peer is paused): a bounded look.
    await delay(100);
    assert.equal(drained, false, "no 'drain' while the peer does not read");
    const drain = nextEvent(ws, 'drain', 10_000);
    peer.resumeReading();
    await drain;
    assert.ok(ws.bufferedAmount < 1024 * 1024);
    assert.equal(ws.readyState, 1);
  });

  test("decision: with highWaterMark 1024, send() of 4 KiB returns BACKPRESSURE and 'drain' follows", async (t) => {
    const { peer, ws } = await pair(t, { highWaterMark: 1024 });
    const drain = nextEvent(ws, 'drain', 2000);
    assert.equal(ws.send(Buffer.alloc(4096)), SendStatus.BACKPRESSURE);
    await peer.nextFrame();
    await drain;
  });

  test('decision: a peer that leaves more than maxBackpressure unread is dropped (WSF_ERR_BUFFERED_AMOUNT_EXCEEDED, closeOnBackpressureLimit)', async (t) => {
    const { peer, ws, closed, server } = await pair(t, { maxBackpressure: 2 * 1024 * 1024 });
    peer.discard();
    peer.pauseReading();
    const error = nextEvent<[{ code: string }]>(ws, 'error', 10_000);
    for (let i = 0; i < 64 && ws.readyState === 1; i++) {
      ws.send(Buffer.alloc(512 * 1024));
      await delay(2);
    }
    assert.equal((await error)[0].code, 'WSF_ERR_BUFFERED_AMOUNT_EXCEEDED');
    await closed;
    assert.equal(server.wss.clients.has(ws), false);
    peer.resumeReading();
    await peer.waitClosed(5000);
  });
});

describe('server: clients, close(), broadcast()', () => {
  test('API: wss.clients holds open connections and drops closed ones', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const a = await openRaw(server.port);
    const b = await openRaw(server.port);
    t.after(() => a.peer.destroy());
    t.after(() => b.peer.destroy());
    await waitUntil(() => server.wss.clients.size === 2, 2000, 'two clients');
    const [first] = [...server.wss.clients];
    const gone = nextEvent(first!, 'close', 2000);
    a.peer.destroy();
    await gone;
    assert.equal(server.wss.clients.size, 1);
  });

  test('API: wss.close() sends close 1001 to every client and resolves when all are gone', async (t) => {
    const server = await startServer({ closeTimeout: 3000 });
    t.after(() => server.stop());
    const peers = await Promise.all([openRaw(server.port), openRaw(server.port), openRaw(server.port)]);
    t.after(() => peers.forEach((p) => p.peer.destroy()));
    await waitUntil(() => server.wss.clients.size === 3, 2000, 'three clients');
    let resolved = false;
    const closing = server.wss.close().then(() => (resolved = true));
    for (const { peer } of peers) assert.equal((await peer.nextClose()).code, 1001);
    // One client completes the closing handshake and is gone while two are still open: close() must still wait.
    const [first, ...others] = peers;
    first!.peer.sendClose(1001);
    await waitUntil(() => server.wss.clients.size === 2, 2000, 'the first client to be gone');
    assert.equal(resolved, false, 'close() waits for the clients');
    for (const { peer } of others) peer.sendClose(1001);
    await withTimeout(closing, 2000, 'wss.close()');
    assert.equal(server.wss.clients.size, 0);
    for (const { peer } of peers) await peer.waitEnd();
  });

  test('API: wss.close() resolves after closeTimeout for a client that never answers', async (t) => {
    const server = await startServer({ closeTimeout: 200 });
    t.after(() => server.stop());
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    await waitUntil(() => server.wss.clients.size === 1, 2000, 'a client');
    const started = performance.now();
    await withTimeout(server.wss.close(), 3000, 'wss.close()');
    assert.ok(performance.now() - started < 2000);
    assert.equal((await peer.nextClose()).code, 1001);
  });

  test('API: broadcast() writes the identical frame bytes to every client, skips `except`, returns the count', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const peers = await Promise.all([openRaw(server.port), openRaw(server.port), openRaw(server.port)]);
    t.after(() => peers.forEach((p) => p.peer.destroy()));
    await waitUntil(() => server.wss.clients.size === 3, 2000, 'three clients');
    const clients = [...server.wss.clients];
    assert.equal(server.wss.broadcast('to everyone'), 3);
    assert.equal(server.wss.broadcast(Buffer.alloc(70_000, 5)), 3);
    assert.equal(server.wss.broadcast(Buffer.from('bytes as text'), { binary: false }), 3);
    const received = await Promise.all(peers.map(({ peer }) => frames(peer, 3)));
    for (const got of received) {
      assert.deepEqual(got[0]!.raw, Buffer.concat([Buffer.from([0x81, 11]), Buffer.from('to everyone')]));
      assert.equal(got[1]!.opcode, OP.BINARY);
      assert.equal(got[1]!.lengthBits, 64);
      assert.deepEqual(got[1]!.raw, received[0]![1]!.raw);
      assert.equal(got[2]!.opcode, OP.TEXT);
      assert.equal(got[2]!.payload.toString(), 'bytes as text');
    }
    // Which peer is which client: the one that is excluded must get nothing.
    const excluded = clients[0]!;
    const count = server.wss.broadcast('not for one', { except: excluded });
    assert.equal(count, 2);
    const closedExcluded = nextEvent(excluded, 'close', 2000);
    excluded.close(4000, 'marker');
    // Each peer gets either the broadcast or the marker close first.
    const firsts = await Promise.all(peers.map(({ peer }) => peer.nextFrame()));
    const kinds = firsts.map((f) => (f.opcode === OP.CLOSE ? `close ${readClose(f).code}` : f.payload.toString())).sort();
    assert.deepEqual(kinds, ['close 4000', 'not for one', 'not for one']);
    for (const { peer } of peers) peer.sendClose(1000);
    await closedExcluded;
  });

  test('API: broadcast() skips clients that are closing', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    await waitUntil(() => server.wss.clients.size === 1, 2000, 'a client');
    const [ws] = [...server.wss.clients];
    ws!.close(1000);
    assert.equal(server.wss.broadcast('late'), 0);
    const got = await peer.nextFrame();
    assert.equal(got.opcode, OP.CLOSE);
  });
});

describe('client connection API', () => {
  test('API: connect() resolves with an open WebSocket: url, protocol, readyState; echo of text and binary keeps the type', async (t) => {
    const server = await startServer({ protocols: ['chat'] });
    echo(server.wss);
    t.after(() => server.stop());
    const client = await connect(`ws://127.0.0.1:${server.port}/room?x=1`, { protocols: ['other', 'chat'] });
    t.after(() => client.terminate());
    assert.equal(client.readyState, 1);
    assert.equal(client.url, `ws://127.0.0.1:${server.port}/room?x=1`);
    assert.equal(client.protocol, 'chat');
    const messages = collectMessages(client);
    client.send('text');
    client.send(Buffer.from([1, 2, 3]));
    await waitUntil(() => messages.length === 2, 2000, 'two echoes');
    assert.deepEqual(messages, [['text', false], [Buffer.from([1, 2, 3]), true]]);
    const closed = nextEvent<[number, string]>(client, 'close', 2000);
    client.close(1000, 'done');
    // The server's answer echoes code and reason.
    assert.deepEqual(await closed, [1000, 'done']);
    assert.equal(client.wasClean, true);
  });

  test('RFC 6455 §7.1.5: client close event reports the server\'s close code and reason', async (t) => {
    const server = await startServer();
    server.wss.on('connection', (ws) => ws.close(4001, 'kicked'));
    t.after(() => server.stop());
    const client = await connect(`ws://127.0.0.1:${server.port}/`);
    t.after(() => client.terminate());
    const [code, reason] = await nextEvent<[number, string]>(client, 'close', 2000);
    assert.equal(code, 4001);
    assert.equal(reason, 'kicked');
    assert.equal(client.wasClean, true);
  });

  test('API: close frame payloads survive the round trip (client close reason reaches the server)', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const serverClose = new Promise<[number, string]>((resolve) => server.wss.on('connection', (ws) => ws.on('close', (c, r) => resolve([c, r]))));
    const client = await connect(`ws://127.0.0.1:${server.port}/`);
    t.after(() => client.terminate());
    client.close(3001, 'über');
    assert.deepEqual(await withTimeout(serverClose, 2000, 'server close'), [3001, 'über']);
  });
});
