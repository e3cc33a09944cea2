/**
 * The server over HTTP/2 (RFC 8441), against node:http2's own client sending extended CONNECTs
 * written here and frames written by hand (an independent peer), and against the wsforge
 * client: acceptance, the same decisions and refusals as over HTTP/1.1, HTTP/1.1 on the same
 * port, many WebSockets on one connection, stream-level close and reset, flow control.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ClientHttp2Session } from 'node:http2';
import { describe, test, type TestContext } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { connect, type ServerOptions, type WebSocket } from '../../src/index.js';
import { extendedConnect, Http2RawPeer, NGHTTP2_CANCEL, openHttp2Session, TEST_CERT } from '../helpers/http2-peer.js';
import { HTTP2_SERVER_MODES, PAGE, startHttp2Server, type Http2ServerMode, type RunningHttp2Server } from '../helpers/http2-server-fixture.js';
import { guardProcess } from '../helpers/process-guard.js';
import { delay, nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';
import { OP } from '../helpers/wire-frames.js';

guardProcess();

async function server(t: TestContext, options: ServerOptions = {}, mode: Http2ServerMode = 'listen'): Promise<RunningHttp2Server> {
  const running = await startHttp2Server(options, mode);
  t.after(() => running.stop());
  return running;
}

async function session(t: TestContext, port: number): Promise<ClientHttp2Session> {
  const s = await openHttp2Session(port);
  t.after(() => s.destroy());
  return s;
}

function echo(running: RunningHttp2Server): void {
  running.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
}

/** Send a text frame and read the echo (unmasked, RFC 6455 §5.1). */
async function echoed(peer: Http2RawPeer, text: string): Promise<string> {
  peer.sendText(text);
  const frame = await peer.nextFrame();
  assert.equal(frame.opcode, OP.TEXT);
  assert.equal(frame.masked, false, 'a server never masks');
  return frame.payload.toString('utf8');
}

/** An HTTP/1.1 request over TLS (ALPN http/1.1) and the whole answer: status and body. */
function http1Exchange(port: number, request: string): Promise<{ status: number; head: string; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: TEST_CERT, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const end = text.indexOf('\r\n\r\n');
        resolve({ status: Number(text.split(' ')[1]), head: text.slice(0, end), body: text.slice(end + 4) });
      });
      socket.once('secureConnect', () => socket.write(request));
    }),
    5000,
    'the HTTP/1.1 answer',
  );
}

function upgradeRequest(port: number, path = '/', extra: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: localhost:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

describe('server over HTTP/2: the extended CONNECT (RFC 8441 §4-5)', { timeout: 60_000 }, () => {
  for (const mode of HTTP2_SERVER_MODES) {
    test(`${mode}: :status 200, no Sec-WebSocket-Accept; echo; transport 'h2' in the request; close ends the stream (END_STREAM)`, async (t) => {
      const running = await server(t, {}, mode);
      echo(running);
      const connected = nextEvent<[WebSocket, import('../../src/index.js').HandshakeRequest]>(running.wss, 'connection', 3000);
      const s = await session(t, running.port);
      const peer = Http2RawPeer.open(s, extendedConnect('/chat?room=1', { origin: 'https://localhost', 'x-token': 'abc' }));
      const response = await peer.responseHeaders();
      assert.equal(response[':status'], 200);
      assert.equal(response['sec-websocket-accept'], undefined, 'RFC 8441 §5: no accept key');
      const [ws, request] = await connected;
      assert.equal(request.transport, 'h2');
      assert.equal(request.method, 'CONNECT');
      assert.equal(request.url, '/chat?room=1');
      assert.equal(request.path, '/chat');
      assert.equal(request.query.get('room'), '1');
      assert.equal(request.headers['host'], `127.0.0.1:${running.port}`, 'Host from :authority');
      assert.equal(request.headers[':path'], undefined, 'no pseudo-header fields among the headers');
      assert.equal(request.headers['x-token'], 'abc');
      assert.equal(request.origin, 'https://localhost');
      assert.equal(request.remoteAddress, '127.0.0.1');
      assert.equal(ws.remoteAddress, '127.0.0.1');

      assert.equal(await echoed(peer, 'over h2 ✓'), 'over h2 ✓');
      const closed = nextEvent<[number, string]>(ws, 'close', 3000);
      peer.sendClose(1000, 'done');
      assert.deepEqual(await peer.nextClose(), { code: 1000, reason: 'done' });
      // RFC 6455 §7.1.1: the server closes first; RFC 8441 §5: an orderly close is END_STREAM.
      await peer.waitEnd();
      peer.stream.end();
      await peer.waitClosed();
      assert.equal(peer.rstCode, 0, 'no reset');
      assert.deepEqual(await closed, [1000, 'done']);
      assert.equal(ws.wasClean, true);
      assert.equal(s.closed, false, 'the HTTP/2 connection stays');
      if (mode === 'handleStream') assert.equal(running.handled[0], ws, 'handleStream resolved with the connection');
    });
  }

  for (const mode of ['listen', 'attach', 'attach-streams'] as const) {
    test(`${mode}: HTTP/1.1 upgrades keep working on the same port (ALPN http/1.1), transport 'http/1.1'`, async (t) => {
      const running = await server(t, {}, mode);
      echo(running);
      const connected = nextEvent<[WebSocket, import('../../src/index.js').HandshakeRequest]>(running.wss, 'connection', 3000);
      const ws = await connect(`wss://localhost:${running.port}/h1`, { tls: { ca: TEST_CERT } });
      t.after(() => ws.terminate());
      assert.equal(ws.handshake?.response.status, 101);
      const [, request] = await connected;
      assert.equal(request.transport, 'http/1.1');
      assert.equal(request.method, 'GET');
      const message = nextEvent<[string, boolean]>(ws, 'message', 3000);
      ws.send('over h1');
      assert.deepEqual(await message, ['over h1', false]);
    });
  }

  test('attach: the server keeps its other requests, over HTTP/2 and HTTP/1.1', async (t) => {
    const running = await server(t, {}, 'attach');
    const s = await session(t, running.port);
    const page = Http2RawPeer.open(s, { ':method': 'GET', ':path': '/' });
    assert.equal((await page.responseHeaders())[':status'], 200);
    assert.equal(await page.refusalBody(), PAGE);
    const h1 = await http1Exchange(running.port, `GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    assert.equal(h1.status, 200);
    assert.ok(h1.body.includes(PAGE), `the page over HTTP/1.1 (chunked): ${JSON.stringify(h1.body)}`);
  });

  test('attach: another CONNECT (a tunnel) still gets 405 as node:http2 answers it', async (t) => {
    const running = await server(t, {}, 'attach');
    const s = await session(t, running.port);
    const tunnel = Http2RawPeer.open(s, { ':method': 'CONNECT', ':authority': 'example.com:443' });
    assert.equal((await tunnel.responseHeaders())[':status'], 405);
  });
});

describe('server over HTTP/2: decisions and refusals, the same as over HTTP/1.1', { timeout: 60_000 }, () => {
  const refusals: Array<[string, ServerOptions, Record<string, string>, string[], number]> = [
    ['path not served', { path: '/chat' }, {}, [], 404],
    ['origin not allowed', { origins: ['https://good.example'] }, { origin: 'https://evil.example' }, ['Origin: https://evil.example'], 403],
    ['onHandshake refuses with 401, a body and WWW-Authenticate', { onHandshake: () => ({ status: 401, body: 'login first', headers: { 'WWW-Authenticate': 'Bearer' } }) }, {}, [], 401],
    ['onHandshake returns false', { onHandshake: () => false }, {}, [], 403],
    ['onHandshake throws', { onHandshake: () => { throw new Error('bug'); } }, {}, [], 500],
    ['async onHandshake rejects', { onHandshake: () => Promise.reject(new Error('bug')) }, {}, [], 500],
    ['Sec-WebSocket-Version 8', {}, { 'sec-websocket-version': '8' }, ['Sec-WebSocket-Version: 8'], 426],
    ['malformed subprotocol list', {}, { 'sec-websocket-protocol': 'a/b' }, ['Sec-WebSocket-Protocol: a/b'], 400],
    ['maxConnections 0', { maxConnections: 0 }, {}, [], 503],
  ];
  for (const mode of ['listen', 'attach'] as const) {
    for (const [name, options, h2Fields, h1Lines, status] of refusals) {
      test(`${mode}: ${name} → ${status} with the same body as over HTTP/1.1; the HTTP/2 connection stays`, async (t) => {
        const running = await server(t, options, mode);
        const rejected = nextEvent<[number, string]>(running.wss, 'rejected', 3000);
        const s = await session(t, running.port);
        const peer = Http2RawPeer.open(s, extendedConnect('/', h2Fields));
        const response = await peer.responseHeaders();
        assert.equal(response[':status'], status);
        assert.equal(response['content-type'], 'text/plain; charset=utf-8');
        assert.equal(response['connection'], undefined);
        const body = await peer.refusalBody();
        assert.equal((await rejected)[0], status);
        if (status === 401) assert.equal(response['www-authenticate'], 'Bearer');
        if (status === 426) assert.equal(response['sec-websocket-version'], '13');
        const h1 = await http1Exchange(running.port, upgradeRequest(running.port, '/', h1Lines));
        assert.equal(h1.status, status, 'the same status over HTTP/1.1');
        assert.equal(body, h1.body, 'the same body over HTTP/1.1');
        // The refused stream ended; the connection carries the next request.
        const next = Http2RawPeer.open(s, extendedConnect('/', h2Fields));
        assert.equal((await next.responseHeaders())[':status'], status);
        assert.equal(s.closed, false);
      });
    }
  }

  const h2Only: Array<[string, Record<string, string>, number]> = [
    ['a GET (listen mode serves WebSockets only)', { ':method': 'GET' }, 405],
    ['an extended CONNECT for another :protocol', { ':protocol': 'webtransport' }, 501],
    ['Sec-WebSocket-Key (RFC 8441 §5: not used over HTTP/2)', { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }, 400],
  ];
  for (const [name, fields, status] of h2Only) {
    test(`listen: ${name} → ${status}`, async (t) => {
      const running = await server(t, {}, 'listen');
      const s = await session(t, running.port);
      const headers = fields[':method'] === 'GET' ? { ':method': 'GET', ':path': '/' } : extendedConnect('/', fields);
      const peer = Http2RawPeer.open(s, headers);
      const response = await peer.responseHeaders();
      assert.equal(response[':status'], status);
      if (status === 405) assert.equal(response['allow'], 'CONNECT');
    });
  }

  test('listen: a header list over maxHeaderSize → 431', async (t) => {
    const running = await server(t, { maxHeaderSize: 1024 }, 'listen');
    const s = await session(t, running.port);
    const peer = Http2RawPeer.open(s, extendedConnect('/', { 'x-big': 'a'.repeat(2000) }));
    assert.equal((await peer.responseHeaders())[':status'], 431);
  });

  test('subprotocol and permessage-deflate are negotiated as over HTTP/1.1; the hook gets the request and sets ws.data', async (t) => {
    const running = await server(t, { protocols: ['superchat', 'chat'], perMessageDeflate: true, onHandshake: (request) => ({ data: { via: request.transport }, headers: { 'X-Hello': 'h2', Connection: 'keep-alive' } }) });
    const connected = nextEvent<[WebSocket]>(running.wss, 'connection', 3000);
    const s = await session(t, running.port);
    const peer = Http2RawPeer.open(s, extendedConnect('/', { 'sec-websocket-protocol': 'chat, superchat', 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' }));
    const response = await peer.responseHeaders();
    assert.equal(response[':status'], 200);
    assert.equal(response['sec-websocket-protocol'], 'superchat');
    assert.equal(response['sec-websocket-extensions'], 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    assert.equal(response['x-hello'], 'h2');
    const [ws] = await connected;
    assert.deepEqual(ws.data, { via: 'h2' });
    assert.equal(ws.protocol, 'superchat');
  });

  test('an async hook that misses the handshake timeout gets 503 on its stream', async (t) => {
    const running = await server(t, { handshakeTimeout: 100, onHandshake: () => delay(1000).then(() => true) });
    const s = await session(t, running.port);
    const peer = Http2RawPeer.open(s, extendedConnect('/'));
    const response = await peer.responseHeaders(3000);
    assert.equal(response[':status'], 503);
    assert.equal(response['retry-after'], '1');
  });
});

describe('server over HTTP/2: many WebSockets on one connection', { timeout: 60_000 }, () => {
  test('five WebSockets share a session; closing one, resetting another, leaves the rest echoing', async (t) => {
    const running = await server(t, {}, 'attach');
    const byPath = new Map<string, WebSocket>();
    running.wss.on('connection', (ws, request) => {
      byPath.set(request.path, ws);
      ws.on('message', (data) => ws.send(data));
    });
    const s = await session(t, running.port);
    const peers = Array.from({ length: 5 }, (_, i) => Http2RawPeer.open(s, extendedConnect(`/${i}`)));
    for (const peer of peers) assert.equal((await peer.responseHeaders())[':status'], 200);
    await waitUntil(() => byPath.size === 5, 3000, 'five connections');
    assert.equal(running.sessions.length, 1, 'one HTTP/2 connection');
    for (const [i, peer] of peers.entries()) assert.equal(await echoed(peer, `#${i}`), `#${i}`);

    // Orderly close of #0 by the server: END_STREAM on that stream only.
    byPath.get('/0')!.close(1000, 'one');
    assert.deepEqual(await peers[0]!.nextClose(), { code: 1000, reason: 'one' });
    const closed0 = nextEvent<[number, string]>(byPath.get('/0')!, 'close', 3000);
    peers[0]!.sendClose(1000, 'one');
    await peers[0]!.waitEnd();
    peers[0]!.stream.end();
    assert.deepEqual(await closed0, [1000, 'one']);
    // terminate() of #1: RST_STREAM CANCEL on that stream only.
    const closed1 = nextEvent<[number, string]>(byPath.get('/1')!, 'close', 3000);
    byPath.get('/1')!.terminate();
    await peers[1]!.waitClosed();
    assert.equal(peers[1]!.rstCode, NGHTTP2_CANCEL);
    assert.deepEqual(await closed1, [1006, '']);
    // The client resets #2 itself: the server's connection closes with 1006.
    const resetClosed = nextEvent<[number, string]>(byPath.get('/2')!, 'close', 3000);
    peers[2]!.stream.close(NGHTTP2_CANCEL);
    assert.deepEqual(await resetClosed, [1006, '']);

    for (const i of [3, 4]) assert.equal(await echoed(peers[i]!, `still #${i}`), `still #${i}`);
    assert.equal(s.closed, false);
    assert.equal(running.wss.clients.size, 2);
  });

  test('the wsforge client shares one session among its WebSockets to an origin, and closes it after the last', async (t) => {
    const running = await server(t, {}, 'attach');
    echo(running);
    const url = `wss://localhost:${running.port}/`;
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => connect(url, { http2: true, tls: { ca: TEST_CERT } })));
    assert.equal(running.sessions.length, 1, 'one HTTP/2 connection for three WebSockets');
    const closed = nextEvent(a!, 'close', 3000);
    a!.close();
    await closed;
    for (const ws of [b!, c!]) {
      const message = nextEvent<[string]>(ws, 'message', 3000);
      ws.send('still open');
      assert.deepEqual((await message)[0], 'still open');
    }
    const d = await connect(url, { http2: true, tls: { ca: TEST_CERT } });
    assert.equal(running.sessions.length, 1, 'a fourth reuses it');
    const serverSession = running.sessions[0]!;
    const sessionClosed = once(serverSession, 'close');
    await Promise.all([b!, c!, d].map((ws) => { const gone = nextEvent(ws, 'close', 3000); ws.close(); return gone; }));
    await withTimeout(sessionClosed, 3000, 'the client to close the HTTP/2 connection after its last WebSocket');
  });
});

describe('server over HTTP/2: flow control, large messages, shutdown', { timeout: 90_000 }, () => {
  test('HTTP/2 flow control is backpressure: a stream that is not read fills bufferedAmount, then drain; other streams flow', async (t) => {
    const running = await server(t, { highWaterMark: 256 * 1024 }, 'attach');
    const accepted: WebSocket[] = [];
    running.wss.on('connection', (ws) => {
      accepted.push(ws);
      ws.on('message', (data) => ws.send(data));
    });
    const s = await session(t, running.port);
    const slow = Http2RawPeer.open(s, extendedConnect('/slow'));
    const other = Http2RawPeer.open(s, extendedConnect('/other'));
    await slow.responseHeaders();
    await other.responseHeaders();
    await waitUntil(() => accepted.length === 2, 3000, 'two connections');
    slow.stream.pause();
    const ws = accepted[0]!;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    // Send until the peer's window is exhausted and the bytes stay queued (bounded: 64 MiB).
    for (let i = 0; i < 1024 && ws.bufferedAmount < 1024 * 1024; i++) {
      ws.send(chunk);
      sent += chunk.length;
      await delay(1);
    }
    assert.ok(ws.bufferedAmount >= 1024 * 1024, `bufferedAmount ${ws.bufferedAmount} after ${sent} bytes sent to a stream that is not read`);
    assert.equal(await echoed(other, 'not blocked'), 'not blocked', 'another stream on the same connection still flows');
    const drained = nextEvent(ws, 'drain', 10_000);
    slow.stream.resume();
    await drained;
    assert.ok(ws.bufferedAmount < 256 * 1024, `bufferedAmount ${ws.bufferedAmount} below highWaterMark after drain`);
    await waitUntil(() => slow.bytesReceived >= sent, 10_000, `all ${sent} bytes to arrive`);
  });

  test('listen: a large message queued for a WebSocket that is not read does not stop new WebSockets on its connection', async (t) => {
    // node:http2 resets new streams with ENHANCE_YOUR_CALM while a session's queued data is over maxSessionMemory.
    const running = await server(t, {}, 'listen');
    echo(running);
    const s = await session(t, running.port);
    const slow = Http2RawPeer.open(s, extendedConnect('/slow'));
    await slow.responseHeaders();
    slow.stream.pause();
    slow.sendClientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(12 * 1024 * 1024, 1) });
    await waitUntil(() => [...running.wss.clients].some((c) => c.bufferedAmount > 8 * 1024 * 1024), 10_000, 'the 12 MiB echo to be queued');
    const next = Http2RawPeer.open(s, extendedConnect('/next'));
    assert.equal((await next.responseHeaders())[':status'], 200, `a new WebSocket on the same connection (RST_STREAM ${next.rstCode})`);
    assert.equal(await echoed(next, 'not refused'), 'not refused');
  });

  test('16 MiB messages both ways over HTTP/2, with the wsforge client (binary and text)', async (t) => {
    const running = await server(t, {}, 'listen');
    const received: Array<[number, boolean, boolean]> = [];
    const binary = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < binary.length; i += 4) binary.writeUInt32LE((i * 2654435761) >>> 0, i);
    const text = 'wsforge ✓ h2 '.repeat(Math.floor((16 * 1024 * 1024) / Buffer.byteLength('wsforge ✓ h2 ')));
    running.wss.on('connection', (ws) =>
      ws.on('message', (data, isBinary) => {
        received.push([isBinary ? (data as Buffer).length : Buffer.byteLength(data as string), isBinary, isBinary ? binary.equals(data as Buffer) : data === text]);
        ws.send(data, { binary: isBinary });
      }),
    );
    const ws = await connect(`wss://localhost:${running.port}/big`, { http2: true, tls: { ca: TEST_CERT } });
    t.after(() => ws.terminate());
    const echoes: Array<string | Buffer> = [];
    ws.on('message', (data) => echoes.push(data));
    ws.send(binary);
    ws.send(text);
    await waitUntil(() => echoes.length === 2, 60_000, 'two 16 MiB echoes');
    assert.deepEqual(received, [[binary.length, true, true], [Buffer.byteLength(text), false, true]], 'the server got both whole');
    assert.ok(Buffer.isBuffer(echoes[0]) && binary.equals(echoes[0]), '16 MiB binary echoed intact');
    assert.ok(echoes[1] === text, '16 MiB text echoed intact');
  });

  test('listen: close() sends 1001 on every stream, then ends the HTTP/2 connections with GOAWAY', async (t) => {
    const running = await startHttp2Server({}, 'listen');
    const s = await session(t, running.port);
    const peer = Http2RawPeer.open(s, extendedConnect('/'));
    await peer.responseHeaders();
    const goaway = once(s, 'goaway');
    const closing = running.wss.close();
    assert.deepEqual(await peer.nextClose(), { code: 1001, reason: 'server shutting down' });
    peer.sendClose(1001);
    await withTimeout(closing, 5000, 'close() to resolve');
    await withTimeout(goaway, 3000, 'GOAWAY');
  });

  test('listen: an HTTP/2 connection that carries no WebSocket for handshakeTimeout is closed', async (t) => {
    const running = await server(t, { handshakeTimeout: 200 }, 'listen');
    const s = await session(t, running.port);
    await withTimeout(once(s, 'close'), 3000, 'the idle HTTP/2 connection to be closed');
  });
});
