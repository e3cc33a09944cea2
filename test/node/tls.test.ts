/**
 * wss:// end to end over real TLS on loopback: the server's listen({ tls }) and attach(https),
 * the client's connect('wss://...') with certificate checking, and the CLI's --tls-cert/--tls-key.
 * The certificate is a test-only self-signed one for localhost / 127.0.0.1 (test/fixtures).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, WebSocketServer, type WebSocket } from '../../src/index.js';
import { runCli } from '../helpers/cli-process.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';

guardProcess();

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)));
const cert = fixture('test-only-localhost.cert.pem');
const key = fixture('test-only-localhost.key.pem');

function echo(wss: WebSocketServer): void {
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
}

async function roundTrip(ws: WebSocket): Promise<void> {
  const received: Array<[string | Buffer, boolean]> = [];
  ws.on('message', (data, isBinary) => received.push([data, isBinary]));
  ws.send('over TLS ✓');
  ws.send(Buffer.from([0, 1, 2, 255]));
  ws.send('x'.repeat(200_000));
  await waitUntil(() => received.length === 3, 5000, 'three echoes');
  assert.deepEqual(received[0], ['over TLS ✓', false]);
  assert.deepEqual(received[1], [Buffer.from([0, 1, 2, 255]), true]);
  assert.equal((received[2]![0] as string).length, 200_000);
  const closed = nextEvent<[number, string]>(ws, 'close', 5000);
  ws.close(4000, 'done');
  assert.deepEqual(await closed, [4000, 'done']);
  assert.equal(ws.wasClean, true);
}

describe('wss:// (TLS)', () => {
  test('RFC 6455 §3: listen({ tls }) serves wss://; connect() checks the certificate against the given CA', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    echo(wss);
    const { port } = await wss.listen({ port: 0, host: '127.0.0.1', tls: { cert, key } });
    const ws = await connect(`wss://127.0.0.1:${port}/`, { tls: { ca: cert } });
    assert.equal(ws.url, `wss://127.0.0.1:${port}/`);
    await roundTrip(ws);
  });

  test('wss:// to "localhost" sends SNI and verifies the host name', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    echo(wss);
    const { port } = await wss.listen({ port: 0, host: '127.0.0.1', tls: { cert, key } });
    await roundTrip(await connect(`wss://localhost:${port}/`, { tls: { ca: cert } }));
  });

  test('attach(https.Server): wss:// upgrades while HTTPS requests stay with the server', async (t) => {
    const https = createHttpsServer({ cert, key }, (_req, res) => res.end('plain https'));
    const wss = new WebSocketServer().attach(https);
    t.after(async () => {
      await wss.close();
      https.closeAllConnections();
      await new Promise((resolve) => https.close(resolve));
    });
    echo(wss);
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const { port } = https.address() as AddressInfo;
    const page = await withTimeout(
      fetchInsecure(`https://127.0.0.1:${port}/`),
      5000,
      'an HTTPS response',
    );
    assert.equal(page, 'plain https');
    await roundTrip(await connect(`wss://127.0.0.1:${port}/`, { tls: { ca: cert } }));
  });

  test('a certificate the client does not trust fails the connection with WSF_ERR_HANDSHAKE_CONNECTION', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    const { port } = await wss.listen({ port: 0, host: '127.0.0.1', tls: { cert, key } });
    await assert.rejects(connect(`wss://127.0.0.1:${port}/`), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'WSF_ERR_HANDSHAKE_CONNECTION');
      assert.match(error.message, /certificate/i);
      return true;
    });
    // rejectUnauthorized: false accepts it (what `wsforge connect --insecure` does).
    const ws = await connect(`wss://127.0.0.1:${port}/`, { tls: { rejectUnauthorized: false } });
    const closed = nextEvent<[number, string]>(ws, 'close', 5000);
    ws.close(1000);
    assert.equal((await closed)[0], 1000);
  });

  test('CLI: serve --tls-cert/--tls-key prints listening on wss://, serves the page over HTTPS, and connect --insecure --echo works', async (t) => {
    const certPath = fileURLToPath(new URL('../../../test/fixtures/test-only-localhost.cert.pem', import.meta.url));
    const keyPath = fileURLToPath(new URL('../../../test/fixtures/test-only-localhost.key.pem', import.meta.url));
    const server = runCli(t, ['serve', '--port', '0', '--tls-cert', certPath, '--tls-key', keyPath]);
    const [, port] = await server.waitForLine(/^listening on wss:\/\/127\.0\.0\.1:(\d+)$/, 10_000);
    const page = await withTimeout(fetchInsecure(`https://127.0.0.1:${port}/`), 5000, 'the demo page');
    assert.match(page, /<title>wsforge demo<\/title>/);
    const ws = await connect(`wss://127.0.0.1:${port}/`, { tls: { ca: cert } });
    const echoed = nextEvent<[string | Buffer, boolean]>(ws, 'message', 5000);
    ws.send('hello over wss');
    assert.deepEqual(await echoed, ['hello over wss', false]);
    ws.close(1000);
    await nextEvent(ws, 'close', 5000);

    // The CLI client against a test server that says one thing and closes normally.
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    const { port: testPort } = await wss.listen({ port: 0, host: '127.0.0.1', tls: { cert, key } });
    const got: Array<string | Buffer> = [];
    wss.on('connection', (peer) => {
      peer.on('message', (data) => {
        got.push(data);
        peer.close(1000);
      });
      peer.send('echo me');
    });
    const client = runCli(t, ['connect', `wss://127.0.0.1:${testPort}/`, '--insecure', '--echo']);
    assert.equal(await client.exited(10_000), 0);
    assert.deepEqual(got, ['echo me']);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited(10_000), 0);
  });
});

/** GET over HTTPS without checking the certificate (for the server's plain HTTPS side). */
async function fetchInsecure(url: string): Promise<string> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}
