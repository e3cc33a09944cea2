/**
 * wsforge/ws as socket.io's WebSocket engine (`new Server(httpServer, { wsEngine:
 * WebSocketServer })`): real `socket.io` and `socket.io-client` from npm over loopback,
 * WebSocket transport only: acks both ways, rooms and broadcast, binary attachments,
 * disconnect reasons, and the server-side `disconnectSockets()`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type * as SocketIoModule from 'socket.io';
import type * as SocketIoClientModule from 'socket.io-client';
import { type ServerOptions, WebSocket, WebSocketServer } from '../../src/ws/index.js';
import { OP } from '../helpers/wire-frames.js';
import { openRaw } from '../helpers/raw-peer.js';
import { loadWs } from '../interop/npm-peers.js';
import { nextConnection, startCompat } from './compat-fixture.js';
import { withTimeout } from '../helpers/timing.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

async function importPeer<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw new Error(
      `the npm package "${name}" (a devDependency of wsforge) cannot be loaded: ${(error as Error).message}. ` +
        `Install it from the repository root: npm ci (or: npm install --save-dev ${name})`,
    );
  }
}

type IoServer = SocketIoModule.Server;
type IoServerSocket = SocketIoModule.Socket;
type IoClient = SocketIoClientModule.Socket;

interface Setup {
  io: IoServer;
  http: HttpServer;
  url: string;
  /** A connected client and its socket on the server. */
  connect(query?: Record<string, string>): Promise<{ client: IoClient; socket: IoServerSocket }>;
}

/** socket.io on an http server on loopback with wsforge/ws as its engine, and a client factory. */
async function setup(t: TestContext, engine: typeof WebSocketServer = WebSocketServer): Promise<Setup> {
  const { Server } = await importPeer<typeof SocketIoModule>('socket.io');
  const { io: ioClient } = await importPeer<typeof SocketIoClientModule>('socket.io-client');
  const http = createServer();
  const io = new Server(http, { wsEngine: engine, transports: ['websocket'] });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const clients: IoClient[] = [];
  t.after(async () => {
    for (const client of clients) client.close();
    await withTimeout(new Promise<void>((resolve) => io.close(() => resolve())), 5000, 'socket.io to close');
  });
  const pending = new Map<string, (socket: IoServerSocket) => void>();
  io.on('connection', (socket) => {
    const key = String(socket.handshake.query['key']);
    pending.get(key)?.(socket);
  });
  let next = 0;
  return {
    io,
    http,
    url,
    async connect(query = {}) {
      const key = String(next++);
      const serverSide = new Promise<IoServerSocket>((resolve) => pending.set(key, resolve));
      const client = ioClient(url, { transports: ['websocket'], reconnection: false, query: { ...query, key } });
      clients.push(client);
      const [socket] = await withTimeout(
        Promise.all([
          serverSide,
          new Promise<void>((resolve, reject) => {
            client.once('connect', resolve);
            client.once('connect_error', reject);
          }),
        ]),
        5000,
        'a socket.io client to connect',
      );
      return { client, socket };
    },
  };
}

function nextClientEvent<T extends unknown[]>(client: IoClient, event: string): Promise<T> {
  return withTimeout(new Promise<T>((resolve) => client.once(event, (...args: unknown[]) => resolve(args as T))), 5000, `'${event}' on the client`);
}

function nextServerEvent<T extends unknown[]>(socket: IoServerSocket, event: string): Promise<T> {
  return withTimeout(new Promise<T>((resolve) => socket.once(event, (...args: unknown[]) => resolve(args as T))), 5000, `'${event}' on the server`);
}

describe('socket.io with wsforge/ws as wsEngine', () => {
  test('engine: the WebSocket transport runs on wsforge/ws (no polling), with its connection objects', async (t) => {
    const s = await setup(t);
    const { client, socket } = await s.connect();
    assert.equal(client.io.engine.transport.name, 'websocket');
    assert.equal(socket.conn.transport.name, 'websocket');
    const engine = s.io.engine as unknown as { ws: unknown };
    assert.ok(engine.ws instanceof WebSocketServer, 'engine.io created its WebSocket server from wsEngine');
  });

  test('acks both ways: emitWithAck from the client and from the server', async (t) => {
    const s = await setup(t);
    const { client, socket } = await s.connect();
    socket.on('sum', (a: number, b: number, ack: (result: number) => void) => ack(a + b));
    assert.equal(await withTimeout(client.emitWithAck('sum', 20, 22), 5000, 'the ack'), 42);
    client.on('greet', (name: string, ack: (reply: string) => void) => ack(`hello ${name} ✓`));
    assert.equal(await socket.timeout(5000).emitWithAck('greet', 'ada'), 'hello ada ✓');
  });

  test('rooms and broadcast: to(room) reaches its members only; socket.broadcast reaches all but the sender', async (t) => {
    const s = await setup(t);
    const a = await s.connect();
    const b = await s.connect();
    const c = await s.connect();
    await a.socket.join('room-1');
    await b.socket.join('room-1');
    const got: string[] = [];
    for (const [name, peer] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      peer.client.on('news', (text: string) => got.push(`${name}:${text}`));
    }
    const aNews = nextClientEvent<[string]>(a.client, 'news');
    const bNews = nextClientEvent<[string]>(b.client, 'news');
    s.io.to('room-1').emit('news', 'room only');
    await Promise.all([aNews, bNews]);
    const bAll = nextClientEvent<[string]>(b.client, 'news');
    const cAll = nextClientEvent<[string]>(c.client, 'news');
    a.socket.broadcast.emit('news', 'from a');
    await Promise.all([bAll, cAll]);
    // A round trip to a: anything for it would have arrived before the ack.
    a.socket.on('flush', (ack: () => void) => ack());
    await withTimeout(a.client.emitWithAck('flush'), 5000, 'the flush ack');
    assert.deepEqual(got.sort(), ['a:room only', 'b:from a', 'b:room only', 'c:from a']);
  });

  test('binary attachments: Buffers inside objects arrive intact both ways', async (t) => {
    const s = await setup(t);
    const { client, socket } = await s.connect();
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    const received = nextServerEvent<[{ name: string; file: Buffer; parts: Buffer[] }]>(socket, 'upload');
    client.emit('upload', { name: 'photo.bin', file: bytes, parts: [Buffer.from([1]), Buffer.from([2, 3])] });
    const [upload] = await received;
    assert.equal(upload.name, 'photo.bin');
    assert.ok(Buffer.isBuffer(upload.file));
    assert.deepEqual([...upload.file], [...bytes]);
    assert.deepEqual(
      upload.parts.map((part) => [...part]),
      [[1], [2, 3]],
    );
    const back = nextClientEvent<[{ reversed: ArrayBuffer | Buffer }]>(client, 'download');
    socket.emit('download', { reversed: Buffer.from([...bytes].reverse()) });
    const [download] = await back;
    assert.deepEqual([...new Uint8Array(download.reversed as ArrayBuffer)], [...bytes].reverse());
  });

  test("disconnect reasons: client disconnect(), server disconnect(true), a dropped transport", async (t) => {
    const s = await setup(t);
    const first = await s.connect();
    const byClient = nextServerEvent<[string]>(first.socket, 'disconnect');
    first.client.disconnect();
    assert.equal((await byClient)[0], 'client namespace disconnect');

    const second = await s.connect();
    const byServer = nextClientEvent<[string]>(second.client, 'disconnect');
    second.socket.disconnect(true);
    assert.equal((await byServer)[0], 'io server disconnect');

    const third = await s.connect();
    const dropped = nextServerEvent<[string]>(third.socket, 'disconnect');
    // The client's WebSocket goes away without a closing handshake.
    (third.client.io.engine.transport as unknown as { ws: { _socket: { destroy(): void } } }).ws._socket.destroy();
    assert.equal((await dropped)[0], 'transport close');
  });

  test("engine.io's pre-encoded frames: socket.io's broadcasts (framed once) go through ws._sender.sendFrame", async (t) => {
    let framesTaken = 0;
    class CountingWebSocket extends WebSocket {
      override get _sender(): WebSocket['_sender'] {
        const sender = super._sender;
        return {
          sendFrame: (frame: readonly Buffer[], callback?: (error?: Error | null) => void) => {
            framesTaken++;
            sender.sendFrame(frame, callback);
          },
        } as WebSocket['_sender'];
      }
    }
    class CountingServer extends WebSocketServer {
      constructor(options: ServerOptions, callback?: () => void) {
        super({ ...options, WebSocket: CountingWebSocket }, callback);
      }
    }
    const s = await setup(t, CountingServer);
    const a = await s.connect();
    const b = await s.connect();
    const got = [nextClientEvent<[string, number]>(a.client, 'tick'), nextClientEvent<[string, number]>(b.client, 'tick')];
    s.io.emit('tick', 'to everyone ✓', 7);
    assert.deepEqual(await Promise.all(got), [
      ['to everyone ✓', 7],
      ['to everyone ✓', 7],
    ]);
    assert.equal(framesTaken, 2);
  });

  test('API: _sender.sendFrame(frame) sends the frame built by ws.Sender.frame(); other frames are refused', async (t) => {
    const { Sender } = (await loadWs()) as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } };
    const server = await startCompat(t);
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    const [ws] = await nextConnection(server);
    const frame = Sender.frame(Buffer.from('42["m","once"]'), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
    const written = new Promise<Error | null | undefined>((resolve) => ws._sender.sendFrame(frame, resolve));
    assert.equal((await withTimeout(written, 3000, 'the sendFrame callback')) ?? null, null);
    const received = await peer.nextFrame(3000);
    assert.deepEqual([received.opcode, received.fin, received.payload.toString()], [OP.TEXT, true, '42["m","once"]']);
    const masked = Sender.frame(Buffer.from('x'), { readOnly: false, mask: true, rsv1: false, opcode: 1, fin: true });
    assert.throws(() => ws._sender.sendFrame(masked), { name: 'TypeError' });
    const fragment = Sender.frame(Buffer.from('x'), { readOnly: false, mask: false, rsv1: false, opcode: 2, fin: false });
    assert.throws(() => ws._sender.sendFrame(fragment), { name: 'TypeError' });
  });

  test('server-side disconnectSockets(): in(room) disconnects its members only; io.disconnectSockets() everyone', async (t) => {
    const s = await setup(t);
    const a = await s.connect();
    const b = await s.connect();
    const c = await s.connect();
    await a.socket.join('doomed');
    const aGone = nextClientEvent<[string]>(a.client, 'disconnect');
    s.io.in('doomed').disconnectSockets(true);
    assert.equal((await aGone)[0], 'io server disconnect');
    assert.equal(b.client.connected, true);
    const rest = [nextClientEvent<[string]>(b.client, 'disconnect'), nextClientEvent<[string]>(c.client, 'disconnect')];
    s.io.disconnectSockets(true);
    assert.deepEqual(
      (await Promise.all(rest)).map(([reason]) => reason),
      ['io server disconnect', 'io server disconnect'],
    );
    assert.equal((await s.io.fetchSockets()).length, 0);
  });
});
