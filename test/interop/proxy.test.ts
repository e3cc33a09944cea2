// The client through real proxies: tinyproxy (HTTP CONNECT, RFC 9110 §9.3.6; Basic auth,
// RFC 7617) and microsocks (SOCKS5, RFC 1928; username/password, RFC 1929), each started on a
// free loopback port. ws:// and wss:// (TLS to the target inside the tunnel), the proxy from
// the `proxy` option and from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY),
// and every refusal as WSF_ERR_PROXY_REFUSED naming the proxy and its status.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, type ConnectOptions, type HandshakeRequest, WebSocketError, WebSocketServer, type WebSocket } from '../../src/index.js';
import { WebSocket as WhatwgWebSocket } from '../../src/whatwg.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';
import { freePort, type RunningProxy, startMicrosocks, startTinyproxy } from './proxy-peers.js';

guardProcess();

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)));
const cert = fixture('test-only-localhost.cert.pem');
const key = fixture('test-only-localhost.key.pem');

interface EchoServer {
  wss: WebSocketServer;
  port: number;
  requests: HandshakeRequest[];
}

async function startEchoServer(tls: boolean): Promise<EchoServer> {
  const wss = new WebSocketServer({ closeTimeout: 200 });
  const requests: HandshakeRequest[] = [];
  wss.on('connection', (ws, request) => {
    requests.push(request);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await wss.listen(tls ? { host: '127.0.0.1', tls: { cert, key } } : { host: '127.0.0.1' });
  return { wss, port, requests };
}

let plain: EchoServer;
let secure: EchoServer;
before(async () => {
  plain = await startEchoServer(false);
  secure = await startEchoServer(true);
});
after(async () => {
  await withTimeout(Promise.all([plain.wss.close(), secure.wss.close()]), 3000, 'echo servers to close');
});

async function proxy(t: TestContext, start: () => Promise<RunningProxy>): Promise<RunningProxy> {
  const running = await start();
  t.after(() => running.stop());
  return running;
}

/** Connect, check one text and one binary echo, close with 1000. */
async function roundTrip(url: string, options: ConnectOptions): Promise<WebSocket> {
  const ws = await withTimeout(connect(url, options), 5000, `connect(${url})`);
  try {
    const text = nextEvent<[string | Buffer, boolean]>(ws, 'message', 3000);
    ws.send('through the proxy');
    assert.deepEqual(await text, ['through the proxy', false]);
    const binary = nextEvent<[string | Buffer, boolean]>(ws, 'message', 3000);
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    ws.send(bytes);
    const [data, isBinary] = await binary;
    assert.equal(isBinary, true);
    assert.deepEqual(data, bytes);
  } finally {
    const closed = nextEvent<[number, string]>(ws, 'close', 3000);
    ws.close(1000);
    assert.equal((await closed)[0], 1000);
  }
  return ws;
}

async function expectError(connecting: Promise<unknown>, code: string): Promise<WebSocketError> {
  try {
    await withTimeout(connecting, 5000, 'connect() to fail');
  } catch (error) {
    assert.ok(error instanceof WebSocketError, `expected a WebSocketError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  return assert.fail(`connect() resolved; expected ${code}`);
}

/** Run `body` with environment variables set (and every proxy variable cleared), restoring them after. */
async function withEnvironment<T>(variables: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const names = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'];
  const saved = new Map(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, variables);
  try {
    return await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** tinyproxy's configuration syntax takes letters and digits only; microsocks takes any bytes. */
const BASIC_CREDENTIALS = { username: 'alice', password: 's3cret' };
const CREDENTIALS = { username: 'alice', password: 'p@ss%w0rd:' };

describe('HTTP proxy (tinyproxy, CONNECT)', () => {
  test('ws:// through the `proxy` option: the proxy logs CONNECT to the target, messages echo', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy());
    await roundTrip(`ws://127.0.0.1:${plain.port}/via-proxy`, { proxy: tinyproxy.url() });
    await tinyproxy.process.waitForLine((line) => line.includes(`CONNECT 127.0.0.1:${plain.port} HTTP/1.1`), 3000, 'the CONNECT request line');
    assert.equal(plain.requests.at(-1)!.path, '/via-proxy');
  });

  test('wss:// through the proxy: TLS to the target inside the tunnel, its certificate checked', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy());
    await roundTrip(`wss://localhost:${secure.port}/secure`, { proxy: tinyproxy.url(), tls: { ca: cert } });
    await tinyproxy.process.waitForLine((line) => line.includes(`CONNECT localhost:${secure.port} HTTP/1.1`), 3000, 'the CONNECT request line');
    // Without the test CA, the target's certificate is refused (it is the target's, not the proxy's).
    const error = await expectError(connect(`wss://localhost:${secure.port}/secure`, { proxy: tinyproxy.url() }), 'WSF_ERR_HANDSHAKE_CONNECTION');
    assert.match(error.message, /self-signed|self signed|unable to verify/i);
  });

  test('Basic auth: the right credentials open the tunnel', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy({ basicAuth: BASIC_CREDENTIALS }));
    await roundTrip(`ws://127.0.0.1:${plain.port}/auth`, { proxy: tinyproxy.url(BASIC_CREDENTIALS) });
  });

  test('Basic auth: no credentials is 407, named in WSF_ERR_PROXY_REFUSED with the proxy, and the response kept', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy({ basicAuth: BASIC_CREDENTIALS }));
    const error = await expectError(connect(`ws://127.0.0.1:${plain.port}/`, { proxy: tinyproxy.url() }), 'WSF_ERR_PROXY_REFUSED');
    assert.ok(error.message.includes(`proxy http://127.0.0.1:${tinyproxy.port}`), error.message);
    assert.ok(error.message.includes(`CONNECT 127.0.0.1:${plain.port}`), error.message);
    assert.match(error.message, /: 407 /);
    assert.equal(error.response?.status, 407);
    assert.match(error.response?.headers['proxy-authenticate'] ?? '', /^Basic/i);
  });

  test('Basic auth: wrong credentials are refused with the status tinyproxy sends (401, where RFC 9110 §15.5.8 has 407), never shown', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy({ basicAuth: BASIC_CREDENTIALS }));
    const wrong = { username: 'alice', password: 'not-the-password' };
    const error = await expectError(connect(`ws://127.0.0.1:${plain.port}/`, { proxy: tinyproxy.url(wrong) }), 'WSF_ERR_PROXY_REFUSED');
    assert.equal(error.response?.status, 401);
    assert.match(error.message, /: 401 /);
    assert.ok(!error.message.includes('not-the-password') && !error.message.includes('alice'), error.message);
  });

  test('a port the proxy does not allow is 403', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy({ connectPorts: [443] }));
    const error = await expectError(connect(`ws://127.0.0.1:${plain.port}/`, { proxy: tinyproxy.url() }), 'WSF_ERR_PROXY_REFUSED');
    assert.equal(error.response?.status, 403);
    assert.match(error.message, new RegExp(`proxy http://127\\.0\\.0\\.1:${tinyproxy.port} refused CONNECT 127\\.0\\.0\\.1:${plain.port}: 403`));
  });

  test('a target the proxy cannot reach: tinyproxy\'s "500 Unable to connect" (other proxies send 502), reported as sent', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy());
    const closedPort = await freePort();
    const error = await expectError(connect(`ws://127.0.0.1:${closedPort}/`, { proxy: tinyproxy.url() }), 'WSF_ERR_PROXY_REFUSED');
    assert.equal(error.response?.status, 500);
    assert.match(error.message, new RegExp(`refused CONNECT 127\\.0\\.0\\.1:${closedPort}: 500 Unable to connect$`));
  });

  test('a proxy that is not running: WSF_ERR_PROXY_CONNECTION naming it and ECONNREFUSED', async () => {
    const port = await freePort();
    const error = await expectError(connect(`ws://127.0.0.1:${plain.port}/`, { proxy: `http://user:secret@127.0.0.1:${port}` }), 'WSF_ERR_PROXY_CONNECTION');
    assert.ok(error.message.includes(`proxy http://127.0.0.1:${port}`), error.message);
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(!error.message.includes('secret'), error.message);
  });
});

describe('the proxy from the environment (curl and undici rules)', () => {
  test('HTTP_PROXY is used for ws://, HTTPS_PROXY for wss://', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy());
    await withEnvironment({ HTTP_PROXY: tinyproxy.url() }, () => roundTrip(`ws://127.0.0.1:${plain.port}/env-http`, {}));
    await tinyproxy.process.waitForLine((line) => line.includes(`CONNECT 127.0.0.1:${plain.port} HTTP/1.1`), 3000, 'CONNECT for ws://');
    await withEnvironment({ HTTPS_PROXY: tinyproxy.url() }, () => roundTrip(`wss://localhost:${secure.port}/env-https`, { tls: { ca: cert } }));
    await tinyproxy.process.waitForLine((line) => line.includes(`CONNECT localhost:${secure.port} HTTP/1.1`), 3000, 'CONNECT for wss://');
  });

  test('lowercase wins: http_proxy (working) over HTTP_PROXY (a dead port)', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy());
    const dead = `http://127.0.0.1:${await freePort()}`;
    await withEnvironment({ http_proxy: tinyproxy.url(), HTTP_PROXY: dead }, () => roundTrip(`ws://127.0.0.1:${plain.port}/lower`, {}));
  });

  test('ALL_PROXY is the fallback, and a SOCKS URL there works too', async (t) => {
    const microsocks = await proxy(t, () => startMicrosocks());
    await withEnvironment({ ALL_PROXY: microsocks.url() }, () => roundTrip(`ws://127.0.0.1:${plain.port}/all`, {}));
  });

  test('NO_PROXY exempts the target: a dead proxy is not used; without NO_PROXY it is, and fails naming it', async () => {
    const deadPort = await freePort();
    const dead = `http://127.0.0.1:${deadPort}`;
    await withEnvironment({ HTTP_PROXY: dead, NO_PROXY: `example.com, 127.0.0.1:${plain.port}` }, () => roundTrip(`ws://127.0.0.1:${plain.port}/direct`, {}));
    const error = await withEnvironment({ HTTP_PROXY: dead, NO_PROXY: '127.0.0.1:1' }, () =>
      expectError(connect(`ws://127.0.0.1:${plain.port}/`), 'WSF_ERR_PROXY_CONNECTION'),
    );
    assert.ok(error.message.includes(`proxy http://127.0.0.1:${deadPort}`), error.message);
  });

  test('`proxy: false` ignores the environment', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    await withEnvironment({ HTTP_PROXY: dead, ALL_PROXY: dead }, () => roundTrip(`ws://127.0.0.1:${plain.port}/no-proxy`, { proxy: false }));
  });

  test('the WHATWG WebSocket honours HTTPS_PROXY', async (t) => {
    const tinyproxy = await proxy(t, () => startTinyproxy());
    await withEnvironment({ HTTPS_PROXY: tinyproxy.url() }, async () => {
      const ws = new WhatwgWebSocket(`wss://localhost:${secure.port}/whatwg`, [], { tls: { ca: cert } });
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error('the WHATWG WebSocket did not open through the proxy'));
        }),
        5000,
        'open',
      );
      const echoed = new Promise<unknown>((resolve) => (ws.onmessage = (event) => resolve(event.data)));
      ws.send('whatwg through a proxy');
      assert.equal(await withTimeout(echoed, 3000, 'echo'), 'whatwg through a proxy');
      const closed = new Promise<number>((resolve) => (ws.onclose = (event) => resolve(event.code)));
      ws.close(1000);
      assert.equal(await withTimeout(closed, 3000, 'close'), 1000);
    });
    await tinyproxy.process.waitForLine((line) => line.includes(`CONNECT localhost:${secure.port} HTTP/1.1`), 3000, 'the CONNECT request line');
  });
});

describe('SOCKS5 proxy (microsocks)', () => {
  test('socks5:// without authentication: ws:// and wss://', async (t) => {
    const microsocks = await proxy(t, () => startMicrosocks());
    await roundTrip(`ws://127.0.0.1:${plain.port}/socks`, { proxy: microsocks.url() });
    assert.equal(plain.requests.at(-1)!.path, '/socks');
    await roundTrip(`wss://localhost:${secure.port}/socks-tls`, { proxy: microsocks.url(), tls: { ca: cert } });
    assert.equal(secure.requests.at(-1)!.path, '/socks-tls');
  });

  test('socks5h:// hands the host name to the proxy to resolve', async (t) => {
    const microsocks = await proxy(t, () => startMicrosocks());
    await roundTrip(`ws://localhost:${plain.port}/socks5h`, { proxy: `socks5h://127.0.0.1:${microsocks.port}` });
    assert.equal(plain.requests.at(-1)!.headers['host'], `localhost:${plain.port}`);
  });

  test('username/password (RFC 1929): right credentials (percent-encoded in the URL) open the tunnel', async (t) => {
    const microsocks = await proxy(t, () => startMicrosocks(CREDENTIALS));
    await roundTrip(`ws://127.0.0.1:${plain.port}/socks-auth`, { proxy: microsocks.url(CREDENTIALS) });
  });

  test('username/password: none given is refused (the proxy requires authentication)', async (t) => {
    const microsocks = await proxy(t, () => startMicrosocks(CREDENTIALS));
    const error = await expectError(connect(`ws://127.0.0.1:${plain.port}/`, { proxy: microsocks.url() }), 'WSF_ERR_PROXY_REFUSED');
    assert.ok(error.message.includes(`SOCKS5 proxy socks5://127.0.0.1:${microsocks.port} refused CONNECT 127.0.0.1:${plain.port}`), error.message);
    assert.match(error.message, /requires authentication/);
  });

  test('username/password: wrong ones are refused, and not shown', async (t) => {
    const microsocks = await proxy(t, () => startMicrosocks(CREDENTIALS));
    const error = await expectError(
      connect(`ws://127.0.0.1:${plain.port}/`, { proxy: microsocks.url({ username: 'alice', password: 'wrong-one' }) }),
      'WSF_ERR_PROXY_REFUSED',
    );
    assert.match(error.message, /rejected the username and password/);
    assert.ok(!error.message.includes('wrong-one'), error.message);
  });

  test('a target the proxy cannot reach: the SOCKS reply code, named (5: connection refused)', async (t) => {
    const microsocks = await proxy(t, () => startMicrosocks());
    const closedPort = await freePort();
    const error = await expectError(connect(`ws://127.0.0.1:${closedPort}/`, { proxy: microsocks.url() }), 'WSF_ERR_PROXY_REFUSED');
    assert.match(error.message, /connection refused \(reply 5\)$/);
  });
});
