/**
 * wsforge/ws `WebSocketServer` against ws's documentation (doc/ws.md, "Class: WebSocketServer"):
 * every option, event and method, over loopback, with `ws` (npm) clients and raw sockets where
 * the exact HTTP answer matters.
 */
import assert from 'node:assert/strict';
import { createServer, get as httpGet, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import { type VerifyClientInfo, WebSocket, WebSocketServer } from '../../src/ws/index.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';
import { guardProcess } from '../helpers/process-guard.js';
import { exchange, headerValue, openRaw, upgradeRequest } from '../helpers/raw-peer.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';
import { nextConnection, openClient, startCompat, stopCompat } from './compat-fixture.js';

guardProcess();

/** A plain http server on loopback, closed after the test. */
async function httpServer(t: { after(fn: () => unknown): void }): Promise<{ server: ReturnType<typeof createServer>; port: number }> {
  const server = createServer((_request, response) => response.end('plain http'));
  // Upgraded sockets are no longer the http server's to close: track them all.
  const sockets = new Set<Duplex>();
  server.on('connection', (socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'the http server to close');
  });
  return { server, port: (server.address() as AddressInfo).port };
}

describe('new WebSocketServer(options[, callback])', () => {
  test('doc: one and only one of port, server and noServer, else a TypeError', () => {
    const message = /One and only one of the "port", "server", or "noServer" options must be specified/;
    assert.throws(() => new WebSocketServer({}), { name: 'TypeError', message });
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), { name: 'TypeError', message });
    assert.throws(() => new WebSocketServer({ server: createServer(), noServer: true }), { name: 'TypeError', message });
  });

  test("doc: port, host, backlog: an http server of its own; callback and 'listening'; address(); plain HTTP gets 426", async (t) => {
    let called = false;
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 16 }, () => {
      called = true;
    });
    t.after(() => stopCompat(wss));
    await nextEvent(wss, 'listening', 3000);
    assert.equal(called, true);
    const address = wss.address() as AddressInfo;
    assert.equal(address.address, '127.0.0.1');
    assert.ok(address.port > 0);
    const status = await new Promise<number>((resolve, reject) => {
      httpGet(`http://127.0.0.1:${address.port}/`, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(status, 426);
  });

  test("doc: server: upgrades of an existing http server, its other requests stay with it; 'connection' gets an http.IncomingMessage", async (t) => {
    const { server, port } = await httpServer(t);
    const wss = new WebSocketServer({ server });
    t.after(() => stopCompat(wss));
    const connection = nextEvent<[WebSocket, IncomingMessage]>(wss, 'connection', 3000);
    const client = await openClient(t, `ws://127.0.0.1:${port}/chat?room=1`, undefined, { headers: { 'X-User': 'ada' } });
    const [ws, request] = await connection;
    assert.ok(ws instanceof WebSocket);
    assert.ok(request instanceof IncomingMessage);
    assert.equal(request.url, '/chat?room=1');
    assert.equal(request.headers['x-user'], 'ada');
    assert.equal((wss.address() as AddressInfo).port, port);
    const plain = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(plain.head.status, 200);
    assert.equal(plain.body, 'plain http');
    client.ws.close();
  });

  test("doc: noServer: handleUpgrade(request, socket, head, callback) calls callback(ws, request) and emits no 'connection'; address() throws", async (t) => {
    const { server, port } = await httpServer(t);
    const wss = new WebSocketServer({ noServer: true });
    t.after(() => stopCompat(wss));
    assert.throws(() => wss.address(), /The server is operating in "noServer" mode/);
    let connectionEvents = 0;
    wss.on('connection', () => connectionEvents++);
    const upgraded = new Promise<[WebSocket, IncomingMessage, IncomingMessage]>((resolve) => {
      server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        wss.handleUpgrade(request, socket, head, (ws, req) => resolve([ws, req, request]));
      });
    });
    const client = await openClient(t, `ws://127.0.0.1:${port}/`);
    const [ws, req, original] = await withTimeout(upgraded, 3000, 'the handleUpgrade callback');
    assert.equal(req, original);
    assert.equal(connectionEvents, 0);
    ws.send('via noServer');
    const message = await client.messages.next(3000);
    assert.equal(message.data.toString(), 'via noServer');
  });

  test('doc: verifyClient(info) returning false refuses with 401; info has origin, secure and req', async (t) => {
    const infos: Array<{ origin: string | undefined; secure: boolean; url: string | undefined }> = [];
    const server = await startCompat(t, {
      verifyClient: (info: VerifyClientInfo) => {
        infos.push({ origin: info.origin, secure: info.secure, url: info.req.url });
        return info.req.url !== '/deny';
      },
    });
    const refused = await exchange(server.port, upgradeRequest({ path: '/deny', extra: ['Origin: https://app.example'] }));
    assert.equal(refused.head.status, 401);
    const client = await openClient(t, `${server.url}/allow`);
    assert.deepEqual(infos, [
      { origin: 'https://app.example', secure: false, url: '/deny' },
      { origin: undefined, secure: false, url: '/allow' },
    ]);
    client.ws.close();
  });

  test('doc: verifyClient(info, callback): callback(false, code, name, headers) refuses with that status, body and headers; callback(true) accepts later', async (t) => {
    const server = await startCompat(t, {
      verifyClient: (info, callback) => {
        setTimeout(() => {
          if (info.req.url === '/ok') callback(true);
          else callback(false, 403, 'Nope', { 'Retry-After': 120, 'X-Why': 'test' });
        }, 10);
      },
    });
    const refused = await exchange(server.port, upgradeRequest({ path: '/no' }));
    assert.equal(refused.head.status, 403);
    assert.equal(headerValue(refused.head, 'retry-after'), '120');
    assert.equal(headerValue(refused.head, 'x-why'), 'test');
    assert.match(refused.body, /Nope/);
    const client = await openClient(t, `${server.url}/ok`);
    await nextConnection(server);
    client.ws.close();
  });

  test('doc: handleProtocols(protocols: Set, request) chooses the subprotocol; false sends none; without it the client\'s first is chosen', async (t) => {
    const seen: Array<[string[], string | undefined]> = [];
    const chooser = await startCompat(t, {
      handleProtocols: (protocols, request) => {
        assert.ok(protocols instanceof Set);
        seen.push([[...protocols], request.url]);
        return protocols.has('chat.v2') ? 'chat.v2' : false;
      },
    });
    const chosen = await openClient(t, `${chooser.url}/p`, ['chat.v1', 'chat.v2']);
    assert.equal(chosen.ws.protocol, 'chat.v2');
    const [serverSide] = await nextConnection(chooser);
    assert.equal(serverSide.protocol, 'chat.v2');
    const { head } = await openRaw(chooser.port, { extra: ['Sec-WebSocket-Protocol: other'] });
    assert.equal(headerValue(head, 'sec-websocket-protocol'), undefined);
    assert.deepEqual(seen, [
      [['chat.v1', 'chat.v2'], '/p'],
      [['other'], '/'],
    ]);
    const plain = await startCompat(t);
    const first = await openClient(t, plain.url, ['b', 'a']);
    assert.equal(first.ws.protocol, 'b');
  });

  test('doc: path accepts only that path (query ignored); other paths get 400, as in ws', async (t) => {
    const server = await startCompat(t, { path: '/chat' });
    const client = await openClient(t, `${server.url}/chat?x=1`);
    const [, request] = await nextConnection(server);
    assert.equal(request.url, '/chat?x=1');
    const refused = await exchange(server.port, upgradeRequest({ path: '/other' }));
    assert.equal(refused.head.status, 400);
    client.ws.close();
  });

  test('doc: clients holds the open connections; clientTracking: false leaves it out', async (t) => {
    const tracking = await startCompat(t);
    const client = await openClient(t, tracking.url);
    const [ws] = await nextConnection(tracking);
    assert.deepEqual([...tracking.wss.clients], [ws]);
    const closed = nextEvent(ws, 'close', 3000);
    client.ws.close();
    await closed;
    assert.equal(tracking.wss.clients.size, 0);
    const untracked = await startCompat(t, { clientTracking: false });
    assert.equal(untracked.wss.clients, undefined);
  });

  test('doc: perMessageDeflate negotiates RFC 7692 (wsforge defaults: no context takeover), ws.extensions names it', async (t) => {
    const server = await startCompat(t, { perMessageDeflate: true });
    const client = await openClient(t, server.url, undefined, { perMessageDeflate: true });
    const [ws] = await nextConnection(server);
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.match(client.ws.extensions, /permessage-deflate/);
    const text = 'compressible '.repeat(500);
    ws.send(text);
    const message = await client.messages.next(3000);
    assert.equal(message.data.toString(), text);
    const { head } = await openRaw(server.port, { extra: ['Sec-WebSocket-Extensions: permessage-deflate'] });
    assert.equal(headerValue(head, 'sec-websocket-extensions'), 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    const off = await startCompat(t);
    const plain = await openClient(t, off.url, undefined, { perMessageDeflate: true });
    assert.equal(plain.ws.extensions, '');
  });

  test('doc: maxPayload: a bigger message closes the connection with 1009', async (t) => {
    const server = await startCompat(t, { maxPayload: 1024 });
    const client = await openClient(t, server.url);
    const [ws] = await nextConnection(server);
    const closed = nextEvent<[number, Buffer]>(ws, 'close', 3000);
    client.ws.send(Buffer.alloc(1025));
    assert.equal((await client.closed).code, 1009);
    assert.equal((await closed)[0], 1009);
  });

  test('doc: skipUTF8Validation: true is not honoured: invalid UTF-8 still closes with 1007 (wsforge validates, fail-fast)', async (t) => {
    const server = await startCompat(t, { skipUTF8Validation: true });
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0x61, 0xff]) }));
    assert.equal((await peer.nextClose(3000)).code, 1007);
  });

  test("doc: autoPong: false: pings are not answered, the 'ping' event still fires", async (t) => {
    const server = await startCompat(t, { autoPong: false });
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    const [ws] = await nextConnection(server);
    const ping = nextEvent<[Buffer]>(ws, 'ping', 3000);
    peer.write(clientFrame({ opcode: OP.PING, payload: 'are you there' }));
    assert.equal((await ping)[0].toString(), 'are you there');
    ws.send('after the ping');
    const frame = await peer.nextFrame(3000);
    assert.deepEqual([frame.opcode, frame.payload.toString()], [OP.TEXT, 'after the ping']);
  });

  test('doc: closeTimeout: a peer that never answers our close frame is dropped after closeTimeout ms (1006)', async (t) => {
    const server = await startCompat(t, { closeTimeout: 200 });
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    const [ws] = await nextConnection(server);
    const closed = nextEvent<[number, Buffer]>(ws, 'close', 3000);
    const started = Date.now();
    ws.close(1000);
    assert.equal((await peer.nextClose(3000)).code, 1000);
    const [code] = await closed;
    const elapsed = Date.now() - started;
    assert.equal(code, 1006);
    assert.ok(elapsed >= 150 && elapsed < 2500, `dropped after ${elapsed} ms`);
  });

  test("doc: WebSocket: connections are instances of the given subclass, which sees 'open'", async (t) => {
    const opened: string[] = [];
    class Tracked extends WebSocket {
      constructor(address: null, protocols?: undefined, options?: object) {
        super(address, protocols, options);
        this.on('open', () => opened.push('open'));
      }
    }
    const server = await startCompat(t, { WebSocket: Tracked });
    const client = await openClient(t, server.url);
    const [ws] = await nextConnection(server);
    assert.ok(ws instanceof Tracked);
    assert.deepEqual(opened, ['open']);
    client.ws.close();
  });
});

describe('WebSocketServer events', () => {
  test("doc: 'headers' lets listeners add lines to the 101 response, with the request", async (t) => {
    const server = await startCompat(t);
    const seen: string[][] = [];
    server.wss.on('headers', (headers, request) => {
      seen.push([...headers]);
      assert.ok(request instanceof IncomingMessage);
      headers.push('Set-Cookie: a=1', 'Set-Cookie: b=2', 'X-Served-By: wsforge');
    });
    const { head } = await openRaw(server.port, { extra: ['Sec-WebSocket-Protocol: chat'] });
    assert.equal(seen[0]![0], 'HTTP/1.1 101 Switching Protocols');
    assert.ok(seen[0]!.includes('Sec-WebSocket-Protocol: chat'));
    assert.ok(seen[0]!.some((line) => line.startsWith('Sec-WebSocket-Accept: ')));
    assert.deepEqual(head.headers.get('set-cookie'), ['a=1', 'b=2']);
    assert.equal(headerValue(head, 'x-served-by'), 'wsforge');
  });

  test("doc: 'error' forwards the http server's errors (a port already in use)", async (t) => {
    const first = await startCompat(t);
    const second = new WebSocketServer({ port: first.port, host: '127.0.0.1' });
    t.after(() => stopCompat(second));
    const [error] = await nextEvent<[NodeJS.ErrnoException]>(second, 'error', 3000);
    assert.equal(error.code, 'EADDRINUSE');
  });

  test("doc: 'wsClientError' gets an invalid handshake's error, socket and request; the listener answers", async (t) => {
    const server = await startCompat(t);
    server.wss.on('wsClientError', (error, socket, request) => {
      assert.ok(request instanceof IncomingMessage);
      socket.end(`HTTP/1.1 418 I'm a teapot\r\nX-Reason: ${error.message.replace(/[^ -~]/g, '')}\r\nContent-Length: 0\r\n\r\n`);
    });
    const bad = await exchange(server.port, upgradeRequest({ key: 'short' }));
    assert.equal(bad.head.status, 418);
    assert.match(headerValue(bad.head, 'x-reason') ?? '', /Sec-WebSocket-Key/i);
  });

  test("doc: without a 'wsClientError' listener an invalid handshake gets wsforge's 4xx (400 bad key, 426 bad version)", async (t) => {
    const server = await startCompat(t);
    assert.equal((await exchange(server.port, upgradeRequest({ key: 'short' }))).head.status, 400);
    const version = await exchange(server.port, upgradeRequest({ version: '8' }));
    assert.equal(version.head.status, 426);
    assert.equal(headerValue(version.head, 'sec-websocket-version'), '13');
  });
});

describe('WebSocketServer methods', () => {
  test("doc: close() stops accepting, leaves open connections open, emits 'close' (port mode: once the http server closed)", async (t) => {
    const server = await startCompat(t);
    const client = await openClient(t, server.url);
    const [ws] = await nextConnection(server);
    const closed = new Promise<void>((resolve) => server.wss.close(() => resolve()));
    // The open connection still works.
    ws.send('still open');
    assert.equal((await client.messages.next(3000)).data.toString(), 'still open');
    client.ws.close();
    await withTimeout(closed, 3000, "'close' after the last connection");
    const again = await withTimeout(new Promise<Error | undefined>((resolve) => server.wss.close(resolve)), 3000, 'close() again');
    assert.match(String(again), /The server is not running/);
  });

  test("doc: close() with noServer and clients: 'close' is emitted when the last client is gone; handshakes after close() get 503", async (t) => {
    const { server, port } = await httpServer(t);
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)));
    const connection = nextEvent<[WebSocket]>(wss, 'connection', 3000);
    const client = await openClient(t, `ws://127.0.0.1:${port}/`);
    const [ws] = await connection;
    let closeEmitted = false;
    const closed = new Promise<void>((resolve) =>
      wss.close(() => {
        closeEmitted = true;
        resolve();
      }),
    );
    assert.equal((await exchange(port, upgradeRequest())).head.status, 503);
    assert.equal(closeEmitted, false);
    ws.close(1000);
    await client.closed;
    await withTimeout(closed, 3000, "'close' once the last client closed");
  });

  test('doc: shouldHandle(request) can be overridden; false refuses with 400', async (t) => {
    class OnlyApi extends WebSocketServer {
      override shouldHandle(request: IncomingMessage): boolean {
        return (request.url ?? '').startsWith('/api/');
      }
    }
    const wss = new OnlyApi({ port: 0, host: '127.0.0.1' });
    t.after(() => stopCompat(wss));
    await nextEvent(wss, 'listening', 3000);
    const { port } = wss.address() as AddressInfo;
    assert.equal((await exchange(port, upgradeRequest({ path: '/web' }))).head.status, 400);
    const client = await openClient(t, `ws://127.0.0.1:${port}/api/v1`);
    client.ws.close();
  });
});
