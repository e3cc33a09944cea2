/** The WHATWG WebSocket class (wsforge/whatwg) against a wsforge server on loopback. */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { CloseEvent, WebSocket, WebSocketMessageEvent } from '../../src/whatwg.js';
import type { WebSocket as Connection } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { echo, startServer, type RunningServer } from '../helpers/server-fixture.js';
import { nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';

guardProcess();

function once<E extends Event = Event>(target: EventTarget, type: string, ms = 2000): Promise<E> {
  return withTimeout(new Promise<E>((resolve) => target.addEventListener(type, (e) => resolve(e as E), { once: true })), ms, `"${type}" event`);
}

async function echoServer(t: TestContext, options = {}): Promise<RunningServer> {
  const server = await startServer(options);
  echo(server.wss);
  t.after(() => server.stop());
  return server;
}

/** Open a WHATWG socket and make sure it is gone after the test. */
async function open(t: TestContext, port: number, protocols?: string | string[]): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, protocols);
  t.after(async () => {
    if (ws.readyState === WebSocket.CLOSED) return;
    const closed = once(ws, 'close', 3000);
    if (ws.readyState === WebSocket.OPEN) ws.close();
    await closed.catch(() => {});
  });
  await once(ws, 'open');
  return ws;
}

describe('WHATWG WebSocket: lifecycle', () => {
  test('WHATWG §readyState: CONNECTING → OPEN → CLOSING → CLOSED, with onopen and onclose', async (t) => {
    const server = await echoServer(t);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.readyState, 0);
    const states: number[] = [];
    ws.onopen = () => states.push(ws.readyState);
    const opened = once(ws, 'open');
    await opened;
    assert.equal(ws.readyState, WebSocket.OPEN);
    const closed = once<CloseEvent>(ws, 'close');
    ws.onclose = () => states.push(ws.readyState);
    ws.close(1000, 'bye');
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const event = await closed;
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(states, [1, 3]);
    assert.ok(event instanceof CloseEvent);
    assert.equal(event.code, 1000);
    assert.equal(event.wasClean, true);
  });

  test('WHATWG: url is the parsed URL; protocol is the negotiated subprotocol', async (t) => {
    const server = await echoServer(t, { protocols: ['b'] });
    const ws = await open(t, server.port, ['a', 'b']);
    assert.equal(ws.url, `ws://127.0.0.1:${server.port}/`);
    assert.equal(ws.protocol, 'b');
  });

  test('WHATWG: CloseEvent carries the server\'s code and reason, wasClean true', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    server.wss.on('connection', (ws: Connection) => setTimeout(() => ws.close(4000, 'server says bye'), 20));
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const errors: Event[] = [];
    ws.onerror = (e) => errors.push(e);
    const event = await once<CloseEvent>(ws, 'close', 3000);
    assert.equal(event.code, 4000);
    assert.equal(event.reason, 'server says bye');
    assert.equal(event.wasClean, true);
    assert.equal(errors.length, 0, 'no error event on a clean close');
  });

  test('WHATWG: a dropped connection gives error, then close 1006 with wasClean false', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    server.wss.on('connection', (ws: Connection) => setTimeout(() => ws.terminate(), 20));
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const order: string[] = [];
    ws.addEventListener('error', () => order.push('error'));
    const event = await once<CloseEvent>(ws, 'close', 3000);
    order.push('close');
    assert.deepEqual(order, ['error', 'close']);
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
  });

  test('WHATWG: a failed connection (refused) → error, then close 1006; readyState CLOSED', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const order: string[] = [];
    ws.onerror = () => order.push('error');
    ws.onopen = () => order.push('open');
    const event = await once<CloseEvent>(ws, 'close', 3000);
    assert.deepEqual(order, ['error']);
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test('WHATWG: a handshake refused by the server (404) → error, then close 1006', async (t) => {
    const server = await startServer({ path: '/only' });
    t.after(() => server.stop());
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/elsewhere`);
    const error = once(ws, 'error', 3000);
    const close = once<CloseEvent>(ws, 'close', 3000);
    await error;
    assert.equal((await close).code, 1006);
  });

  test('WHATWG: close() while CONNECTING → readyState CLOSING, then error and close 1006, never open', async (t) => {
    const server = await echoServer(t);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const order: string[] = [];
    ws.onopen = () => order.push('open');
    ws.onerror = () => order.push('error');
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const event = await once<CloseEvent>(ws, 'close', 3000);
    assert.deepEqual(order, ['error']);
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test('WHATWG: a bad URL throws SyntaxError from the constructor', () => {
    for (const url of ['nope', 'ftp://x/', 'ws://x/#frag']) {
      assert.throws(() => new WebSocket(url), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError', url);
    }
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', ['a', 'a']), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', 'bad proto'), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
  });
});

describe('WHATWG WebSocket: send, close and errors', () => {
  test('WHATWG: send() before open throws InvalidStateError', async (t) => {
    const server = await echoServer(t);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    assert.throws(() => ws.send('too early'), (e: unknown) => e instanceof DOMException && e.name === 'InvalidStateError');
    await once(ws, 'open');
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });

  for (const code of [1001, 1002, 999, 2999, 5000, 1005]) {
    test(`WHATWG: close(${code}) throws InvalidAccessError`, async (t) => {
      const server = await echoServer(t);
      const ws = await open(t, server.port);
      assert.throws(() => ws.close(code), (e: unknown) => e instanceof DOMException && e.name === 'InvalidAccessError');
      assert.equal(ws.readyState, WebSocket.OPEN);
    });
  }

  test('WHATWG: close(1000, reason over 123 bytes) throws SyntaxError; close(3000) and close(4999) are allowed', async (t) => {
    const server = await echoServer(t);
    const ws = await open(t, server.port);
    assert.throws(() => ws.close(1000, 'x'.repeat(124)), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
    const closed = once<CloseEvent>(ws, 'close');
    ws.close(4999, 'done');
    assert.equal((await closed).code, 4999);
  });

  test('WHATWG: text, ArrayBuffer, typed array and Blob sends arrive in order with the right types', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const received: Array<[string | Buffer, boolean]> = [];
    server.wss.on('connection', (c: Connection) => c.on('message', (data, isBinary) => received.push([data, isBinary])));
    const ws = await open(t, server.port);
    ws.send('text');
    ws.send(new Uint8Array([1, 2]).buffer);
    ws.send(new Blob([Buffer.from([3, 4, 5])]));
    ws.send(new Uint16Array([0x0706]));
    ws.send('after blob');
    await waitUntil(() => received.length === 5, 3000, 'five messages');
    assert.deepEqual(received, [
      ['text', false],
      [Buffer.from([1, 2]), true],
      [Buffer.from([3, 4, 5]), true],
      [Buffer.from(new Uint8Array(new Uint16Array([0x0706]).buffer)), true],
      ['after blob', false],
    ]);
  });

  test('WHATWG: data sent after close() is discarded but counted in bufferedAmount', async (t) => {
    const server = await echoServer(t);
    const ws = await open(t, server.port);
    const closed = once(ws, 'close');
    ws.close();
    ws.send('12345');
    assert.ok(ws.bufferedAmount >= 5);
    await closed;
  });
});

describe('WHATWG WebSocket: receiving', () => {
  async function receiveBinary(t: TestContext, binaryType?: 'blob' | 'arraybuffer' | 'nodebuffer') {
    const server = await echoServer(t);
    const ws = await open(t, server.port);
    if (binaryType !== undefined) ws.binaryType = binaryType;
    const message = once<WebSocketMessageEvent>(ws, 'message');
    ws.send(new Uint8Array([9, 8, 7]));
    return { ws, event: await message, server };
  }

  test("WHATWG: binaryType defaults to 'blob'; binary messages arrive as Blob", async (t) => {
    const { ws, event } = await receiveBinary(t);
    assert.equal(ws.binaryType, 'blob');
    assert.ok(event.data instanceof Blob);
    assert.deepEqual(Buffer.from(await (event.data as Blob).arrayBuffer()), Buffer.from([9, 8, 7]));
  });

  test("WHATWG: binaryType 'arraybuffer' gives an ArrayBuffer of exactly the message", async (t) => {
    const { event } = await receiveBinary(t, 'arraybuffer');
    assert.ok(event.data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(event.data as ArrayBuffer)], [9, 8, 7]);
  });

  test("WHATWG: binaryType 'nodebuffer' gives a Buffer", async (t) => {
    const { event } = await receiveBinary(t, 'nodebuffer');
    assert.ok(Buffer.isBuffer(event.data));
    assert.deepEqual(event.data, Buffer.from([9, 8, 7]));
  });

  test('WHATWG: an invalid binaryType assignment is ignored', async (t) => {
    const server = await echoServer(t);
    const ws = await open(t, server.port);
    ws.binaryType = 'arraybuffer';
    ws.binaryType = 'bogus' as 'blob';
    assert.equal(ws.binaryType, 'arraybuffer');
  });

  test('WHATWG: text messages arrive as strings; onmessage and addEventListener both fire; origin is set', async (t) => {
    const server = await echoServer(t);
    const ws = await open(t, server.port);
    const viaProperty: unknown[] = [];
    const viaListener: unknown[] = [];
    ws.onmessage = (e) => viaProperty.push(e.data);
    ws.addEventListener('message', (e) => viaListener.push((e as WebSocketMessageEvent).data));
    const event = once<WebSocketMessageEvent>(ws, 'message');
    ws.send('héllo');
    assert.equal((await event).origin, `ws://127.0.0.1:${server.port}`);
    assert.deepEqual(viaProperty, ['héllo']);
    assert.deepEqual(viaListener, ['héllo']);
  });

  test('WHATWG: assigning onmessage again replaces the previous handler; null removes it', async (t) => {
    const server = await echoServer(t);
    const ws = await open(t, server.port);
    const calls: string[] = [];
    ws.onmessage = () => calls.push('first');
    ws.onmessage = () => calls.push('second');
    let event = once(ws, 'message');
    ws.send('a');
    await event;
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
    event = once(ws, 'message');
    ws.send('b');
    await event;
    assert.deepEqual(calls, ['second']);
  });

  test('WHATWG: a server connection sees the WHATWG client as a normal client (clean close from the client)', async (t) => {
    const server = await echoServer(t);
    const serverSide = nextEvent<[Connection]>(server.wss, 'connection', 2000);
    const ws = await open(t, server.port);
    const [connection] = await serverSide;
    const serverClosed = nextEvent<[number, string]>(connection, 'close', 2000);
    ws.close(3000, 'client done');
    assert.deepEqual(await serverClosed, [3000, 'client done']);
    assert.equal(connection.wasClean, true);
  });
});
