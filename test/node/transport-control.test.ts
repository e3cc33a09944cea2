/**
 * A connection over an HTTP/2 stream (RFC 8441 §5) drops its transport as HTTP/2 says a TCP reset
 * is written: terminate() resets the stream with RST_STREAM CANCEL, while an orderly close ends it
 * with END_STREAM; its remote address is its session's. The stream here comes from node:http2
 * directly, so only the connection's transport handling is under test.
 */
import assert from 'node:assert/strict';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { WebSocket } from '../../src/index.js';
import { extendedConnect, Http2RawPeer, NGHTTP2_CANCEL, openHttp2Session, TEST_CERT, TEST_KEY } from '../helpers/http2-peer.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';

guardProcess();

/** An HTTP/2 server whose extended CONNECT streams become WebSockets (answered 200, nothing checked). */
async function streamServer(t: TestContext): Promise<{ port: number; next: () => Promise<WebSocket> }> {
  const server: Http2SecureServer = createSecureServer({ cert: TEST_CERT, key: TEST_KEY, settings: { enableConnectProtocol: true } });
  const waiting: Array<(ws: WebSocket) => void> = [];
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.respond({ ':status': 200 });
    const ws = new WebSocket(stream, { role: 'server', closeTimeout: 500 });
    waiting.shift()?.(ws);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    // server.close() waits for every HTTP/2 session to end.
    for (const session of sessions) session.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as AddressInfo).port,
    next: () => withTimeout(new Promise<WebSocket>((resolve) => waiting.push(resolve)), 3000, 'a WebSocket on the server'),
  };
}

describe('WebSocket over an HTTP/2 stream: the transport (RFC 8441 §5)', { timeout: 20_000 }, () => {
  test('terminate() resets the stream with RST_STREAM CANCEL (the HTTP/2 form of a TCP reset); close event 1006', async (t) => {
    const { port, next } = await streamServer(t);
    const session = await openHttp2Session(port);
    t.after(() => session.destroy());
    const accepted = next();
    const peer = Http2RawPeer.open(session, extendedConnect('/'));
    assert.equal((await peer.responseHeaders())[':status'], 200);
    const ws = await accepted;
    assert.equal(ws.remoteAddress, '127.0.0.1', "the stream's remote address is its session socket's");
    const closed = nextEvent<[number, string]>(ws, 'close', 3000);
    ws.terminate();
    await peer.waitClosed();
    assert.equal(peer.rstCode, NGHTTP2_CANCEL, 'RST_STREAM with CANCEL (0x8)');
    assert.deepEqual(await closed, [1006, '']);
    assert.equal(session.closed, false, 'the HTTP/2 connection stays open');
  });

  test('an orderly close ends the stream with END_STREAM after the close frames (no reset)', async (t) => {
    const { port, next } = await streamServer(t);
    const session = await openHttp2Session(port);
    t.after(() => session.destroy());
    const accepted = next();
    const peer = Http2RawPeer.open(session, extendedConnect('/'));
    await peer.responseHeaders();
    const ws = await accepted;
    const closed = nextEvent<[number, string]>(ws, 'close', 3000);
    ws.close(4001, 'bye');
    assert.deepEqual(await peer.nextClose(), { code: 4001, reason: 'bye' });
    peer.sendClose(4001, 'bye');
    // RFC 6455 §7.1.1: the server closes first; over HTTP/2 that is END_STREAM.
    await peer.waitEnd();
    peer.stream.end();
    await peer.waitClosed();
    assert.equal(peer.rstCode, 0, 'no RST_STREAM error code');
    assert.deepEqual(await closed, [4001, 'bye']);
    assert.equal(ws.wasClean, true);
    assert.equal(peer.frames.pendingBytes, 0);
  });
});
