// WebSocketStream (WebSockets Standard): wsforge's (wsforge/whatwg) and undici's run the same
// scenarios against one wsforge server: the open info, text and binary echo through the
// streams, closes with a code from either side, an unclean drop, abort before open, a refused
// connection, and backpressure both ways (a peer that stops reading holds the writer back; a
// reader that stops reading stops the socket reads, so the server's buffer fills).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ReadableStream, WritableStream } from 'node:stream/web';
import { type HandshakeRequest, WebSocketServer, type WebSocket } from '../../src/index.js';
import { WebSocketError as WhatwgWebSocketError, WebSocketStream } from '../../src/whatwg.js';
import { guardProcess } from '../helpers/process-guard.js';
import { EventQueue } from './bounded-wait.js';
import { delay, nextEvent, withTimeout } from '../helpers/timing.js';
import { loadUndici } from './npm-peers.js';
import { freePort } from './proxy-peers.js';

guardProcess();

interface StreamLike {
  readonly opened: Promise<{ readable: ReadableStream<unknown>; writable: WritableStream<unknown>; protocol: string; extensions: string }>;
  readonly closed: Promise<{ closeCode: number; reason: string }>;
  close(info?: { closeCode?: number; reason?: string }): void;
}
type StreamConstructor = new (url: string, options?: { protocols?: string[]; signal?: AbortSignal }) => StreamLike;

interface Implementation {
  readonly name: string;
  readonly create: () => Promise<StreamConstructor>;
  /** Whether a reader that stops reading stops the socket reads. */
  readonly readBackpressure: boolean;
}

const IMPLEMENTATIONS: readonly Implementation[] = [
  { name: 'wsforge WebSocketStream', create: () => Promise.resolve(WebSocketStream as unknown as StreamConstructor), readBackpressure: true },
  {
    name: 'undici WebSocketStream',
    create: async () => (await loadUndici()).WebSocketStream as unknown as StreamConstructor,
    // undici 7.30: its readable enqueues every message as it arrives ("Apply backpressure to
    // the WebSocket" is a TODO in websocketstream.js), so it keeps reading into memory.
    readBackpressure: false,
  },
];

const FLOOD_MESSAGES = 128;
const FLOOD_SIZE = 256 * 1024;

let wss: WebSocketServer;
let port: number;
const connections = new EventQueue<{ path: string; ws: WebSocket }>('connection');
/** Messages the server received, per path. */
const received = new Map<string, Array<string | Buffer>>();

before(async () => {
  wss = new WebSocketServer({ protocols: ['chat'], closeTimeout: 300 });
  wss.on('connection', (ws: WebSocket, request: HandshakeRequest) => {
    const path = request.path;
    const messages: Array<string | Buffer> = [];
    received.set(path, messages);
    ws.on('message', (data, isBinary) => {
      messages.push(data);
      if (path.startsWith('/echo')) ws.send(data, { binary: isBinary });
    });
    if (path.startsWith('/server-close')) {
      ws.send('last words');
      ws.close(4001, 'server bye');
    } else if (path.startsWith('/drop')) {
      ws.send('then nothing');
      setTimeout(() => ws.terminate(), 50);
    } else if (path.startsWith('/paused')) {
      ws.pause();
    } else if (path.startsWith('/flood')) {
      for (let i = 0; i < FLOOD_MESSAGES; i++) {
        const message = Buffer.alloc(FLOOD_SIZE, i & 0xff);
        message.writeUInt32BE(i, 0);
        ws.send(message);
      }
    }
    connections.push({ path, ws });
  });
  port = (await wss.listen({ host: '127.0.0.1' })).port;
});

after(() => withTimeout(wss.close(), 5000, 'the server to close'));

async function serverSide(path: string): Promise<WebSocket> {
  for (;;) {
    const connection = await connections.next(5000, `the server connection for ${path}`);
    if (connection.path === path) return connection.ws;
  }
}

for (const implementation of IMPLEMENTATIONS) {
  describe(implementation.name, () => {
    let Stream: StreamConstructor;
    before(async () => {
      Stream = await implementation.create();
    });
    const url = (path: string) => `ws://127.0.0.1:${port}${path}`;
    const tag = implementation.name.startsWith('wsforge') ? 'wsforge' : 'undici';

    test('opened: the subprotocol chosen, no extensions; text and binary echo through the streams', async () => {
      const path = `/echo-${tag}`;
      const stream = new Stream(url(path), { protocols: ['chat'] });
      const { readable, writable, protocol, extensions } = await withTimeout(stream.opened, 5000, 'opened');
      assert.equal(protocol, 'chat');
      assert.equal(extensions, '');
      const writer = writable.getWriter();
      const reader = readable.getReader();
      await writer.write('hello streams');
      await writer.write(new Uint8Array([1, 2, 3, 250]));
      const text = await withTimeout(reader.read(), 3000, 'the text echo');
      assert.deepEqual(text, { value: 'hello streams', done: false });
      const binary = await withTimeout(reader.read(), 3000, 'the binary echo');
      assert.ok(binary.value instanceof Uint8Array, `binary arrives as a Uint8Array, got ${Object.prototype.toString.call(binary.value)}`);
      assert.deepEqual([...binary.value], [1, 2, 3, 250]);
      const server = await serverSide(path);
      const serverClosed = nextEvent<[number, string]>(server, 'close', 3000);
      stream.close({ closeCode: 4000, reason: 'bye' });
      assert.deepEqual(await withTimeout(stream.closed, 3000, 'closed'), { closeCode: 4000, reason: 'bye' });
      assert.deepEqual(await serverClosed, [4000, 'bye']);
      assert.deepEqual(await withTimeout(reader.read(), 1000, 'the end of the readable'), { value: undefined, done: true });
    });

    test('the server closes with 4001: the readable delivers what came before, then ends; closed resolves with the code', async () => {
      const stream = new Stream(url(`/server-close-${tag}`), { protocols: ['chat'] });
      const { readable } = await withTimeout(stream.opened, 5000, 'opened');
      const reader = readable.getReader();
      assert.deepEqual(await withTimeout(reader.read(), 3000, 'the last message'), { value: 'last words', done: false });
      assert.deepEqual(await withTimeout(reader.read(), 3000, 'the end'), { value: undefined, done: true });
      assert.deepEqual(await withTimeout(stream.closed, 3000, 'closed'), { closeCode: 4001, reason: 'server bye' });
    });

    test('a dropped connection: closed rejects with a WebSocketError, closeCode 1006', async () => {
      const stream = new Stream(url(`/drop-${tag}`), { protocols: ['chat'] });
      await withTimeout(stream.opened, 5000, 'opened');
      const error = await withTimeout(stream.closed.then(() => assert.fail('closed resolved'), (e: unknown) => e), 3000, 'closed to reject');
      assert.equal((error as { name: string }).name, 'WebSocketError');
      assert.equal((error as { closeCode: number }).closeCode, 1006);
    });

    test('a signal aborted before the handshake: opened and closed reject with its reason', async () => {
      const controller = new AbortController();
      controller.abort(new Error('changed my mind'));
      const stream = new Stream(url(`/echo-abort-${tag}`), { signal: controller.signal });
      await assert.rejects(stream.opened, /changed my mind/);
      await assert.rejects(stream.closed, /changed my mind/);
    });

    test('nothing listening: opened rejects with a WebSocketError', async () => {
      const closedPort = await freePort();
      const stream = new Stream(`ws://127.0.0.1:${closedPort}/`);
      const error = await withTimeout(stream.opened.then(() => assert.fail('opened resolved'), (e: unknown) => e), 5000, 'opened to reject');
      assert.equal((error as { name: string }).name, 'WebSocketError');
      await assert.rejects(stream.closed);
    });

    test('write backpressure: with the server not reading, writes stop resolving; they resume when it reads', async () => {
      const path = `/paused-${tag}`;
      const stream = new Stream(url(path), { protocols: ['chat'] });
      const { writable } = await withTimeout(stream.opened, 5000, 'opened');
      const server = await serverSide(path);
      const writer = writable.getWriter();
      const chunk = new Uint8Array(FLOOD_SIZE);
      let accepted = 0;
      const writing = (async () => {
        for (let i = 0; i < FLOOD_MESSAGES; i++) {
          await writer.ready;
          void writer.write(chunk).catch(() => {});
          accepted++;
        }
        await writer.ready;
      })();
      // Without backpressure all 32 MiB would be taken at once; give it time to get stuck.
      await delay(500);
      const whilePaused = accepted;
      assert.ok(whilePaused < FLOOD_MESSAGES * 0.75, `${whilePaused} of ${FLOOD_MESSAGES} writes (${(whilePaused * FLOOD_SIZE) / 2 ** 20} MiB) accepted while the server read nothing`);
      server.resume();
      await withTimeout(writing, 10_000, 'every write once the server reads');
      await withTimeout(
        (async () => {
          while ((received.get(path)?.length ?? 0) < FLOOD_MESSAGES) await nextEvent(server, 'message', 5000);
        })(),
        10_000,
        'every message at the server',
      );
      stream.close();
      await withTimeout(stream.closed, 3000, 'closed');
    });

    test(`read backpressure: a reader that stops reading ${implementation.readBackpressure ? 'stops the socket reads' : 'does NOT stop the socket reads (undici 7.30)'}; every message arrives in order`, async () => {
      const path = `/flood-${tag}`;
      const stream = new Stream(url(path), { protocols: ['chat'] });
      const { readable } = await withTimeout(stream.opened, 5000, 'opened');
      const server = await serverSide(path);
      // Nobody reads for a while: 32 MiB were sent; the kernel buffers a few MiB at most.
      await delay(500);
      const stuck = server.bufferedAmount;
      if (implementation.readBackpressure) {
        assert.ok(stuck > 8 * 2 ** 20, `the server still holds ${stuck} bytes: the client stopped reading`);
      } else {
        assert.ok(stuck < 2 ** 20, `the server holds ${stuck} bytes: the client read everything into memory`);
      }
      const reader = readable.getReader();
      for (let i = 0; i < FLOOD_MESSAGES; i++) {
        const { value, done } = await withTimeout(reader.read(), 5000, `message ${i}`);
        assert.equal(done, false);
        const bytes = value as Uint8Array;
        assert.equal(bytes.byteLength, FLOOD_SIZE);
        assert.equal(Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32BE(0), i, 'messages in order');
      }
      assert.equal(server.bufferedAmount, 0, 'everything was read');
      stream.close({ closeCode: 1000 });
      assert.deepEqual(await withTimeout(stream.closed, 3000, 'closed'), { closeCode: 1000, reason: '' });
    });
  });
}

describe('wsforge WebSocketStream specifics', () => {
  test('aborting the writable with a WebSocketError closes with its code and reason', async () => {
    const path = '/echo-abort-writable';
    const stream = new WebSocketStream(`ws://127.0.0.1:${port}${path}`, { protocols: ['chat'] });
    const { writable } = await withTimeout(stream.opened, 5000, 'opened');
    const server = await serverSide(path);
    const serverClosed = nextEvent<[number, string]>(server, 'close', 3000);
    await writable.abort(new WhatwgWebSocketError('stop', { closeCode: 4002, reason: 'aborted' }));
    assert.deepEqual(await serverClosed, [4002, 'aborted']);
    assert.deepEqual(await withTimeout(stream.closed, 3000, 'closed'), { closeCode: 4002, reason: 'aborted' });
  });

  test('close() checks its arguments as the standard says (InvalidAccessError, SyntaxError); a reason alone means 1000', async () => {
    const path = '/echo-close-args';
    const stream = new WebSocketStream(`ws://127.0.0.1:${port}${path}`, { protocols: ['chat'] });
    await withTimeout(stream.opened, 5000, 'opened');
    const server = await serverSide(path);
    assert.throws(() => stream.close({ closeCode: 1001 }), (e: unknown) => e instanceof DOMException && e.name === 'InvalidAccessError');
    assert.throws(() => stream.close({ closeCode: 1000, reason: 'x'.repeat(124) }), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
    const serverClosed = nextEvent<[number, string]>(server, 'close', 3000);
    stream.close({ reason: 'only a reason' });
    assert.deepEqual(await serverClosed, [1000, 'only a reason']);
  });

  test('a bad subprotocol list throws SyntaxError; a server that chooses no subprotocol fails the connection', async () => {
    assert.throws(() => new WebSocketStream(`ws://127.0.0.1:${port}/`, { protocols: ['a b'] }), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
    assert.throws(() => new WebSocketStream(`ws://127.0.0.1:${port}/`, { protocols: ['x', 'X'] }), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
    const stream = new WebSocketStream(`ws://127.0.0.1:${port}/echo-none`, { protocols: ['unknown'] });
    await assert.rejects(stream.opened, (e: unknown) => e instanceof WhatwgWebSocketError && e.closeCode === 1006);
  });
});
