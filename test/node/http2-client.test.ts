/**
 * connect({ http2: true }) (RFC 8441): against node:http2 servers written here (an independent
 * peer that reads and writes frames by hand), against servers that cannot take WebSockets over
 * HTTP/2, and against the wsforge server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSecureServer, type Http2SecureServer, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { connect, WebSocketError, WebSocketServer, type WebSocket } from '../../src/index.js';
import { NGHTTP2_CANCEL, TEST_CERT, TEST_KEY } from '../helpers/http2-peer.js';
import { startHttp2Server } from '../helpers/http2-server-fixture.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';
import { closePayload, OP, readClose, serverFrame, WireFrameReader, type WireFrame } from '../helpers/wire-frames.js';

guardProcess();

const tls = { ca: TEST_CERT };

async function expectFailure(promise: Promise<unknown>, code: string): Promise<WebSocketError> {
  try {
    await withTimeout(promise, 5000, `connect() to fail with ${code}`);
  } catch (error) {
    assert.ok(error instanceof WebSocketError, `expected a WebSocketError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`connect() resolved; expected ${code}`);
}

/** One extended CONNECT stream as the peer server sees it: its headers, and frames read by hand. */
interface PeerStream {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
  frames: WireFrame[];
}

/**
 * A node:http2 server written here: `answer` responds to each stream (default: 200 and read
 * frames); frames from the client are parsed by wire-frames.ts.
 */
async function peerServer(
  t: TestContext,
  options: { enableConnectProtocol?: boolean; answer?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void } = {},
): Promise<{ port: number; streams: PeerStream[]; sessions: ServerHttp2Session[]; server: Http2SecureServer }> {
  const server = createSecureServer({ cert: TEST_CERT, key: TEST_KEY, settings: { enableConnectProtocol: options.enableConnectProtocol ?? true } });
  const streams: PeerStream[] = [];
  const sessions: ServerHttp2Session[] = [];
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => {
    const seen: PeerStream = { stream, headers, frames: [] };
    streams.push(seen);
    stream.on('error', () => {});
    if (options.answer !== undefined) {
      options.answer(stream, headers);
      return;
    }
    stream.respond({ ':status': 200 });
    const reader = new WireFrameReader();
    stream.on('data', (chunk: Buffer) => seen.frames.push(...reader.push(chunk)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const session of sessions) session.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, streams, sessions, server };
}

describe('connect({ http2: true }): the extended CONNECT (RFC 8441 §4-5)', { timeout: 60_000 }, () => {
  test('RFC 8441 §5: the request is CONNECT with :protocol websocket, :scheme https, the path, version 13, no key; frames are masked', async (t) => {
    const peer = await peerServer(t);
    const ws = await connect(`wss://localhost:${peer.port}/chat?room=1`, {
      http2: true,
      tls,
      protocols: ['chat'],
      origin: 'https://app.example',
      headers: { Authorization: 'Bearer x' },
    });
    t.after(() => ws.terminate());
    const { headers } = peer.streams[0]!;
    assert.equal(headers[':method'], 'CONNECT');
    assert.equal(headers[':protocol'], 'websocket');
    assert.equal(headers[':scheme'], 'https');
    assert.equal(headers[':authority'], `localhost:${peer.port}`);
    assert.equal(headers[':path'], '/chat?room=1');
    assert.equal(headers['sec-websocket-version'], '13');
    assert.equal(headers['sec-websocket-protocol'], 'chat');
    assert.equal(headers['origin'], 'https://app.example');
    assert.equal(headers['authorization'], 'Bearer x');
    assert.equal(headers['sec-websocket-key'], undefined, 'RFC 8441 §5: no Sec-WebSocket-Key');
    assert.equal(headers['upgrade'], undefined);
    assert.equal(ws.protocol, '', 'the peer chose no subprotocol');
    assert.equal(ws.handshake?.response.status, 200);
    assert.equal(ws.handshake?.response.httpVersion, '2');
    assert.match(ws.handshake!.request, /^:method: CONNECT\r\n:protocol: websocket\r\n/);

    ws.send('masked ✓');
    await waitUntil(() => peer.streams[0]!.frames.length === 1, 3000, 'the text frame');
    const frame = peer.streams[0]!.frames[0]!;
    assert.equal(frame.opcode, OP.TEXT);
    assert.equal(frame.masked, true, 'RFC 6455 §5.3: a client masks every frame, over HTTP/2 too');
    assert.equal(frame.payload.toString('utf8'), 'masked ✓');
  });

  test('frames from the server arrive as messages; the close handshake ends the stream with END_STREAM', async (t) => {
    const peer = await peerServer(t);
    const ws = await connect(`wss://localhost:${peer.port}/`, { http2: true, tls });
    const { stream, frames } = peer.streams[0]!;
    const message = nextEvent<[string, boolean]>(ws, 'message', 3000);
    stream.write(serverFrame({ opcode: OP.TEXT, payload: 'from the server' }));
    assert.deepEqual(await message, ['from the server', false]);
    const closed = nextEvent<[number, string]>(ws, 'close', 3000);
    stream.write(serverFrame({ opcode: OP.CLOSE, payload: closePayload(4000, 'bye') }));
    await waitUntil(() => frames.some((f) => f.opcode === OP.CLOSE), 3000, "the client's close frame");
    assert.deepEqual(readClose(frames.find((f) => f.opcode === OP.CLOSE)!), { code: 4000, reason: 'bye' });
    // RFC 6455 §7.1.1: the server ends first; the client answers END_STREAM with END_STREAM.
    const ended = once(stream, 'end');
    stream.end();
    await withTimeout(ended, 3000, "the client's END_STREAM");
    assert.deepEqual(await closed, [4000, 'bye']);
    assert.equal(ws.wasClean, true);
    await waitUntil(() => stream.closed, 3000, 'the stream to close');
    assert.equal(stream.rstCode, 0, 'no reset');
  });

  test("terminate() resets the client's stream with RST_STREAM CANCEL", async (t) => {
    const peer = await peerServer(t);
    const ws = await connect(`wss://localhost:${peer.port}/`, { http2: true, tls });
    const { stream } = peer.streams[0]!;
    const closed = once(stream, 'close');
    ws.terminate();
    await withTimeout(closed, 3000, 'the stream to close');
    assert.equal(stream.rstCode, NGHTTP2_CANCEL);
  });

  test('a subprotocol and permessage-deflate chosen by the server are taken; one that was not offered fails', async (t) => {
    const peer = await peerServer(t, {
      answer: (stream, headers) =>
        stream.respond(
          headers[':path'] === '/bad'
            ? { ':status': 200, 'sec-websocket-protocol': 'other' }
            : { ':status': 200, 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover; client_no_context_takeover' },
        ),
    });
    const ws = await connect(`wss://localhost:${peer.port}/`, { http2: true, tls, protocols: ['chat'], perMessageDeflate: true });
    t.after(() => ws.terminate());
    assert.equal(ws.protocol, 'chat');
    assert.equal(ws.extensions, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    await expectFailure(connect(`wss://localhost:${peer.port}/bad`, { http2: true, tls, protocols: ['chat'] }), 'WSF_ERR_HANDSHAKE_SUBPROTOCOL');
  });

  test('a refusal: WSF_ERR_HANDSHAKE_STATUS with the status, headers and body in error.response', async (t) => {
    const peer = await peerServer(t, {
      answer: (stream) => {
        stream.respond({ ':status': 401, 'www-authenticate': 'Bearer', 'content-type': 'text/plain' });
        stream.end('login first\n');
      },
    });
    const error = await expectFailure(connect(`wss://localhost:${peer.port}/`, { http2: true, tls }), 'WSF_ERR_HANDSHAKE_STATUS');
    assert.equal(error.message, 'server answered ":status 401 Unauthorized" to the extended CONNECT instead of 200: "login first"');
    assert.equal(error.response?.status, 401);
    assert.equal(error.response?.statusText, 'Unauthorized');
    assert.equal(error.response?.headers['www-authenticate'], 'Bearer');
    assert.equal(error.response?.body, 'login first\n');
  });

  test('a server that never answers: WSF_ERR_HANDSHAKE_TIMEOUT, and the stream is cancelled (RST_STREAM CANCEL)', async (t) => {
    const peer = await peerServer(t, { answer: () => {} });
    await expectFailure(connect(`wss://localhost:${peer.port}/`, { http2: true, tls, handshakeTimeout: 200 }), 'WSF_ERR_HANDSHAKE_TIMEOUT');
    const { stream } = peer.streams[0]!;
    await waitUntil(() => stream.closed, 3000, 'the stream to close');
    assert.equal(stream.rstCode, NGHTTP2_CANCEL);
  });

  test('a stream reset before the response: WSF_ERR_HANDSHAKE_INVALID_RESPONSE naming the code', async (t) => {
    const peer = await peerServer(t, { answer: (stream) => stream.close(7 /* REFUSED_STREAM */) });
    const error = await expectFailure(connect(`wss://localhost:${peer.port}/`, { http2: true, tls }), 'WSF_ERR_HANDSHAKE_INVALID_RESPONSE');
    assert.match(error.message, /RST_STREAM code 7/);
  });

  test('an aborted signal rejects with WSF_ERR_HANDSHAKE_CONNECTION', async (t) => {
    const peer = await peerServer(t, { answer: () => {} });
    const controller = new AbortController();
    const attempt = connect(`wss://localhost:${peer.port}/`, { http2: true, tls, signal: controller.signal });
    await waitUntil(() => peer.streams.length === 1, 3000, 'the extended CONNECT');
    controller.abort();
    await expectFailure(attempt, 'WSF_ERR_HANDSHAKE_CONNECTION');
  });
});

describe('connect({ http2: true }): servers that cannot take it fail clearly', { timeout: 60_000 }, () => {
  test('RFC 8441 §3: no SETTINGS_ENABLE_CONNECT_PROTOCOL → WSF_ERR_HANDSHAKE_HTTP2_UNSUPPORTED, and no extended CONNECT is sent', async (t) => {
    const peer = await peerServer(t, { enableConnectProtocol: false });
    const error = await expectFailure(connect(`wss://localhost:${peer.port}/`, { http2: true, tls }), 'WSF_ERR_HANDSHAKE_HTTP2_UNSUPPORTED');
    assert.match(error.message, /SETTINGS_ENABLE_CONNECT_PROTOCOL/);
    assert.match(error.message, /without http2: true/);
    assert.equal(peer.streams.length, 0, 'a client MUST NOT send :protocol before the setting (RFC 8441 §3)');
  });

  test('an HTTPS server that speaks HTTP/1.1 only (ALPN) → WSF_ERR_HANDSHAKE_HTTP2_UNSUPPORTED', async (t) => {
    const https = createHttpsServer({ cert: TEST_CERT, key: TEST_KEY }, (_request, response) => response.end('h1'));
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => https.close(() => resolve())));
    const port = (https.address() as AddressInfo).port;
    const error = await expectFailure(connect(`wss://localhost:${port}/`, { http2: true, tls }), 'WSF_ERR_HANDSHAKE_HTTP2_UNSUPPORTED');
    assert.match(error.message, /ALPN/);
  });

  test('a TLS server without ALPN (wsforge listen({ tls }) without http2) → WSF_ERR_HANDSHAKE_HTTP2_UNSUPPORTED', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    const { port } = await wss.listen({ tls: { cert: TEST_CERT, key: TEST_KEY } });
    await expectFailure(connect(`wss://localhost:${port}/`, { http2: true, tls }), 'WSF_ERR_HANDSHAKE_HTTP2_UNSUPPORTED');
    // The same server over HTTP/1.1 is fine.
    const ws = await connect(`wss://localhost:${port}/`, { tls });
    ws.terminate();
  });

  test('ws:// with http2: true → WSF_ERR_INVALID_ARGUMENT (HTTP/2 WebSockets run over TLS)', async () => {
    await expectFailure(connect('ws://127.0.0.1:1/', { http2: true }), 'WSF_ERR_INVALID_ARGUMENT');
  });

  test('a certificate the client does not trust → WSF_ERR_HANDSHAKE_CONNECTION', async (t) => {
    const peer = await peerServer(t);
    await expectFailure(connect(`wss://localhost:${peer.port}/`, { http2: true }), 'WSF_ERR_HANDSHAKE_CONNECTION');
  });
});

describe('connect({ http2: true }): sessions', { timeout: 60_000 }, () => {
  test('WebSockets to one origin share a session when their TLS options are the same, not otherwise', async (t) => {
    const peer = await peerServer(t);
    const url = `wss://localhost:${peer.port}/`;
    const first = await connect(url, { http2: true, tls: { ca: TEST_CERT } });
    const second = await connect(url, { http2: true, tls: { ca: Buffer.from(TEST_CERT) } });
    assert.equal(peer.sessions.length, 1, 'equal TLS options (another object, the same CA bytes): one connection');
    const third = await connect(url, { http2: true, tls: { ca: TEST_CERT, rejectUnauthorized: true, servername: 'localhost' } });
    assert.equal(peer.sessions.length, 2, 'other TLS options: another connection');
    for (const ws of [first, second, third]) ws.terminate();
  });

  test('a large message being sent on the shared session does not stop the next WebSocket on it', async (t) => {
    // node:http2 refuses header blocks (here: the next response) while queued data is over maxSessionMemory.
    const running = await startHttp2Server({}, 'listen');
    t.after(() => running.stop());
    const arrived: number[] = [];
    running.wss.on('connection', (ws, request) => {
      if (request.path === '/slow') ws.pause();
      ws.on('message', (data) => arrived.push(data.length));
    });
    const url = `wss://localhost:${running.port}`;
    const slow = await connect(`${url}/slow`, { http2: true, tls });
    t.after(() => slow.terminate());
    slow.send(Buffer.alloc(12 * 1024 * 1024, 1));
    await waitUntil(() => slow.bufferedAmount > 8 * 1024 * 1024, 5000, 'the 12 MiB message to be queued');
    const next = await connect(`${url}/next`, { http2: true, tls });
    t.after(() => next.terminate());
    next.send('through');
    await waitUntil(() => arrived.includes(7), 3000, 'the message of the next WebSocket');
  });

  test('after its last WebSocket the session is closed; the next connect opens a new one', async (t) => {
    const running = await startHttp2Server({}, 'attach');
    t.after(() => running.stop());
    running.wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
    const url = `wss://localhost:${running.port}/`;
    const ws: WebSocket = await connect(url, { http2: true, tls });
    const sessionClosed = once(running.sessions[0]!, 'close');
    const closed = nextEvent(ws, 'close', 3000);
    ws.close();
    await closed;
    await withTimeout(sessionClosed, 3000, 'the HTTP/2 connection to close');
    const again = await connect(url, { http2: true, tls });
    t.after(() => again.terminate());
    assert.equal(running.sessions.length, 2);
    const message = nextEvent<[string]>(again, 'message', 3000);
    again.send('new session');
    assert.equal((await message)[0], 'new session');
  });

  test('the wsforge server in listen mode at an IP literal (no SNI name sent)', async (t) => {
    const running = await startHttp2Server({ protocols: ['chat'] }, 'listen');
    t.after(() => running.stop());
    const transports: string[] = [];
    running.wss.on('connection', (ws, request) => {
      transports.push(request.transport);
      ws.on('message', (data) => ws.send(data));
    });
    const ws = await connect(`wss://127.0.0.1:${running.port}/`, { http2: true, tls, protocols: ['chat'] });
    t.after(() => ws.terminate());
    assert.equal(ws.protocol, 'chat');
    const message = nextEvent<[string]>(ws, 'message', 3000);
    ws.send('ip literal, no SNI');
    assert.equal((await message)[0], 'ip literal, no SNI');
    assert.deepEqual(transports, ['h2']);
  });
});
