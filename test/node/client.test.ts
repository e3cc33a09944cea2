/**
 * connect() against a raw TCP fake server we control (RFC 6455 §4.1): the request it sends,
 * and every way a handshake response can be wrong, each with its stable error code.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { connect, type ConnectOptions } from '../../src/index.js';
import { WebSocketError } from '../../src/protocol/index.js';
import { startFakeServer, switchingProtocols } from '../helpers/fake-server.js';
import { guardProcess } from '../helpers/process-guard.js';
import { type HttpHead, headerValue, type RawPeer } from '../helpers/raw-peer.js';
import { withTimeout } from '../helpers/timing.js';
import { OP, serverFrame } from '../helpers/wire-frames.js';

guardProcess();

/** Start connect() against a fake server; returns the peer (request read) and the pending connect. */
async function attempt(t: TestContext, path = '/', options: ConnectOptions = {}) {
  const fake = await startFakeServer();
  t.after(() => fake.close());
  const connecting = connect(`ws://127.0.0.1:${fake.port}${path}`, options);
  connecting.catch(() => {});
  const peer = await fake.nextPeer();
  const request = await peer.readHead();
  return { fake, peer, request, connecting };
}

async function expectFailure(connecting: Promise<unknown>, code: string): Promise<WebSocketError> {
  try {
    await withTimeout(connecting, 3000, 'connect() to settle');
  } catch (error) {
    assert.ok(error instanceof WebSocketError, `expected a WebSocketError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`connect() resolved; expected ${code}`);
}

describe('the opening handshake request (RFC 6455 §4.1)', () => {
  test('RFC 6455 §4.1: GET path?query HTTP/1.1 with Host, Upgrade, Connection, a 16-byte base64 key and version 13', async (t) => {
    const { fake, request } = await attempt(t, '/chat/room?id=5&x=y');
    assert.equal(request.startLine, 'GET /chat/room?id=5&x=y HTTP/1.1');
    assert.equal(headerValue(request, 'host'), `127.0.0.1:${fake.port}`);
    assert.equal(headerValue(request, 'upgrade')?.toLowerCase(), 'websocket');
    assert.match(headerValue(request, 'connection') ?? '', /upgrade/i);
    assert.equal(headerValue(request, 'sec-websocket-version'), '13');
    const key = headerValue(request, 'sec-websocket-key') ?? '';
    assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
    assert.equal(Buffer.from(key, 'base64').length, 16);
    assert.equal(request.headers.get('sec-websocket-key')!.length, 1);
  });

  test('RFC 6455 §4.1: the key is random: two connections send different keys', async (t) => {
    const fake = await startFakeServer();
    t.after(() => fake.close());
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) {
      const connecting = connect(`ws://127.0.0.1:${fake.port}/`);
      connecting.catch(() => {});
      const peer = await fake.nextPeer();
      keys.push(headerValue(await peer.readHead(), 'sec-websocket-key')!);
      peer.destroy();
      await connecting.catch(() => {});
    }
    assert.equal(new Set(keys).size, 3);
  });

  test('RFC 6455 §4.1: protocols, headers and origin options reach the request', async (t) => {
    const { request } = await attempt(t, '/', { protocols: ['v2', 'v1'], headers: { Authorization: 'Bearer t0k', 'X-Multi': ['a', 'b'] }, origin: 'https://app.example' });
    assert.equal(headerValue(request, 'sec-websocket-protocol'), 'v2, v1');
    assert.equal(headerValue(request, 'authorization'), 'Bearer t0k');
    assert.deepEqual(request.headers.get('x-multi'), ['a', 'b']);
    assert.equal(headerValue(request, 'origin'), 'https://app.example');
  });

  test('RFC 6455 §3: http:// URLs are mapped to ws:// (same request)', async (t) => {
    const fake = await startFakeServer();
    t.after(() => fake.close());
    const connecting = connect(`http://127.0.0.1:${fake.port}/x`);
    connecting.catch(() => {});
    const peer = await fake.nextPeer();
    const request = await peer.readHead();
    assert.equal(request.startLine, 'GET /x HTTP/1.1');
    peer.write(switchingProtocols(request));
    const ws = await withTimeout(connecting, 2000, 'connect()');
    ws.terminate();
  });
});

describe('accepting the response (RFC 6455 §4.1)', () => {
  async function accepted(t: TestContext, options: ConnectOptions, respond: (request: HttpHead, peer: RawPeer) => void) {
    const { peer, request, connecting } = await attempt(t, '/', options);
    respond(request, peer);
    const ws = await withTimeout(connecting, 2000, 'connect()');
    t.after(() => ws.terminate());
    return { ws, peer };
  }

  test('RFC 6455 §4.1: a correct 101 resolves with an open connection; the selected subprotocol is ws.protocol', async (t) => {
    const { ws } = await accepted(t, { protocols: ['a', 'b'] }, (request, peer) =>
      peer.write(switchingProtocols(request, { lines: ['Sec-WebSocket-Protocol: b'] })),
    );
    assert.equal(ws.readyState, 1);
    assert.equal(ws.protocol, 'b');
  });

  test('RFC 6455 §4.1: no subprotocol in the response is accepted (protocol "")', async (t) => {
    const { ws } = await accepted(t, { protocols: ['a'] }, (request, peer) => peer.write(switchingProtocols(request)));
    assert.equal(ws.protocol, '');
  });

  test('RFC 6455 §4.1: Upgrade/Connection are matched as case-insensitive tokens', async (t) => {
    const { ws } = await accepted(t, {}, (request, peer) =>
      peer.write(switchingProtocols(request, { upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE' })),
    );
    assert.equal(ws.readyState, 1);
  });

  test('RFC 6455 §4.1: frames that arrive in the same packet as the 101 are delivered', async (t) => {
    const { peer, request, connecting } = await attempt(t);
    peer.write(Buffer.concat([Buffer.from(switchingProtocols(request)), serverFrame({ opcode: OP.TEXT, payload: 'welcome' })]));
    const ws = await withTimeout(connecting, 2000, 'connect()');
    t.after(() => ws.terminate());
    // A listener attached right after connect() resolves must still get it.
    const got = await withTimeout(
      new Promise<string>((resolve) => {
        ws.on('message', (data) => resolve(String(data)));
      }),
      2000,
      'the first message',
    );
    assert.equal(got, 'welcome');
  });
});

describe('handshake failures (decision: WSF_ERR_HANDSHAKE_*)', () => {
  test('decision: a 403 with a body → WSF_ERR_HANDSHAKE_STATUS; the message has the status line and a body snippet', async (t) => {
    const { peer, connecting } = await attempt(t);
    peer.write('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\norigin not allowed\n');
    peer.socket.end();
    const error = await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_STATUS');
    assert.match(error.message, /HTTP\/1\.1 403 Forbidden/);
    assert.match(error.message, /origin not allowed/);
  });

  test('decision: a 200 OK (plain HTTP server) → WSF_ERR_HANDSHAKE_STATUS, without waiting for the server to close', async (t) => {
    const { peer, connecting } = await attempt(t);
    peer.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    const error = await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_STATUS');
    assert.match(error.message, /200 OK/);
    await peer.waitEnd(2000);
  });

  test('decision: a wrong Sec-WebSocket-Accept → WSF_ERR_HANDSHAKE_ACCEPT, and the client closes the socket', async (t) => {
    const { peer, request, connecting } = await attempt(t);
    peer.write(switchingProtocols(request, { accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' }));
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_ACCEPT');
    await peer.waitEnd(2000);
  });

  test('decision: a missing Sec-WebSocket-Accept → WSF_ERR_HANDSHAKE_ACCEPT', async (t) => {
    const { peer, connecting } = await attempt(t);
    peer.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_ACCEPT');
  });

  test('decision: a 101 without Upgrade: websocket → WSF_ERR_HANDSHAKE_UPGRADE', async (t) => {
    const { peer, request, connecting } = await attempt(t);
    peer.write(switchingProtocols(request, { upgrade: null }));
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_UPGRADE');
  });

  test('decision: a 101 with Upgrade: h2c → WSF_ERR_HANDSHAKE_UPGRADE', async (t) => {
    const { peer, request, connecting } = await attempt(t);
    peer.write(switchingProtocols(request, { upgrade: 'h2c' }));
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_UPGRADE');
  });

  test('decision: a 101 without Connection: Upgrade → WSF_ERR_HANDSHAKE_UPGRADE', async (t) => {
    const { peer, request, connecting } = await attempt(t);
    peer.write(switchingProtocols(request, { connection: 'keep-alive' }));
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_UPGRADE');
  });

  test('decision: a subprotocol that was not offered → WSF_ERR_HANDSHAKE_SUBPROTOCOL', async (t) => {
    const { peer, request, connecting } = await attempt(t, '/', { protocols: ['a', 'b'] });
    peer.write(switchingProtocols(request, { lines: ['Sec-WebSocket-Protocol: c'] }));
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_SUBPROTOCOL');
  });

  test('decision: a subprotocol when none was offered → WSF_ERR_HANDSHAKE_SUBPROTOCOL', async (t) => {
    const { peer, request, connecting } = await attempt(t);
    peer.write(switchingProtocols(request, { lines: ['Sec-WebSocket-Protocol: chat'] }));
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_SUBPROTOCOL');
  });

  test('decision: an extension that was not offered → WSF_ERR_HANDSHAKE_EXTENSION', async (t) => {
    const { peer, request, connecting } = await attempt(t);
    peer.write(switchingProtocols(request, { lines: ['Sec-WebSocket-Extensions: permessage-deflate'] }));
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_EXTENSION');
  });

  test('decision: no response within handshakeTimeout → WSF_ERR_HANDSHAKE_TIMEOUT, socket closed', async (t) => {
    const started = performance.now();
    const { peer, connecting } = await attempt(t, '/', { handshakeTimeout: 200 });
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_TIMEOUT');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 150 && elapsed < 2000, `timed out after ${elapsed.toFixed(0)} ms`);
    await peer.waitEnd(2000);
  });

  test('decision: half a response head, then silence → WSF_ERR_HANDSHAKE_TIMEOUT', async (t) => {
    const { peer, connecting } = await attempt(t, '/', { handshakeTimeout: 200 });
    peer.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n');
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_TIMEOUT');
  });

  test('decision: connection refused → WSF_ERR_HANDSHAKE_CONNECTION', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await expectFailure(connect(`ws://127.0.0.1:${port}/`), 'WSF_ERR_HANDSHAKE_CONNECTION');
    assert.match(error.message, /ECONNREFUSED/);
  });

  for (const url of ['not a url', 'ftp://127.0.0.1/', 'ws://127.0.0.1:1/#fragment', 'ws://', 'mailto:a@b.c']) {
    test(`decision: connect(${JSON.stringify(url)}) → WSF_ERR_INVALID_URL`, async () => {
      await expectFailure(connect(url), 'WSF_ERR_INVALID_URL');
    });
  }

  test('API: invalid subprotocol names are refused before connecting (WSF_ERR_INVALID_ARGUMENT)', async () => {
    await expectFailure(connect('ws://127.0.0.1:1/', { protocols: ['has space'] }), 'WSF_ERR_INVALID_ARGUMENT');
  });

  test('API: a server that closes before responding rejects with a WebSocketError (no hang)', async (t) => {
    const { peer, connecting } = await attempt(t);
    peer.destroy();
    try {
      await withTimeout(connecting, 3000, 'connect()');
      assert.fail('connect() resolved');
    } catch (error) {
      assert.ok(error instanceof WebSocketError);
      assert.match(error.code, /^WSF_ERR_HANDSHAKE_/);
    }
  });

  test('API: an aborted signal rejects connect() with WSF_ERR_HANDSHAKE_CONNECTION', async (t) => {
    const controller = new AbortController();
    const { peer, connecting } = await attempt(t, '/', { signal: controller.signal });
    controller.abort();
    await expectFailure(connecting, 'WSF_ERR_HANDSHAKE_CONNECTION');
    await peer.waitEnd(2000);
  });
});
