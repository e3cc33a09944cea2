/**
 * The server-side wsforge/ws `WebSocket` against ws's documentation (doc/ws.md, "Class:
 * WebSocket" and "createWebSocketStream"): events, methods, properties and the EventTarget
 * emulation, over loopback with `ws` (npm) clients and raw sockets for the bytes on the wire.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test, type TestContext } from 'node:test';
import { CloseEvent, createWebSocketStream, ErrorEvent, MessageEvent, WebSocket, type RawData } from '../../src/ws/index.js';
import { EventQueue } from '../interop/bounded-wait.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw, type RawPeer } from '../helpers/raw-peer.js';
import { clientFrame, closePayload, OP } from '../helpers/wire-frames.js';
import { type Client, nextConnection, openClient, startCompat } from './compat-fixture.js';

guardProcess();

/** A wsforge/ws server, a ws client, and the server side of their connection. */
async function pair(t: TestContext, options = {}): Promise<{ ws: WebSocket; client: Client }> {
  const server = await startCompat(t, options);
  const client = await openClient(t, server.url);
  const [ws] = await nextConnection(server);
  return { ws, client };
}

/** A wsforge/ws server, a raw client, and the server side of their connection. */
async function rawPair(t: TestContext, options = {}): Promise<{ ws: WebSocket; peer: RawPeer }> {
  const server = await startCompat(t, options);
  const { peer } = await openRaw(server.port);
  t.after(() => peer.destroy());
  const [ws] = await nextConnection(server);
  return { ws, peer };
}

function messages(ws: WebSocket): EventQueue<[RawData, boolean]> {
  const queue = new EventQueue<[RawData, boolean]>('message');
  ws.on('message', (data, isBinary) => queue.push([data, isBinary]));
  return queue;
}

describe('WebSocket: ready state constants', () => {
  test('doc: CONNECTING 0, OPEN 1, CLOSING 2, CLOSED 3, on the class and on instances; readyState follows the connection', async (t) => {
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
    const { ws, client } = await pair(t);
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.equal(ws.readyState, WebSocket.OPEN);
    const closed = nextEvent(ws, 'close', 3000);
    ws.close(1000);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    await closed;
    assert.equal(ws.readyState, WebSocket.CLOSED);
    await client.closed;
  });
});

describe("WebSocket events", () => {
  test("doc: 'message' gives text as a Buffer (isBinary false) and binary as a Buffer (isBinary true)", async (t) => {
    const { ws, client } = await pair(t);
    const got = messages(ws);
    client.ws.send('héllo ✓');
    client.ws.send(Buffer.from([0, 255, 7]));
    const [text, textIsBinary] = await got.next(3000);
    const [binary, binaryIsBinary] = await got.next(3000);
    assert.ok(Buffer.isBuffer(text));
    assert.equal((text as Buffer).toString('utf8'), 'héllo ✓');
    assert.equal(textIsBinary, false);
    assert.deepEqual([Buffer.isBuffer(binary), [...(binary as Buffer)], binaryIsBinary], [true, [0, 255, 7], true]);
  });

  test("doc: binaryType 'arraybuffer', 'fragments' and 'blob' change binary messages only; other values are ignored", async (t) => {
    const { ws, client } = await pair(t);
    assert.equal(ws.binaryType, 'nodebuffer');
    const got = messages(ws);
    const expectations: Array<[string, (data: RawData) => Promise<void> | void]> = [
      ['arraybuffer', (data) => assert.deepEqual([...new Uint8Array(data as ArrayBuffer)], [1, 2, 3])],
      ['fragments', (data) => assert.deepEqual((data as Buffer[]).map((b) => [...b]), [[1, 2, 3]])],
      [
        'blob',
        async (data) => {
          assert.ok(data instanceof Blob);
          assert.deepEqual([...new Uint8Array(await data.arrayBuffer())], [1, 2, 3]);
        },
      ],
    ];
    for (const [type, check] of expectations) {
      ws.binaryType = type as WebSocket['binaryType'];
      assert.equal(ws.binaryType, type);
      client.ws.send(Buffer.from([1, 2, 3]));
      const [data, isBinary] = await got.next(3000);
      assert.equal(isBinary, true);
      await check(data);
      client.ws.send('text stays a Buffer');
      const [text] = await got.next(3000);
      assert.ok(Buffer.isBuffer(text), `text with binaryType ${type}`);
    }
    ws.binaryType = 'bogus' as WebSocket['binaryType'];
    assert.equal(ws.binaryType, 'blob');
  });

  test("doc: 'close' gives the code and the reason as a Buffer", async (t) => {
    const { ws, client } = await pair(t);
    const closed = nextEvent<[number, Buffer]>(ws, 'close', 3000);
    client.ws.close(4000, 'bye ✓');
    const [code, reason] = await closed;
    assert.equal(code, 4000);
    assert.ok(Buffer.isBuffer(reason));
    assert.equal(reason.toString(), 'bye ✓');
  });

  test("doc: 'error' with ws's error code (WS_ERR_INVALID_UTF8) and the peer gets 1007; without a listener nothing is thrown", async (t) => {
    const { ws, peer } = await rawPair(t);
    const failed = nextEvent<[Error & { code: string }]>(ws, 'error', 3000);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80]) }));
    const [error] = await failed;
    assert.equal(error.code, 'WS_ERR_INVALID_UTF8');
    assert.equal((error.cause as { code: string }).code, 'WSF_ERR_INVALID_UTF8');
    assert.equal((await peer.nextClose(3000)).code, 1007);
    const other = await rawPair(t);
    other.peer.write(clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xff]) }));
    assert.equal((await other.peer.nextClose(3000)).code, 1007);
  });

  test("doc: 'error' codes for frame errors: WS_ERR_UNEXPECTED_RSV_2_3, WS_ERR_EXPECTED_MASK, WS_ERR_INVALID_CLOSE_CODE, WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", async (t) => {
    const cases: Array<[string, Buffer, object]> = [
      ['WS_ERR_UNEXPECTED_RSV_2_3', clientFrame({ opcode: OP.TEXT, payload: 'x', rsv2: true }), {}],
      ['WS_ERR_EXPECTED_MASK', Buffer.from([0x81, 0x01, 0x78]), {}],
      ['WS_ERR_INVALID_CLOSE_CODE', clientFrame({ opcode: OP.CLOSE, payload: closePayload(1005) }), {}],
      ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(20) }), { maxPayload: 10 }],
    ];
    for (const [code, frame, options] of cases) {
      const { ws, peer } = await rawPair(t, options);
      const failed = nextEvent<[Error & { code: string }]>(ws, 'error', 3000);
      peer.write(frame);
      assert.equal((await failed)[0].code, code);
    }
  });

  test("doc: 'ping' and 'pong' give the payload; pings are answered", async (t) => {
    const { ws, peer } = await rawPair(t);
    const ping = nextEvent<[Buffer]>(ws, 'ping', 3000);
    const pong = nextEvent<[Buffer]>(ws, 'pong', 3000);
    peer.write(clientFrame({ opcode: OP.PING, payload: 'p1' }));
    peer.write(clientFrame({ opcode: OP.PONG, payload: 'p2' }));
    assert.equal((await ping)[0].toString(), 'p1');
    assert.equal((await pong)[0].toString(), 'p2');
    const answer = await peer.nextFrame(3000);
    assert.deepEqual([answer.opcode, answer.payload.toString()], [OP.PONG, 'p1']);
  });
});

describe('WebSocket methods', () => {
  test('doc: send(data[, options][, callback]): strings as text, binary data as binary, options.binary overrides; the callback runs once written', async (t) => {
    const { ws, peer } = await rawPair(t);
    const written: Array<Error | null | undefined> = [];
    const done = new Promise<void>((resolve) => {
      ws.send('text');
      ws.send(Buffer.from([1]));
      ws.send(Buffer.from('as text'), { binary: false });
      ws.send('as binary', { binary: true }, (error) => written.push(error));
      ws.send(42, (error) => {
        written.push(error);
        resolve();
      });
    });
    await withTimeout(done, 3000, 'the send callbacks');
    assert.deepEqual(written.map((e) => e ?? null), [null, null]);
    const frames = [];
    for (let i = 0; i < 5; i++) frames.push(await peer.nextFrame(3000));
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.masked, f.payload.toString('latin1')]),
      [
        [OP.TEXT, false, 'text'],
        [OP.BINARY, false, '\u0001'],
        [OP.TEXT, false, 'as text'],
        [OP.BINARY, false, 'as binary'],
        [OP.TEXT, false, '42'],
      ],
    );
  });

  test('doc: send() takes arrays, ArrayBuffers, typed arrays, DataViews and Blobs (in order after a Blob); mask is ignored on the server', async (t) => {
    const { ws, peer } = await rawPair(t);
    ws.send([1, 2]);
    ws.send(new Uint8Array([3, 4]).buffer, { mask: true });
    ws.send(new Blob([Buffer.from([5, 6])]));
    ws.send(new Uint16Array([0x0807]));
    ws.send(new DataView(new Uint8Array([9]).buffer));
    const frames = [];
    for (let i = 0; i < 5; i++) frames.push(await peer.nextFrame(3000));
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.masked, [...f.payload]]),
      [
        [OP.BINARY, false, [1, 2]],
        [OP.BINARY, false, [3, 4]],
        [OP.BINARY, false, [5, 6]],
        [OP.BINARY, false, [7, 8]],
        [OP.BINARY, false, [9]],
      ],
    );
  });

  test('doc: send(data, { fin: false }) sends a fragment; the sends that follow continue the message until fin (RFC 6455 §5.4)', async (t) => {
    const { ws, peer } = await rawPair(t);
    const last = new Promise<Error | null | undefined>((resolve) => {
      ws.send('hel', { fin: false });
      ws.send('lo ', { fin: false });
      ws.send('world', { fin: true }, resolve);
    });
    assert.equal((await withTimeout(last, 3000, 'the last fragment callback')) ?? null, null);
    const frames = [await peer.nextFrame(3000), await peer.nextFrame(3000), await peer.nextFrame(3000)];
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [
        [OP.TEXT, false, 'hel'],
        [OP.CONTINUATION, false, 'lo '],
        [OP.CONTINUATION, true, 'world'],
      ],
    );
  });

  test('doc: send() once closing does not throw: the callback gets an error and bufferedAmount grows, as in ws', async (t) => {
    const { ws, client } = await pair(t);
    ws.close(1000);
    const before = ws.bufferedAmount;
    const late = new Promise<Error | null | undefined>((resolve) => ws.send('late', resolve));
    assert.equal(ws.bufferedAmount, before + 4);
    const error = await withTimeout(late, 3000, 'the callback of a late send');
    assert.match(String(error), /WebSocket is not open: readyState 2 \(CLOSING\)/);
    ws.ping('late ping');
    await client.closed;
  });

  test('doc: ping([data[, mask]][, callback]) and pong(): control frames with the data; callbacks in every argument position; over 125 bytes throws', async (t) => {
    const { ws, peer } = await rawPair(t);
    const calls: string[] = [];
    await withTimeout(
      new Promise<void>((resolve) => {
        ws.ping(() => calls.push('ping()'));
        ws.ping('a', () => calls.push('ping(data)'));
        ws.ping('b', true, () => calls.push('ping(data, mask)'));
        ws.pong('c', false, () => {
          calls.push('pong(data, mask)');
          resolve();
        });
      }),
      3000,
      'the ping and pong callbacks',
    );
    assert.deepEqual(calls, ['ping()', 'ping(data)', 'ping(data, mask)', 'pong(data, mask)']);
    const frames = [];
    for (let i = 0; i < 4; i++) frames.push(await peer.nextFrame(3000));
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.masked, f.payload.toString()]),
      [
        [OP.PING, false, ''],
        [OP.PING, false, 'a'],
        [OP.PING, false, 'b'],
        [OP.PONG, false, 'c'],
      ],
    );
    assert.throws(() => ws.ping(Buffer.alloc(126)));
  });

  test('doc: close(code, reason) sends them; a code a close frame cannot carry is a TypeError, a reason over 123 bytes a RangeError; close() sends an empty close frame', async (t) => {
    const { ws, peer } = await rawPair(t);
    assert.throws(() => ws.close(1005), { name: 'TypeError' });
    assert.throws(() => ws.close(1000, 'x'.repeat(124)), { name: 'RangeError' });
    ws.close(4001, Buffer.from('done ✓'));
    assert.deepEqual(await peer.nextClose(3000), { code: 4001, reason: 'done ✓' });
    const other = await rawPair(t);
    other.ws.close();
    const frame = await other.peer.nextFrame(3000);
    assert.deepEqual([frame.opcode, frame.payload.length], [OP.CLOSE, 0]);
  });

  test('doc: terminate() drops the connection at once: CLOSING, then CLOSED with 1006', async (t) => {
    const { ws, client } = await pair(t);
    const closed = nextEvent<[number, Buffer]>(ws, 'close', 3000);
    ws.terminate();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.equal((await closed)[0], 1006);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal((await client.closed).code, 1006);
  });

  test('doc: pause() stops message events until resume(); isPaused says so; both do nothing once closed', async (t) => {
    const { ws, client } = await pair(t);
    const got = messages(ws);
    ws.pause();
    assert.equal(ws.isPaused, true);
    client.ws.send('while paused');
    const resumed = got.next(3000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(got.history.length, 0);
    ws.resume();
    assert.equal(ws.isPaused, false);
    assert.equal((await resumed)[0].toString(), 'while paused');
    const closed = nextEvent(ws, 'close', 3000);
    client.ws.close();
    await closed;
    ws.pause();
    assert.equal(ws.isPaused, false);
  });
});

describe('WebSocket properties', () => {
  test('doc: bufferedAmount, extensions, protocol, url (undefined on the server side)', async (t) => {
    const server = await startCompat(t, { perMessageDeflate: true });
    const client = await openClient(t, server.url, ['chat'], { perMessageDeflate: true });
    const [ws] = await nextConnection(server);
    assert.equal(ws.protocol, 'chat');
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.equal(ws.url, undefined);
    assert.equal(ws.bufferedAmount, 0);
    client.ws.close();
  });
});

describe('WebSocket EventTarget emulation', () => {
  test('doc: addEventListener: MessageEvent (text as a string), CloseEvent, once; removeEventListener; other types ignored', async (t) => {
    const { ws, client } = await pair(t);
    const events: string[] = [];
    const onMessage = (event: MessageEvent): void => {
      assert.ok(event instanceof MessageEvent);
      assert.equal(event.target, ws);
      events.push(`message ${typeof event.data} ${String(event.data)}`);
    };
    ws.addEventListener('message', onMessage);
    ws.addEventListener('message', onMessage);
    ws.addEventListener('message', { handleEvent: (event) => events.push(`object ${String(event.data)}`) }, { once: true });
    ws.addEventListener('bogus' as 'message', onMessage);
    const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
    client.ws.send('one');
    await nextEvent(ws, 'message', 3000);
    ws.removeEventListener('message', onMessage);
    client.ws.send('two');
    await nextEvent(ws, 'message', 3000);
    client.ws.close(4002, 'reason ✓');
    const close = await withTimeout(closed, 3000, 'the close event');
    assert.ok(close instanceof CloseEvent);
    assert.deepEqual([close.type, close.code, close.reason, close.wasClean], ['close', 4002, 'reason ✓', true]);
    assert.deepEqual(events, ['message string one', 'object one']);
  });

  test('doc: onmessage, onclose, onerror (ErrorEvent): one handler each, replaced on assignment, kept apart from addEventListener', async (t) => {
    const { ws, peer } = await rawPair(t);
    const seen: string[] = [];
    ws.onmessage = () => seen.push('first');
    ws.onmessage = (event: MessageEvent) => seen.push(`second ${String(event.data)}`);
    ws.addEventListener('message', () => seen.push('listener'));
    assert.equal(typeof ws.onmessage, 'function');
    const errored = new Promise<ErrorEvent>((resolve) => {
      ws.onerror = resolve;
    });
    const closed = new Promise<CloseEvent>((resolve) => {
      ws.onclose = resolve;
    });
    assert.equal(ws.onopen, null);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'm' }));
    await nextEvent(ws, 'message', 3000);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xff]) }));
    const error = await withTimeout(errored, 3000, 'the error event');
    assert.ok(error instanceof ErrorEvent);
    assert.match(error.message, /UTF-8/i);
    const close = await withTimeout(closed, 3000, 'the close event');
    assert.equal(close.code, 1007);
    assert.deepEqual(seen, ['second m', 'listener']);
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
  });
});

describe('createWebSocketStream(websocket[, options])', () => {
  test('doc: a Duplex: messages are read, writes go out as binary messages, end() closes; the readable side ends at close', async (t) => {
    const { ws, client } = await pair(t);
    const duplex = createWebSocketStream(ws);
    const received: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        callback();
      },
    });
    const piped = pipeline(duplex, sink);
    duplex.write(Buffer.from('from the stream'));
    const echoed = await client.messages.next(3000);
    assert.deepEqual([echoed.data.toString(), echoed.isBinary], ['from the stream', true]);
    client.ws.send('to the stream');
    client.ws.send(Buffer.from([1, 2]));
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (received.length >= 2) resolve();
          else setTimeout(check, 5);
        };
        check();
      }),
      3000,
      'two messages through the stream',
    );
    duplex.end();
    assert.equal((await client.closed).code, 1005);
    await withTimeout(piped, 3000, 'the pipeline to finish');
    assert.deepEqual(
      received.map((chunk) => chunk.toString('latin1')),
      ['to the stream', '\u0001\u0002'],
    );
  });
});
