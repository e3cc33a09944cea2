/**
 * The CLI over HTTP/2 (RFC 8441): `serve --http2` serves the demo page and WebSockets as HTTP/2
 * streams and HTTP/1.1 on the same port, and says which each connection used; `connect --http2`.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { connect, WebSocketServer } from '../../src/index.js';
import { runCli } from '../helpers/cli-process.js';
import { extendedConnect, Http2RawPeer, openHttp2Session, TEST_CERT, TEST_KEY } from '../helpers/http2-peer.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent } from '../helpers/timing.js';
import { OP } from '../helpers/wire-frames.js';

guardProcess();

const certPath = fileURLToPath(new URL('../../../test/fixtures/test-only-localhost.cert.pem', import.meta.url));
const keyPath = fileURLToPath(new URL('../../../test/fixtures/test-only-localhost.key.pem', import.meta.url));

describe('CLI over HTTP/2', { timeout: 60_000 }, () => {
  test('serve --http2: the page and WebSockets over HTTP/2 and HTTP/1.1 on one port; each connection logged with h2 or h1', async (t) => {
    const server = runCli(t, ['serve', '--port', '0', '--tls-cert', certPath, '--tls-key', keyPath, '--http2']);
    const [, port] = await server.waitForLine(/^listening on wss:\/\/127\.0\.0\.1:(\d+)$/, 10_000);
    const session = await openHttp2Session(Number(port));
    t.after(() => session.destroy());

    const page = Http2RawPeer.open(session, { ':method': 'GET', ':path': '/' });
    assert.equal((await page.responseHeaders())[':status'], 200, 'the demo page over HTTP/2');
    assert.match(await page.refusalBody(), /<title>wsforge demo<\/title>/);

    // An independent HTTP/2 peer: the extended CONNECT and a hand-made frame.
    const raw = Http2RawPeer.open(session, extendedConnect('/'));
    assert.equal((await raw.responseHeaders())[':status'], 200);
    await server.waitForLine(/^connection 1 from 127\.0\.0\.1 path \/ over h2$/);
    raw.sendText('raw h2');
    const frame = await raw.nextFrame();
    assert.deepEqual([frame.opcode, frame.payload.toString()], [OP.TEXT, 'raw h2']);

    const h2 = await connect(`wss://localhost:${port}/`, { http2: true, tls: { ca: TEST_CERT } });
    await server.waitForLine(/^connection 2 from 127\.0\.0\.1 path \/ over h2$/);
    const h1 = await connect(`wss://localhost:${port}/`, { tls: { ca: TEST_CERT } });
    await server.waitForLine(/^connection 3 from 127\.0\.0\.1 path \/ over h1$/);
    for (const ws of [h2, h1]) {
      const echoed = nextEvent<[string, boolean]>(ws, 'message', 5000);
      ws.send('echo ✓');
      assert.deepEqual(await echoed, ['echo ✓', false]);
    }
    const closed = nextEvent<[number, string]>(h2, 'close', 5000);
    h2.close(4000, 'h2 done');
    assert.deepEqual(await closed, [4000, 'h2 done']);
    await server.waitForLine(/^close 2 4000 "h2 done"$/);
    h1.terminate();
    server.child.kill('SIGTERM');
    assert.equal(await server.exited(10_000), 0);
  });

  test('connect --http2 --insecure --echo: the WebSocket is an HTTP/2 stream; exit 0 on a normal close', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    const { port } = await wss.listen({ tls: { cert: TEST_CERT, key: TEST_KEY }, http2: true });
    const got: Array<[string, string]> = [];
    wss.on('connection', (peer, request) => {
      peer.on('message', (data) => {
        got.push([request.transport, String(data)]);
        peer.close(1000);
      });
      peer.send('echo me');
    });
    const client = runCli(t, ['connect', `wss://127.0.0.1:${port}/`, '--http2', '--insecure', '--echo']);
    assert.equal(await client.exited(10_000), 0, client.stderr());
    assert.deepEqual(got, [['h2', 'echo me']]);
  });

  test('usage: serve --http2 without TLS exits 2; connect --http2 to ws:// exits 1 saying wss:// is needed', async (t) => {
    const serve = runCli(t, ['serve', '--port', '0', '--http2']);
    assert.equal(await serve.exited(10_000), 2);
    assert.match(serve.stderr(), /--http2 needs --tls-cert and --tls-key/);
    const client = runCli(t, ['connect', 'ws://127.0.0.1:9/', '--http2']);
    assert.equal(await client.exited(10_000), 1);
    assert.match(client.stderr(), /http2: true needs a wss:\/\/ URL/);
  });
});
