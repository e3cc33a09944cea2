/**
 * The wsforge/ws client, `new WebSocket(address[, protocols][, options])`, against ws's
 * documentation (doc/ws.md) and ws's behaviour: real `ws` (npm) servers and wsforge/ws
 * servers on loopback, raw TCP servers for answers no real server gives, and the bytes on
 * the wire read by hand.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import type { WebSocketServer as WsServer, ServerOptions as WsServerOptions } from 'ws';
import { InvalidOptionError } from '../../src/index.js';
import WebSocketDefault, { type ClientOptions, type ClientUpgradeRequest, WebSocket } from '../../src/ws/index.js';
import { startFakeServer, switchingProtocols } from '../helpers/fake-server.js';
import { guardProcess } from '../helpers/process-guard.js';
import { delay, nextEvent, withTimeout } from '../helpers/timing.js';
import { OP, readClose, serverFrame } from '../helpers/wire-frames.js';
import { EventQueue } from '../interop/bounded-wait.js';
import { loadWs } from '../interop/npm-peers.js';
import { headersForRedirect, redirectOriginOf } from '../../src/ws/redirects.js';
import { nextConnection, startCompat } from './compat-fixture.js';

guardProcess();

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
const CERT = readFileSync(new URL('test-only-localhost.cert.pem', FIXTURES));
const KEY = readFileSync(new URL('test-only-localhost.key.pem', FIXTURES));

type Event = [name: string, ...args: unknown[]];

/** A client with every event recorded in order; terminated after the test. */
function open(t: TestContext, address: string | URL, protocols?: string | string[], options?: ClientOptions): { ws: WebSocket; events: EventQueue<Event> } {
  const ws = protocols === undefined ? new WebSocket(address, options) : new WebSocket(address, protocols, options);
  t.after(() => ws.terminate());
  const events = new EventQueue<Event>('client event');
  for (const name of ['open', 'message', 'close', 'error', 'ping', 'pong'] as const) {
    // For 'error', the readyState it was emitted in (ws: CLOSING) comes last.
    ws.on(name, (...args: unknown[]) => events.push(name === 'error' ? [name, ...args, ws.readyState] : [name, ...args]));
  }
  return { ws, events };
}

async function nextNamed(events: EventQueue<Event>, name: string, ms = 3000): Promise<unknown[]> {
  const event = await events.next(ms, `the client's '${name}'`);
  assert.equal(event[0], name, `expected '${name}', got '${event[0]}' (${String(event[1])})`);
  return event.slice(1);
}

/** 'error' with this message, then 'close' 1006 with an empty reason (ws's failure sequence). */
async function expectFailure(ws: WebSocket, events: EventQueue<Event>, message: string | RegExp, ms = 3000): Promise<Error> {
  const [error, state] = (await nextNamed(events, 'error', ms)) as [Error, number];
  if (typeof message === 'string') assert.equal(error.message, message);
  else assert.match(error.message, message);
  assert.equal(state, WebSocket.CLOSING);
  const [code, reason] = (await nextNamed(events, 'close', ms)) as [number, Buffer];
  assert.deepEqual([code, reason.length, ws.readyState], [1006, 0, WebSocket.CLOSED]);
  return error;
}

/** A ws (npm) server on 127.0.0.1, echoing, closed after the test. */
async function startWs(t: TestContext, options: WsServerOptions = {}): Promise<{ wss: WsServer; url: string; port: number }> {
  const { WebSocketServer: WsServerClass } = await loadWs();
  const wss = new WsServerClass({ port: 0, host: '127.0.0.1', ...options });
  await nextEvent(wss, 'listening', 3000);
  t.after(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      const text = data.toString();
      if (!isBinary && text.startsWith('close:')) {
        const [, code, reason] = text.split(':');
        socket.close(Number(code), reason);
      } else socket.send(data, { binary: isBinary });
    });
  });
  const { port } = wss.address() as AddressInfo;
  return { wss, url: `ws://127.0.0.1:${port}`, port };
}

/** A wsforge/ws server echoing the same way. */
async function startForge(t: TestContext): Promise<{ url: string }> {
  const server = await startCompat(t);
  server.wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      const text = (data as Buffer).toString();
      if (!isBinary && text.startsWith('close:')) {
        const [, code, reason] = text.split(':');
        socket.close(Number(code), reason);
      } else socket.send(data as Buffer, { binary: isBinary });
    });
  });
  return { url: server.url };
}

/** An http server whose 'upgrade' handler the test writes; closed after the test. */
async function startUpgradeServer(t: TestContext, onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

const SERVERS = [
  ['a ws (npm) server', startWs],
  ['a wsforge/ws server', startForge],
] as const;

describe('WebSocket client: open, messages, close', () => {
  for (const [name, start] of SERVERS) {
    test(`doc: against ${name}: CONNECTING, then 'open' (OPEN), text and binary as Buffers, the server's close code and reason`, async (t) => {
      const { url } = await start(t);
      const { ws, events } = open(t, `${url}/path?q=1`);
      assert.equal(ws.readyState, WebSocket.CONNECTING);
      assert.equal(ws.url, `${url}/path?q=1`);
      await nextNamed(events, 'open');
      assert.equal(ws.readyState, WebSocket.OPEN);
      assert.equal(ws.protocol, '');
      ws.send('héllo ✓');
      ws.send(Buffer.from([0, 255, 7]));
      const [text, textIsBinary] = (await nextNamed(events, 'message')) as [Buffer, boolean];
      assert.deepEqual([Buffer.isBuffer(text), text.toString('utf8'), textIsBinary], [true, 'héllo ✓', false]);
      const [binary, binaryIsBinary] = (await nextNamed(events, 'message')) as [Buffer, boolean];
      assert.deepEqual([[...binary], binaryIsBinary], [[0, 255, 7], true]);
      ws.send('close:4001:server says bye');
      const [code, reason] = (await nextNamed(events, 'close')) as [number, Buffer];
      assert.deepEqual([code, reason.toString(), ws.readyState], [4001, 'server says bye', WebSocket.CLOSED]);
    });

    test(`doc: against ${name}: close(code, reason) from the client; the server sees them; the send callback runs once written`, async (t) => {
      const { url } = await start(t);
      const { ws, events } = open(t, url);
      await nextNamed(events, 'open');
      const written = await new Promise<unknown>((resolve) => ws.send('x', resolve));
      assert.equal(written ?? null, null);
      await nextNamed(events, 'message');
      ws.close(1000, 'done');
      assert.equal(ws.readyState, WebSocket.CLOSING);
      const [code, reason] = (await nextNamed(events, 'close')) as [number, Buffer];
      assert.deepEqual([code, reason.toString()], [1000, 'done']);
    });
  }

  test("doc: binaryType 'arraybuffer' changes binary messages; ping() gets a 'pong', a server ping gives 'ping'", async (t) => {
    const { wss, url } = await startWs(t);
    const { ws, events } = open(t, url);
    const [serverSide] = (await Promise.all([nextEvent(wss, 'connection', 3000), nextNamed(events, 'open')]))[0] as [import('ws').WebSocket];
    ws.binaryType = 'arraybuffer';
    ws.send(Buffer.from([1, 2, 3]));
    const [data] = (await nextNamed(events, 'message')) as [ArrayBuffer];
    assert.deepEqual([...new Uint8Array(data)], [1, 2, 3]);
    ws.ping('are you there');
    const [pong] = (await nextNamed(events, 'pong')) as [Buffer];
    assert.equal(pong.toString(), 'are you there');
    serverSide.ping('hi');
    const [ping] = (await nextNamed(events, 'ping')) as [Buffer];
    assert.equal(ping.toString(), 'hi');
  });

  test('doc: http: and https: addresses are ws: and wss:; a URL object works; the default export is the class', async (t) => {
    assert.equal(WebSocketDefault, WebSocket);
    const { port } = await startWs(t);
    const { ws, events } = open(t, new URL(`http://127.0.0.1:${port}/x`));
    assert.equal(ws.url, `ws://127.0.0.1:${port}/x`);
    await nextNamed(events, 'open');
  });

  test('doc: ws+unix: connects to a server on a Unix socket', async (t) => {
    const path = join(tmpdir(), `wsforge-client-${process.pid}-${Date.now()}.sock`);
    const { WebSocketServer: WsServerClass } = await loadWs();
    const server = createHttpServer();
    const wss = new WsServerClass({ server });
    wss.on('connection', (socket, request) => socket.send(request.url ?? ''));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    t.after(async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    });
    const { events } = open(t, `ws+unix://${path}:/chat?x=1`);
    await nextNamed(events, 'open');
    const [url] = (await nextNamed(events, 'message')) as [Buffer];
    assert.equal(url.toString(), '/chat?x=1');
  });
});

describe('WebSocket client: argument errors (thrown, as ws throws them)', () => {
  test("doc: a bad URL is a SyntaxError with ws's message", () => {
    assert.throws(() => new WebSocket('not a url'), { name: 'SyntaxError', message: 'Invalid URL: not a url' });
    assert.throws(() => new WebSocket('ftp://127.0.0.1/'), {
      name: 'SyntaxError',
      message: 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"',
    });
    assert.throws(() => new WebSocket('ws://127.0.0.1/#frag'), { name: 'SyntaxError', message: 'The URL contains a fragment identifier' });
  });

  test('doc: an invalid or duplicated subprotocol is a SyntaxError', () => {
    for (const protocols of [['chat', 'chat'], ['bad protocol'], [''], 'a,b']) {
      assert.throws(() => new WebSocket('ws://127.0.0.1:1/', protocols), { name: 'SyntaxError', message: 'An invalid or duplicated subprotocol was specified' });
    }
  });

  test("doc: protocolVersion other than 13 is ws's RangeError (8 too: wsforge speaks RFC 6455 only)", () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', { protocolVersion: 8 }), {
      name: 'RangeError',
      message: 'Unsupported protocol version: 8 (supported versions: 13)',
    });
    const ws = new WebSocket('ws://127.0.0.1:1/', { protocolVersion: 13 });
    ws.on('error', () => {});
    ws.terminate();
  });

  test('wsforge: options wsforge/ws does not take are refused with InvalidOptionError naming them (agent, createConnection, unknown keys)', () => {
    for (const [options, option] of [
      [{ agent: {} }, 'agent'],
      [{ createConnection: () => null }, 'createConnection'],
      [{ lookup: () => null }, 'lookup'],
      [{ maxPayloadd: 5 }, 'maxPayloadd'],
      [{ headers: { Host: 'example.com' } }, 'headers.host'],
      [{ handshakeTimeout: '5s' }, 'handshakeTimeout'],
      [{ followRedirects: 'yes' }, 'followRedirects'],
      [{ maxRedirects: -1 }, 'maxRedirects'],
    ] as const) {
      assert.throws(
        () => new WebSocket('ws://127.0.0.1:1/', options as unknown as ClientOptions),
        (error: unknown) => error instanceof InvalidOptionError && error.option === option && error.code === 'WSF_ERR_INVALID_OPTION',
      );
    }
  });

  test('wsforge: an invalid header name or value throws at once (WSF_ERR_INVALID_ARGUMENT)', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', { headers: { 'bad name': 'x' } }), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', { headers: { 'X-Ok': 'line\r\nbreak' } }), { code: 'WSF_ERR_INVALID_ARGUMENT' });
  });

  test("doc: send() while CONNECTING throws ws's Error", async (t) => {
    const { url } = await startWs(t);
    const { ws, events } = open(t, url);
    assert.throws(() => ws.send('too early'), { message: 'WebSocket is not open: readyState 0 (CONNECTING)' });
    await nextNamed(events, 'open');
  });
});

describe('WebSocket client: failures (error, then close 1006)', () => {
  test('doc: a refused connection emits the system error (ECONNREFUSED), then close 1006', async (t) => {
    const fake = await startFakeServer();
    const port = fake.port;
    await fake.close();
    const { ws, events } = open(t, `ws://127.0.0.1:${port}/`);
    const error = (await expectFailure(ws, events, /ECONNREFUSED/)) as NodeJS.ErrnoException;
    assert.equal(error.code, 'ECONNREFUSED');
  });

  test("doc: a wrong Sec-WebSocket-Accept fails with ws's message", async (t) => {
    const fake = await startFakeServer(async (peer) => {
      const request = await peer.readHead();
      peer.write(switchingProtocols(request, { accept: 'd3Jvbmc=' }));
    });
    t.after(() => fake.close());
    const { ws, events } = open(t, `ws://127.0.0.1:${fake.port}/`);
    await expectFailure(ws, events, 'Invalid Sec-WebSocket-Accept header');
  });

  test('doc: handshakeTimeout: a server that never answers fails with "Opening handshake has timed out"', async (t) => {
    const fake = await startFakeServer();
    t.after(() => fake.close());
    const { ws, events } = open(t, `ws://127.0.0.1:${fake.port}/`, undefined, { handshakeTimeout: 200 });
    await expectFailure(ws, events, 'Opening handshake has timed out', 5000);
  });

  test('doc: close() while CONNECTING aborts: "WebSocket was closed before the connection was established", then close 1006; terminate() too', async (t) => {
    const fake = await startFakeServer();
    t.after(() => fake.close());
    for (const method of ['close', 'terminate'] as const) {
      const { ws, events } = open(t, `ws://127.0.0.1:${fake.port}/`);
      ws[method]();
      assert.equal(ws.readyState, WebSocket.CLOSING);
      await expectFailure(ws, events, 'WebSocket was closed before the connection was established');
      // No 'open' later, even though the server is there.
      await delay(50);
      assert.equal(events.size, 0);
    }
  });

  test("doc: a non-101 answer without an 'unexpected-response' listener: \"Unexpected server response: 401\"", async (t) => {
    const { url } = await startWs(t, { verifyClient: () => false });
    const { ws, events } = open(t, url);
    await expectFailure(ws, events, 'Unexpected server response: 401');
  });

  test("doc: with an 'unexpected-response' listener, the listener gets the request and an IncomingMessage (status, headers, body); terminate() ends it", async (t) => {
    const { port } = await startUpgradeServer(t, (_request, socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Why: test\r\nContent-Length: 7\r\n\r\nno way!');
    });
    const { ws, events } = open(t, `ws://127.0.0.1:${port}/private`);
    const [request, response] = (await nextEvent(ws, 'unexpected-response', 3000)) as [ClientUpgradeRequest, IncomingMessage];
    assert.deepEqual([request.method, request.path, request.host, request.protocol], ['GET', '/private', '127.0.0.1', 'http:']);
    assert.deepEqual([response.statusCode, response.statusMessage, response.httpVersion], [403, 'Forbidden', '1.1']);
    assert.equal(response.headers['x-why'], 'test');
    assert.ok(response.rawHeaders.includes('x-why'));
    let body = '';
    for await (const chunk of response) body += String(chunk);
    assert.equal(body, 'no way!');
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(events.size, 0);
    ws.terminate();
    await expectFailure(ws, events, 'WebSocket was closed before the connection was established');
  });

  test("doc: protocols: the server's choice is `protocol`; a server that picks none fails with \"Server sent no subprotocol\" (as ws)", async (t) => {
    const picker = await startWs(t, { handleProtocols: (protocols) => (protocols.has('b') ? 'b' : false) });
    const chosen = open(t, picker.url, ['a', 'b']);
    await nextNamed(chosen.events, 'open');
    assert.equal(chosen.ws.protocol, 'b');
    const none = open(t, picker.url, 'a');
    await expectFailure(none.ws, none.events, 'Server sent no subprotocol');
    const forge = await startCompat(t);
    const onForge = open(t, forge.url, ['x', 'y']);
    await nextNamed(onForge.events, 'open');
    assert.equal(onForge.ws.protocol, 'x');
    const [, request] = await nextConnection(forge);
    assert.equal(request.headers['sec-websocket-protocol'], 'x, y');
  });
});

describe("WebSocket client: 'upgrade', headers, options", () => {
  test("doc: 'upgrade' gives the 101 response as an IncomingMessage, headers added by the server included; headers and origin are sent", async (t) => {
    const { wss, url } = await startWs(t);
    wss.on('headers', (headers) => headers.push('X-Server: yes'));
    const requests = new EventQueue<IncomingMessage>('request');
    wss.on('connection', (_socket, request) => requests.push(request));
    const { ws, events } = open(t, url, undefined, { headers: { Authorization: 'Bearer t', 'X-Count': 3 }, origin: 'https://app.example' });
    const upgrade = nextEvent<[IncomingMessage]>(ws, 'upgrade', 3000);
    const [response] = await upgrade;
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.deepEqual([response.statusCode, response.headers['x-server'], response.headers['upgrade']], [101, 'yes', 'websocket']);
    await nextNamed(events, 'open');
    const request = await requests.next(3000);
    assert.deepEqual([request.headers.authorization, request.headers['x-count'], request.headers.origin], ['Bearer t', '3', 'https://app.example']);
  });

  test("doc: perMessageDeflate is offered by default, as ws's client does: extensions is 'permessage-deflate' with a ws server that has it on; false offers nothing", async (t) => {
    const { url } = await startWs(t, { perMessageDeflate: true });
    const deflating = open(t, url);
    await nextNamed(deflating.events, 'open');
    assert.equal(deflating.ws.extensions, 'permessage-deflate');
    deflating.ws.send('x'.repeat(10_000));
    const [echo] = (await nextNamed(deflating.events, 'message')) as [Buffer];
    assert.equal(echo.toString(), 'x'.repeat(10_000));
    const plain = open(t, url, undefined, { perMessageDeflate: false });
    await nextNamed(plain.events, 'open');
    assert.equal(plain.ws.extensions, '');
  });

  test('wsforge: maxPayload: a bigger message closes with 1009 (the error is ws\'s WS_ERR_UNSUPPORTED_MESSAGE_LENGTH)', async (t) => {
    const { url } = await startWs(t);
    const { ws, events } = open(t, url, undefined, { maxPayload: 100 });
    await nextNamed(events, 'open');
    ws.send('y'.repeat(101));
    const [error] = (await nextNamed(events, 'error')) as [Error & { code: string }];
    assert.equal(error.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    const [code] = (await nextNamed(events, 'close')) as [number];
    assert.equal(code, 1009);
  });

  test('doc: wss:// with a self-signed certificate: refused without `ca`, open with `ca` or rejectUnauthorized: false', async (t) => {
    const { WebSocketServer: WsServerClass } = await loadWs();
    const server = createHttpsServer({ cert: CERT, key: KEY });
    const wss = new WsServerClass({ server });
    wss.on('connection', (socket) => socket.send('secure'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    });
    const url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const refused = open(t, url);
    const error = (await expectFailure(refused.ws, refused.events, /self[- ]signed/i)) as NodeJS.ErrnoException;
    assert.equal(error.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    for (const options of [{ ca: CERT }, { rejectUnauthorized: false }]) {
      const { events } = open(t, url, undefined, options);
      await nextNamed(events, 'open');
      const [data] = (await nextNamed(events, 'message')) as [Buffer];
      assert.equal(data.toString(), 'secure');
    }
  });

  test('RFC 6455 §5.3: every frame the client sends is masked (text, binary, ping, close); the mask option is ignored', async (t) => {
    const fake = await startFakeServer(async (peer) => {
      const request = await peer.readHead();
      peer.write(switchingProtocols(request));
      peer.startFrames();
    });
    t.after(() => fake.close());
    const { ws, events } = open(t, `ws://127.0.0.1:${fake.port}/`, undefined, { perMessageDeflate: false });
    await nextNamed(events, 'open');
    const peer = fake.peers[0]!;
    ws.send('text', { mask: false });
    ws.send(Buffer.from([9, 9]));
    ws.ping('p', false);
    ws.close(1000, 'bye');
    const frames = [await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame()];
    assert.deepEqual(
      frames.map((frame) => [frame.opcode, frame.masked]),
      [
        [OP.TEXT, true],
        [OP.BINARY, true],
        [OP.PING, true],
        [OP.CLOSE, true],
      ],
    );
    assert.equal(frames[0]!.payload.toString(), 'text');
    assert.deepEqual(readClose(frames[3]!), { code: 1000, reason: 'bye' });
    peer.write(serverFrame({ opcode: OP.CLOSE, payload: frames[3]!.payload }));
    // RFC 6455 §7.1.1: the server closes the TCP connection first.
    peer.socket.end();
    const [code] = (await nextNamed(events, 'close')) as [number];
    assert.equal(code, 1000);
  });
});

describe('WebSocket client: redirects (followRedirects, maxRedirects)', () => {
  /** A ws server behind an http server that redirects `/old` to `location` and records every upgrade request's headers. */
  async function redirectingServer(t: TestContext, location: (port: number) => string) {
    const { WebSocketServer: WsServerClass } = await loadWs();
    const wss = new WsServerClass({ noServer: true });
    wss.on('connection', (socket, request) => socket.send(request.url ?? ''));
    const seen: Array<{ url: string; headers: IncomingMessage['headers'] }> = [];
    let port = 0;
    const started = await startUpgradeServer(t, (request, socket, head) => {
      seen.push({ url: request.url ?? '', headers: request.headers });
      if (request.url === '/new') wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
      else socket.end(`HTTP/1.1 301 Moved Permanently\r\nLocation: ${location(port)}\r\nContent-Length: 0\r\n\r\n`);
    });
    port = started.port;
    t.after(() => {
      for (const client of wss.clients) client.terminate();
    });
    return { port, seen };
  }

  test("doc: a 301 is followed to its Location; 'redirect' is emitted with the new URL; url is the final one", async (t) => {
    const { port, seen } = await redirectingServer(t, () => '/new');
    const { ws, events } = open(t, `ws://127.0.0.1:${port}/old`, undefined, { followRedirects: true, maxRedirects: 1 });
    const redirects: string[] = [];
    ws.on('redirect', (url) => redirects.push(url));
    await nextNamed(events, 'open');
    const [path] = (await nextNamed(events, 'message')) as [Buffer];
    assert.equal(path.toString(), '/new');
    assert.deepEqual(redirects, [`ws://127.0.0.1:${port}/new`]);
    assert.equal(ws.url, `ws://127.0.0.1:${port}/new`);
    assert.deepEqual(
      seen.map((request) => request.url),
      ['/old', '/new'],
    );
  });

  test('doc: without followRedirects a 301 is "Unexpected server response: 301"; past maxRedirects "Maximum redirects exceeded"', async (t) => {
    const once = await redirectingServer(t, () => '/new');
    const unfollowed = open(t, `ws://127.0.0.1:${once.port}/old`);
    await expectFailure(unfollowed.ws, unfollowed.events, 'Unexpected server response: 301');
    const loop = await redirectingServer(t, () => '/loop');
    const looping = open(t, `ws://127.0.0.1:${loop.port}/old`, undefined, { followRedirects: true, maxRedirects: 2 });
    await expectFailure(looping.ws, looping.events, 'Maximum redirects exceeded');
    assert.equal(loop.seen.length, 3);
  });

  test('doc: Authorization and Cookie are kept on a same-host redirect and dropped when the host changes (curl 7.77, as ws)', async (t) => {
    const target = await redirectingServer(t, () => '/new');
    const sameHost = await redirectingServer(t, () => '/new');
    const headers = { Authorization: 'Bearer secret', Cookie: 'session=1', 'X-Other': 'kept' };
    const same = open(t, `ws://127.0.0.1:${sameHost.port}/old`, undefined, { followRedirects: true, headers });
    await nextNamed(same.events, 'open');
    assert.deepEqual(
      [sameHost.seen[1]!.headers.authorization, sameHost.seen[1]!.headers.cookie, sameHost.seen[1]!.headers['x-other']],
      ['Bearer secret', 'session=1', 'kept'],
    );
    const crossHost = await redirectingServer(t, () => `ws://127.0.0.1:${target.port}/new`);
    const cross = open(t, `ws://127.0.0.1:${crossHost.port}/old`, undefined, { followRedirects: true, headers });
    await nextNamed(cross.events, 'open');
    const arrived = target.seen.at(-1)!;
    assert.deepEqual([arrived.url, arrived.headers.authorization, arrived.headers.cookie, arrived.headers['x-other']], ['/new', undefined, undefined, 'kept']);
    assert.equal(crossHost.seen[0]!.headers.authorization, 'Bearer secret');
  });

  test("doc: with a 'redirect' listener nothing is dropped: the listener changes the request's headers", async (t) => {
    const target = await redirectingServer(t, () => '/new');
    const crossHost = await redirectingServer(t, () => `ws://127.0.0.1:${target.port}/new`);
    const { ws, events } = open(t, `ws://127.0.0.1:${crossHost.port}/old`, undefined, { followRedirects: true, headers: { Cookie: 'c=1' } });
    ws.on('redirect', (_url, request) => request.setHeader('X-Redirected', 'yes'));
    await nextNamed(events, 'open');
    const arrived = target.seen.at(-1)!;
    assert.deepEqual([arrived.headers.cookie, arrived.headers['x-redirected']], ['c=1', 'yes']);
  });
});

describe('WebSocket client: more of the handshake', () => {
  test("doc: a server that picks a subprotocol none was offered, or a bad Upgrade header, fails with ws's messages", async (t) => {
    const cases: Array<[string[], string]> = [
      [['Sec-WebSocket-Protocol: chat'], 'Server sent a subprotocol but none was requested'],
      [['Sec-WebSocket-Extensions: x-unknown'], 'Server indicated an extension that was not requested'],
    ];
    for (const [lines, message] of cases) {
      const fake = await startFakeServer(async (peer) => {
        const request = await peer.readHead();
        peer.write(switchingProtocols(request, { lines }));
      });
      t.after(() => fake.close());
      const { ws, events } = open(t, `ws://127.0.0.1:${fake.port}/`);
      await expectFailure(ws, events, message);
    }
    const fake = await startFakeServer(async (peer) => {
      const request = await peer.readHead();
      peer.write(switchingProtocols(request, { upgrade: 'h2c' }));
    });
    t.after(() => fake.close());
    const { ws, events } = open(t, `ws://127.0.0.1:${fake.port}/`);
    await expectFailure(ws, events, 'Invalid Upgrade header');
  });

  test('doc: auth and URL credentials are sent as Basic authorization; an Authorization header wins', async (t) => {
    const { wss, url } = await startWs(t);
    const requests = new EventQueue<IncomingMessage>('request');
    wss.on('connection', (_socket, request) => requests.push(request));
    const withAuth = open(t, url, undefined, { auth: 'ada:secret' });
    await nextNamed(withAuth.events, 'open');
    assert.equal((await requests.next(3000)).headers.authorization, `Basic ${Buffer.from('ada:secret').toString('base64')}`);
    const inUrl = open(t, url.replace('ws://', 'ws://bob:pw@'));
    await nextNamed(inUrl.events, 'open');
    const request = await requests.next(3000);
    assert.equal(request.headers.authorization, `Basic ${Buffer.from('bob:pw').toString('base64')}`);
    assert.equal(inUrl.ws.url, url.replace('ws://', 'ws://bob:pw@') + '/');
    const header = open(t, url, undefined, { auth: 'ada:secret', headers: { Authorization: 'Bearer x' } });
    await nextNamed(header.events, 'open');
    assert.equal((await requests.next(3000)).headers.authorization, 'Bearer x');
  });

  test("doc: the EventTarget style works on a client (onopen, addEventListener('message'))", async (t) => {
    const { url } = await startWs(t);
    const { ws } = open(t, url);
    const got = new EventQueue<string>('event');
    ws.onopen = () => {
      got.push('open');
      ws.send('evt');
    };
    ws.addEventListener('message', (event) => got.push(`message ${String(event.data)}`));
    assert.equal(await got.next(3000), 'open');
    assert.equal(await got.next(3000), 'message evt');
  });

  test('redirects (curl 7.77 rule): credentials go when the host changes or wss: becomes ws:, Host only when the host changes', () => {
    const headers = { authorization: 'a', cookie: 'c', host: 'h', 'x-other': 'o' };
    const secure = redirectOriginOf(new URL('wss://example.com/'));
    assert.deepEqual(headersForRedirect(headers, secure, new URL('wss://example.com/next')), headers);
    assert.deepEqual(headersForRedirect(headers, secure, new URL('ws://example.com/next')), { host: 'h', 'x-other': 'o' });
    assert.deepEqual(headersForRedirect(headers, secure, new URL('wss://other.example/')), { 'x-other': 'o' });
    const unix = redirectOriginOf(new URL('ws+unix:///tmp/a.sock:/x'));
    assert.deepEqual(headersForRedirect(headers, unix, new URL('ws+unix:///tmp/a.sock:/y')), headers);
    assert.deepEqual(headersForRedirect(headers, unix, new URL('ws://example.com/')), { 'x-other': 'o' });
  });
});

describe('WebSocket client: timing', () => {
  test('the handshake error arrives within the time limit (no hang)', async (t) => {
    const fake = await startFakeServer();
    t.after(() => fake.close());
    const { events } = open(t, `ws://127.0.0.1:${fake.port}/`, undefined, { handshakeTimeout: 100 });
    await withTimeout(nextNamed(events, 'error', 5000), 5000, 'the timeout error');
  });
});
