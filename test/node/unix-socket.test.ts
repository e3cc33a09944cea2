/**
 * WebSocket over Unix domain sockets: `listen({ path })` on the server, `ws+unix:` /
 * `wss+unix:` URLs and the `socketPath` option on the client, TLS over the socket, and the
 * errors when the socket is missing or the URL is malformed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, type HandshakeRequest, type ServerOptions, WebSocketError, WebSocketServer, type WebSocket } from '../../src/index.js';
import { WebSocket as WhatwgWebSocket } from '../../src/whatwg.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';

guardProcess();

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)));

/** A fresh directory for socket files, removed after the test. */
function socketDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsforge-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An echo server on a Unix socket that records each handshake request. */
async function startUnixServer(t: TestContext, path: string, options: ServerOptions & { tls?: { cert: Buffer; key: Buffer } } = {}) {
  const { tls, ...serverOptions } = options;
  const wss = new WebSocketServer({ closeTimeout: 200, ...serverOptions });
  const requests: HandshakeRequest[] = [];
  wss.on('connection', (ws, request) => {
    requests.push(request);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const bound = await wss.listen(tls === undefined ? { path } : { path, tls });
  t.after(() => withTimeout(wss.close(), 3000, 'wss.close()'));
  return { wss, requests, bound };
}

async function echoOnce(ws: WebSocket, text: string): Promise<string> {
  const reply = nextEvent<[string | Buffer, boolean]>(ws, 'message', 2000);
  ws.send(text);
  const [data, isBinary] = await reply;
  assert.equal(isBinary, false);
  return data as string;
}

describe('Unix domain sockets', () => {
  test('listen({ path }) resolves with the path, address() returns it, and the socket file exists until close()', async (t) => {
    const path = join(socketDir(t), 'server.sock');
    const wss = new WebSocketServer();
    const listening = nextEvent<[unknown]>(wss, 'listening', 2000);
    const bound = await wss.listen({ path });
    assert.equal(bound, path);
    assert.deepEqual(await listening, [path]);
    assert.equal(wss.address(), path);
    assert.equal(existsSync(path), true, 'the socket file exists while listening');
    await withTimeout(wss.close(), 3000, 'wss.close()');
    assert.equal(existsSync(path), false, 'the socket file is removed at close');
  });

  test('ws+unix:///path.sock:/chat?room=1: the request line carries /chat?room=1 and Host: localhost; messages echo', async (t) => {
    const path = join(socketDir(t), 'echo.sock');
    const { requests } = await startUnixServer(t, path);
    const ws = await connect(`ws+unix://${path}:/chat?room=1`);
    t.after(() => ws.terminate());
    assert.equal(await echoOnce(ws, 'over a unix socket'), 'over a unix socket');
    assert.equal(requests.length, 1);
    const request = requests[0]!;
    assert.equal(request.url, '/chat?room=1');
    assert.equal(request.path, '/chat');
    assert.equal(request.query.get('room'), '1');
    assert.equal(request.headers['host'], 'localhost');
    const closed = nextEvent<[number, string]>(ws, 'close', 2000);
    ws.close(1000, 'done');
    assert.deepEqual(await closed, [1000, 'done']);
  });

  test('a ws+unix: URL without a path after the socket requests "/"', async (t) => {
    const path = join(socketDir(t), 'root.sock');
    const { requests } = await startUnixServer(t, path);
    const ws = await connect(`ws+unix://${path}`);
    t.after(() => ws.terminate());
    assert.equal(await echoOnce(ws, 'x'), 'x');
    assert.equal(requests[0]!.url, '/');
  });

  test('the socketPath option: a ws: URL gives Host and path, the bytes go over the socket', async (t) => {
    const path = join(socketDir(t), 'option.sock');
    const { requests } = await startUnixServer(t, path);
    // .invalid never resolves (RFC 2606): only the socket can have carried this connection.
    const ws = await connect('ws://app.invalid:8080/api', { socketPath: path });
    t.after(() => ws.terminate());
    assert.equal(await echoOnce(ws, 'via socketPath'), 'via socketPath');
    assert.equal(requests[0]!.headers['host'], 'app.invalid:8080');
    assert.equal(requests[0]!.url, '/api');
  });

  test('wss+unix: TLS over the Unix socket, the certificate checked for localhost', async (t) => {
    const path = join(socketDir(t), 'tls.sock');
    const cert = fixture('test-only-localhost.cert.pem');
    const { requests } = await startUnixServer(t, path, { tls: { cert, key: fixture('test-only-localhost.key.pem') } });
    const ws = await connect(`wss+unix://${path}:/secure`, { tls: { ca: cert } });
    t.after(() => ws.terminate());
    assert.equal(await echoOnce(ws, 'encrypted'), 'encrypted');
    assert.equal(requests[0]!.url, '/secure');
    // Without the test CA the certificate is refused: TLS really ran over the socket.
    await assert.rejects(connect(`wss+unix://${path}:/secure`), (error: unknown) => {
      assert.ok(error instanceof WebSocketError);
      assert.equal(error.code, 'WSF_ERR_HANDSHAKE_CONNECTION');
      assert.match(error.message, /self-signed|self signed|unable to verify/i);
      return true;
    });
  });

  test('the WHATWG WebSocket connects to a ws+unix: URL', async (t) => {
    const path = join(socketDir(t), 'whatwg.sock');
    await startUnixServer(t, path);
    const ws = new WhatwgWebSocket(`ws+unix://${path}:/w`);
    t.after(() => ws.close());
    await withTimeout(new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('the WHATWG WebSocket failed to connect over the Unix socket'));
    }), 2000, 'open');
    const message = new Promise<unknown>((resolve) => (ws.onmessage = (event) => resolve(event.data)));
    ws.send('hi');
    assert.equal(await withTimeout(message, 2000, 'echo'), 'hi');
  });

  test('a missing socket: WSF_ERR_HANDSHAKE_CONNECTION naming the path and ENOENT', async (t) => {
    const path = join(socketDir(t), 'nobody.sock');
    await assert.rejects(connect(`ws+unix://${path}:/`), (error: unknown) => {
      assert.ok(error instanceof WebSocketError);
      assert.equal(error.code, 'WSF_ERR_HANDSHAKE_CONNECTION');
      assert.ok(error.message.includes(path), error.message);
      assert.match(error.message, /ENOENT/);
      return true;
    });
  });

  test('malformed ws+unix: URLs are WSF_ERR_INVALID_URL', async () => {
    for (const url of ['ws+unix://host/tmp/x.sock:/', 'ws+unix:', 'ws+unix://', 'ws+unix:///tmp/x.sock:/p#frag']) {
      await assert.rejects(connect(url), (error: unknown) => {
        assert.ok(error instanceof WebSocketError, url);
        assert.equal(error.code, 'WSF_ERR_INVALID_URL', `${url}: ${error.message}`);
        return true;
      });
    }
  });
});
