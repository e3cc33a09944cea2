/**
 * Server handshake over real loopback sockets (RFC 6455 §4.2), in the three server modes:
 * listen() (raw TCP), attach(http.Server), handleUpgrade() from an 'upgrade' event.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HandshakeRequest } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import {
  acceptFor,
  exchange,
  type HttpExchange,
  headerHasToken,
  headerValue,
  openRaw,
  RawPeer,
  upgradeRequest,
  type UpgradeRequestOptions,
} from '../helpers/raw-peer.js';
import { echo, SERVER_MODES, startServer, type ServerMode } from '../helpers/server-fixture.js';
import { delay, nextEvent, withTimeout } from '../helpers/timing.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';

guardProcess();

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Decision: `HTTP/1.1 <status> <text>`, Connection: close, a text/plain body, then the server closes. */
function assertErrorResponse(response: HttpExchange, status: number): void {
  assert.equal(response.head.startLine, `HTTP/1.1 ${status} ${STATUS_TEXT[status]}`, response.head.raw);
  assert.ok(headerHasToken(response.head, 'connection', 'close'), `Connection: close expected in\n${response.head.raw}`);
  assert.match(headerValue(response.head, 'content-type') ?? '', /^text\/plain/);
  assert.equal(Buffer.byteLength(response.body), Number(headerValue(response.head, 'content-length')), 'Content-Length matches the body');
  assert.ok(response.body.length > 0, 'the body says why');
  assert.equal(response.closedByServer, true);
  assert.equal(headerValue(response.head, 'sec-websocket-accept'), undefined, 'no accept on a refusal');
}

async function request(port: number, options: UpgradeRequestOptions | string): Promise<HttpExchange> {
  return exchange(port, typeof options === 'string' ? options : upgradeRequest(options));
}

describe('raw TCP handshake: request validation (RFC 6455 §4.2.1)', () => {
  const cases: Array<[string, UpgradeRequestOptions | string, number]> = [
    ['method POST', { method: 'POST' }, 400],
    ['method HEAD', { method: 'HEAD' }, 400],
    ['HTTP/1.0', { httpVersion: '1.0' }, 400],
    ['missing Host', { host: null }, 400],
    ['duplicated Host', { extra: ['Host: evil.example'] }, 400],
    ['Upgrade without the "websocket" token', { upgrade: 'h2c' }, 400],
    ['Connection without the "upgrade" token', { connection: 'keep-alive' }, 400],
    ['missing Sec-WebSocket-Key', { key: null }, 400],
    ['duplicated Sec-WebSocket-Key', { extra: ['Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA=='] }, 400],
    ['Sec-WebSocket-Key of 8 bytes', { key: 'AQIDBAUGBwg=' }, 400],
    ['malformed subprotocol list', { extra: ['Sec-WebSocket-Protocol: a,,b c'] }, 400],
    ['duplicated subprotocol', { extra: ['Sec-WebSocket-Protocol: chat, chat'] }, 400],
    ['malformed Sec-WebSocket-Extensions', { extra: ['Sec-WebSocket-Extensions: permessage-deflate;;'] }, 400],
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: 127.0.0.1\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\r\n\r\n', 400],
    ['a folded header', { extra: ['X-Folded: a', '\tb'] }, 400],
    ['whitespace before the colon', { extra: ['Sec-WebSocket-Protocol : chat'] }, 400],
    ['garbage instead of HTTP', 'SSH-2.0-OpenSSH_9.0\r\n\r\n', 400],
  ];
  for (const [name, options, status] of cases) {
    test(`RFC 6455 §4.2.1 (decision): ${name} → ${status}, Connection: close, socket closed`, async (t) => {
      const server = await startServer();
      t.after(() => server.stop());
      assertErrorResponse(await request(server.port, options), status);
      assert.equal(server.wss.clients.size, 0);
    });
  }

  test('RFC 9110 §15.5.22 (decision): a request without any Upgrade header → 426 with Upgrade: websocket and Sec-WebSocket-Version: 13', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const response = await request(server.port, { upgrade: null, connection: 'keep-alive' });
    assertErrorResponse(response, 426);
    assert.equal(headerValue(response.head, 'upgrade'), 'websocket');
    assert.equal(headerValue(response.head, 'sec-websocket-version'), '13');
  });

  for (const version of [null, '8', '12', '14', '13, 8']) {
    test(`RFC 6455 §4.2.2: Sec-WebSocket-Version ${version ?? 'missing'} → 426 with Sec-WebSocket-Version: 13`, async (t) => {
      const server = await startServer();
      t.after(() => server.stop());
      const response = await request(server.port, { version });
      assertErrorResponse(response, 426);
      assert.equal(headerValue(response.head, 'sec-websocket-version'), '13');
    });
  }

  test('decision: a head over the default maxHeaderSize (16 KiB) → 431', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    assertErrorResponse(await request(server.port, { extra: [`X-Big: ${'b'.repeat(17 * 1024)}`] }), 431);
  });

  test('decision: a head that never ends, past maxHeaderSize, → 431 without waiting for the blank line', async (t) => {
    const server = await startServer({ maxHeaderSize: 1024 });
    t.after(() => server.stop());
    const response = await exchange(server.port, `GET / HTTP/1.1\r\nX-Endless: ${'e'.repeat(2000)}`);
    assertErrorResponse(response, 431);
  });

  test('decision: a head just under a custom maxHeaderSize is accepted', async (t) => {
    const base = upgradeRequest({ extra: ['X-Pad: '] });
    const server = await startServer({ maxHeaderSize: base.length + 100 });
    t.after(() => server.stop());
    const peer = await RawPeer.connect(server.port);
    t.after(() => peer.destroy());
    peer.write(upgradeRequest({ extra: [`X-Pad: ${'p'.repeat(100)}`] }));
    assert.equal((await peer.readHead()).status, 101);
  });

  test('decision: a handshake not complete within handshakeTimeout → 408 and the socket closed', async (t) => {
    const server = await startServer({ handshakeTimeout: 150 });
    t.after(() => server.stop());
    const peer = await RawPeer.connect(server.port);
    t.after(() => peer.destroy());
    const started = performance.now();
    peer.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'); // and nothing more
    const head = await peer.readHead(3000);
    const elapsed = performance.now() - started;
    assert.equal(head.startLine, 'HTTP/1.1 408 Request Timeout');
    assert.ok(headerHasToken(head, 'connection', 'close'));
    assert.ok(elapsed >= 100 && elapsed < 2000, `408 after ${elapsed.toFixed(0)} ms with a 150 ms timeout`);
    await peer.waitEnd(2000);
  });

  test('decision: a client that connects and sends nothing gets 408 after handshakeTimeout', async (t) => {
    const server = await startServer({ handshakeTimeout: 100 });
    t.after(() => server.stop());
    const peer = await RawPeer.connect(server.port);
    t.after(() => peer.destroy());
    assert.equal((await peer.readHead(3000)).status, 408);
    await peer.waitEnd(2000);
  });

  test('RFC 6455 §4.2.2: a handshake sent one byte at a time is accepted', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const peer = await RawPeer.connect(server.port);
    t.after(() => peer.destroy());
    const bytes = Buffer.from(upgradeRequest());
    for (const byte of bytes) {
      peer.write(Uint8Array.of(byte));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const head = await peer.readHead();
    assert.equal(head.status, 101);
    assert.equal(headerValue(head, 'sec-websocket-accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  test('decision: error events and refusals do not leave sockets in the server (clients stays empty)', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const rejected: number[] = [];
    server.wss.on('rejected', (status) => rejected.push(status));
    await request(server.port, { version: '8' });
    await request(server.port, { key: null });
    assert.deepEqual(rejected, [426, 400]);
    assert.equal(server.wss.clients.size, 0);
  });
});

for (const mode of SERVER_MODES) {
  describe(`server mode ${mode}: handshake outcomes`, () => {
    const start = (options = {}) => startServer(options, mode as ServerMode);

    test(`RFC 6455 §1.3 (${mode}): key "dGhlIHNhbXBsZSBub25jZQ==" → 101 with accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="`, async (t) => {
      const server = await start();
      t.after(() => server.stop());
      const connected = nextEvent(server.wss, 'connection', 2000);
      const peer = await RawPeer.connect(server.port);
      t.after(() => peer.destroy());
      peer.write(upgradeRequest({ key: 'dGhlIHNhbXBsZSBub25jZQ==' }));
      const head = await peer.readHead();
      assert.equal(head.startLine, 'HTTP/1.1 101 Switching Protocols');
      assert.equal(headerValue(head, 'sec-websocket-accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      assert.ok(headerHasToken(head, 'upgrade', 'websocket'));
      assert.ok(headerHasToken(head, 'connection', 'upgrade'));
      assert.equal(headerValue(head, 'sec-websocket-protocol'), undefined, 'no subprotocol when none was offered');
      assert.equal(headerValue(head, 'sec-websocket-extensions'), undefined, 'no extension configured');
      await connected;
      assert.equal(server.wss.clients.size, 1);
    });

    test(`RFC 6455 §4.2.1 (${mode}): Upgrade "foo, WebSocket" and Connection "keep-alive, Upgrade" are accepted`, async (t) => {
      const server = await start();
      t.after(() => server.stop());
      const peer = await RawPeer.connect(server.port);
      t.after(() => peer.destroy());
      const key = 'AQIDBAUGBwgJCgsMDQ4PEA==';
      peer.write(upgradeRequest({ key, upgrade: 'foo, WebSocket', connection: 'keep-alive, Upgrade' }));
      const head = await peer.readHead();
      assert.equal(head.status, 101);
      assert.equal(headerValue(head, 'sec-websocket-accept'), acceptFor(key));
    });

    const refusals: Array<[string, UpgradeRequestOptions, number]> = [
      ['Upgrade without "websocket"', { upgrade: 'foo' }, 400],
      ['missing Sec-WebSocket-Key', { key: null }, 400],
      ['Sec-WebSocket-Key not 16 bytes', { key: 'c2hvcnQ=' }, 400],
      ['Sec-WebSocket-Version 8', { version: '8' }, 426],
      ['missing Sec-WebSocket-Version', { version: null }, 426],
      ['duplicated Sec-WebSocket-Key', { extra: ['Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA=='] }, 400],
      ['malformed subprotocols', { extra: ['Sec-WebSocket-Protocol: "quoted"'] }, 400],
    ];
    for (const [name, options, status] of refusals) {
      test(`RFC 6455 §4.2.1 (${mode}): ${name} → ${status}`, async (t) => {
        const server = await start();
        t.after(() => server.stop());
        const response = await request(server.port, options);
        assertErrorResponse(response, status);
        if (status === 426) assert.equal(headerValue(response.head, 'sec-websocket-version'), '13');
        if (mode === 'handleUpgrade') assert.deepEqual(server.upgrades, [null], 'handleUpgrade resolves with null when refused');
      });
    }

    test(`decision (${mode}): path filter mismatch → 404; the path matches without the query`, async (t) => {
      const server = await start({ path: '/chat' });
      t.after(() => server.stop());
      assertErrorResponse(await request(server.port, { path: '/other' }), 404);
      assertErrorResponse(await request(server.port, { path: '/chat/x' }), 404);
      const { peer } = await openRaw(server.port, { path: '/chat?room=1' });
      peer.destroy();
    });

    test(`decision (${mode}): Origin not in origins → 403; listed Origin and no Origin pass`, async (t) => {
      const server = await start({ origins: ['https://good.example'] });
      t.after(() => server.stop());
      assertErrorResponse(await request(server.port, { extra: ['Origin: https://evil.example'] }), 403);
      const a = await openRaw(server.port, { extra: ['Origin: https://good.example'] });
      a.peer.destroy();
      const b = await openRaw(server.port);
      b.peer.destroy();
    });

    test(`decision (${mode}): over maxConnections → 503; a slot freed is reusable`, async (t) => {
      const server = await start({ maxConnections: 1 });
      t.after(() => server.stop());
      const first = await openRaw(server.port);
      assertErrorResponse(await request(server.port, {}), 503);
      const closed = nextEvent(server.wss.clients.values().next().value!, 'close', 2000);
      first.peer.destroy();
      await closed;
      const again = await openRaw(server.port);
      again.peer.destroy();
    });

    test(`decision (${mode}): onHandshake returning false → 403`, async (t) => {
      const server = await start({ onHandshake: () => false });
      t.after(() => server.stop());
      assertErrorResponse(await request(server.port, {}), 403);
    });

    test(`decision (${mode}): onHandshake {status: 401, headers: {WWW-Authenticate: Bearer}} → 401 with that header`, async (t) => {
      const server = await start({ onHandshake: () => ({ status: 401, headers: { 'WWW-Authenticate': 'Bearer' } }) });
      t.after(() => server.stop());
      const response = await request(server.port, {});
      assert.equal(response.head.startLine, 'HTTP/1.1 401 Unauthorized');
      assert.equal(headerValue(response.head, 'www-authenticate'), 'Bearer');
      assert.ok(headerHasToken(response.head, 'connection', 'close'));
      assert.match(headerValue(response.head, 'content-type') ?? '', /^text\/plain/);
      assert.equal(Buffer.byteLength(response.body), Number(headerValue(response.head, 'content-length')));
      assert.equal(response.closedByServer, true);
    });

    test(`decision (${mode}): an async onHandshake is awaited; it sees path, query, headers, protocols`, async (t) => {
      const seen: HandshakeRequest[] = [];
      const server = await start({
        onHandshake: async (req: HandshakeRequest) => {
          seen.push(req);
          await delay(30);
          return req.headers['authorization'] === 'Bearer good' ? true : { status: 401 };
        },
      });
      t.after(() => server.stop());
      assert.equal((await request(server.port, { extra: ['Authorization: Bearer bad'] })).head.status, 401);
      const { peer } = await openRaw(server.port, { path: '/room?id=7', extra: ['Authorization: Bearer good', 'Sec-WebSocket-Protocol: x, y'] });
      peer.destroy();
      const req = seen[1]!;
      assert.equal(req.path, '/room');
      assert.equal(req.url, '/room?id=7');
      assert.equal(req.query.get('id'), '7');
      assert.deepEqual(req.protocols, ['x', 'y']);
      assert.equal(req.method, 'GET');
    });

    test(`decision (${mode}): a throwing onHandshake → 500 and the server's 'error' event`, async (t) => {
      const server = await start({
        onHandshake: () => {
          throw new Error('hook exploded');
        },
      });
      t.after(() => server.stop());
      const errors: Error[] = [];
      server.wss.on('error', (error) => errors.push(error));
      assertErrorResponse(await request(server.port, {}), 500);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.message, 'hook exploded');
    });

    test(`decision (${mode}): a rejecting async onHandshake without an 'error' listener → 500, no crash`, async (t) => {
      const server = await start({ onHandshake: async () => Promise.reject(new Error('async hook failed')) });
      t.after(() => server.stop());
      const response = await request(server.port, {});
      assertErrorResponse(response, 500);
      assert.doesNotMatch(response.body, /async hook failed/, 'internal details stay out of the response');
    });

    test(`decision (${mode}): onHandshake {data} → ws.data, {headers} → extra 101 headers`, async (t) => {
      const server = await start({ onHandshake: () => ({ data: { user: 'ada' }, headers: { 'X-Session': 'abc', 'Set-Cookie': ['a=1', 'b=2'] } }) });
      t.after(() => server.stop());
      const connection = nextEvent<[import('../../src/index.js').WebSocket]>(server.wss, 'connection', 2000);
      const { peer, head } = await openRaw(server.port);
      t.after(() => peer.destroy());
      assert.equal(headerValue(head, 'x-session'), 'abc');
      assert.deepEqual(head.headers.get('set-cookie'), ['a=1', 'b=2']);
      const [ws] = await connection;
      assert.deepEqual(ws.data, { user: 'ada' });
    });

    test(`RFC 6455 §4.2.2 (${mode}): protocols option picks the first of the server's list that the client offered`, async (t) => {
      const server = await start({ protocols: ['v3', 'v2', 'v1'] });
      t.after(() => server.stop());
      const connection = nextEvent<[import('../../src/index.js').WebSocket]>(server.wss, 'connection', 2000);
      const { peer, head } = await openRaw(server.port, { extra: ['Sec-WebSocket-Protocol: v1, v2'] });
      t.after(() => peer.destroy());
      assert.equal(headerValue(head, 'sec-websocket-protocol'), 'v2');
      const [ws] = await connection;
      assert.equal(ws.protocol, 'v2');
    });

    test(`RFC 6455 §4.2.2 (${mode}): no subprotocol header when nothing matches`, async (t) => {
      const server = await start({ protocols: ['v3'] });
      t.after(() => server.stop());
      const { peer, head } = await openRaw(server.port, { extra: ['Sec-WebSocket-Protocol: v1, v2'] });
      t.after(() => peer.destroy());
      assert.equal(headerValue(head, 'sec-websocket-protocol'), undefined);
    });

    test(`RFC 6455 §4.2.2 (${mode}): handleProtocols overrides protocols`, async (t) => {
      const server = await start({ protocols: ['a'], handleProtocols: (offered: readonly string[]) => offered.at(-1) });
      t.after(() => server.stop());
      const { peer, head } = await openRaw(server.port, { extra: ['Sec-WebSocket-Protocol: a, b, c'] });
      t.after(() => peer.destroy());
      assert.equal(headerValue(head, 'sec-websocket-protocol'), 'c');
    });

    test(`RFC 6455 §4.2.2 (${mode}): a handleProtocols that returns undefined selects none`, async (t) => {
      const server = await start({ protocols: ['a'], handleProtocols: () => undefined });
      t.after(() => server.stop());
      const { peer, head } = await openRaw(server.port, { extra: ['Sec-WebSocket-Protocol: a'] });
      t.after(() => peer.destroy());
      assert.equal(headerValue(head, 'sec-websocket-protocol'), undefined);
    });

    test(`RFC 6455 §4.2.2 (${mode}): a frame sent in the same packet as the handshake is processed`, async (t) => {
      const server = await start();
      echo(server.wss);
      t.after(() => server.stop());
      const peer = await RawPeer.connect(server.port);
      t.after(() => peer.destroy());
      peer.write(Buffer.concat([Buffer.from(upgradeRequest()), clientFrame({ opcode: OP.TEXT, payload: 'early bird' })]));
      assert.equal((await peer.readHead()).status, 101);
      peer.startFrames();
      const frame = await peer.nextFrame();
      assert.equal(frame.opcode, OP.TEXT);
      assert.equal(frame.payload.toString(), 'early bird');
    });
  });
}

describe('attach / handleUpgrade leave plain HTTP alone', () => {
  for (const mode of ['attach', 'handleUpgrade'] as const) {
    test(`API (${mode}): a plain GET without Upgrade is served by the http server`, async (t) => {
      const server = await startServer({}, mode);
      t.after(() => server.stop());
      const response = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      assert.equal(response.head.status, 200);
      assert.equal(response.body, 'plain http');
    });
  }

  test('API (handleUpgrade): resolves with the WebSocket on success', async (t) => {
    const server = await startServer({}, 'handleUpgrade');
    t.after(() => server.stop());
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    await withTimeout(
      (async () => {
        while (server.upgrades.length === 0) await delay(5);
      })(),
      2000,
      'handleUpgrade to resolve',
    );
    assert.ok(server.upgrades[0] !== null && server.wss.clients.has(server.upgrades[0]!));
  });
});
