/**
 * `wsforge serve --static DIR` through a real child process and raw HTTP requests (the paths go
 * on the wire exactly as written, `..` and `%2e%2e` included): files with their Content-Type,
 * HEAD, directories, traversal refused with 403, 404 otherwise, and the WebSocket endpoint and
 * demo page still there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { connect } from '../../src/index.js';
import { runCli } from '../helpers/cli-process.js';
import { guardProcess } from '../helpers/process-guard.js';
import { exchange, headerValue, type HttpExchange } from '../helpers/raw-peer.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';

guardProcess();

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** DIR with a site in `site/`, and a secret beside it (outside DIR) that must never be served. */
function makeSite(t: TestContext, withIndex: boolean): string {
  const base = mkdtempSync(join(tmpdir(), 'wsforge-static-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const site = join(base, 'site');
  mkdirSync(join(site, 'sub'), { recursive: true });
  if (withIndex) writeFileSync(join(site, 'index.html'), '<!doctype html><title>my site</title>');
  writeFileSync(join(site, 'style.css'), 'body { color: red }');
  writeFileSync(join(site, 'app.js'), 'console.log(1)');
  writeFileSync(join(site, 'data.json'), '{"ok":true}');
  writeFileSync(join(site, 'image.png'), PNG);
  writeFileSync(join(site, 'blob.xyz'), 'bytes');
  writeFileSync(join(site, '.env'), 'SECRET=1');
  writeFileSync(join(site, 'sub', 'index.html'), '<p>sub index</p>');
  writeFileSync(join(site, 'sub', 'notes.txt'), 'notes');
  writeFileSync(join(base, 'secret.txt'), 'outside DIR');
  symlinkSync(join(base, 'secret.txt'), join(site, 'link-out.txt'));
  symlinkSync(join(site, 'sub', 'notes.txt'), join(site, 'link-in.txt'));
  return site;
}

async function serveStatic(t: TestContext, dir: string): Promise<number> {
  const cli = runCli(t, ['serve', '--port', '0', '--quiet', '--static', dir]);
  return Number((await cli.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)$/))[1]);
}

function request(port: number, method: string, target: string): Promise<HttpExchange> {
  return exchange(port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
}

describe('wsforge serve --static DIR', () => {
  test('files get their Content-Type and exact bytes; HEAD gives the headers only', async (t) => {
    const port = await serveStatic(t, makeSite(t, true));
    const cases: Array<[string, string, string]> = [
      ['/style.css', 'text/css; charset=utf-8', 'body { color: red }'],
      ['/app.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
      ['/data.json', 'application/json; charset=utf-8', '{"ok":true}'],
      ['/sub/notes.txt', 'text/plain; charset=utf-8', 'notes'],
      ['/blob.xyz', 'application/octet-stream', 'bytes'],
      ['/link-in.txt', 'text/plain; charset=utf-8', 'notes'],
      ['/style.css?v=2', 'text/css; charset=utf-8', 'body { color: red }'],
    ];
    for (const [path, type, body] of cases) {
      const { head, body: got } = await request(port, 'GET', path);
      assert.equal(head.status, 200, path);
      assert.equal(headerValue(head, 'content-type'), type, path);
      assert.equal(headerValue(head, 'x-content-type-options'), 'nosniff', path);
      assert.equal(got, body, path);
    }
    const png = await request(port, 'GET', '/image.png');
    assert.equal(headerValue(png.head, 'content-type'), 'image/png');
    assert.equal(headerValue(png.head, 'content-length'), String(PNG.length));
    const head = await request(port, 'HEAD', '/style.css');
    assert.equal(head.head.status, 200);
    assert.equal(headerValue(head.head, 'content-length'), String('body { color: red }'.length));
    assert.equal(head.body, '');
  });

  test('DIR/index.html takes /; the demo page stays at /_wsforge/; directories redirect to their slash and serve their index.html', async (t) => {
    const port = await serveStatic(t, makeSite(t, true));
    const root = await request(port, 'GET', '/');
    assert.equal(root.head.status, 200);
    assert.equal(root.body, '<!doctype html><title>my site</title>');
    const demo = await request(port, 'GET', '/_wsforge/');
    assert.equal(demo.head.status, 200);
    assert.match(demo.body, /<title>wsforge demo<\/title>/);
    const sub = await request(port, 'GET', '/sub');
    assert.equal(sub.head.status, 301);
    assert.equal(headerValue(sub.head, 'location'), '/sub/');
    assert.equal((await request(port, 'GET', '/sub/')).body, '<p>sub index</p>');
    // Never a protocol-relative Location ("//evil.example/sub/" would leave the site).
    const slashes = await request(port, 'GET', '//sub');
    assert.equal(slashes.head.status, 301);
    assert.equal(headerValue(slashes.head, 'location'), '/sub/');
  });

  test('without DIR/index.html the demo page keeps /', async (t) => {
    const port = await serveStatic(t, makeSite(t, false));
    const root = await request(port, 'GET', '/');
    assert.equal(root.head.status, 200);
    assert.match(root.body, /<title>wsforge demo<\/title>/);
    assert.equal((await request(port, 'GET', '/style.css')).head.status, 200);
  });

  for (const target of [
    '/../secret.txt',
    '/sub/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/link-out.txt',
  ]) {
    test(`path traversal ${JSON.stringify(target)} → 403, nothing from outside DIR`, async (t) => {
      const port = await serveStatic(t, makeSite(t, true));
      const { head, body } = await request(port, 'GET', target);
      assert.equal(head.status, 403);
      assert.doesNotMatch(body, /outside DIR/);
    });
  }

  for (const [target, status] of [['/missing.html', 404], ['/.env', 404], ['/sub/missing/', 404], ['/%zz', 400], ['/a%00b', 400]] as const) {
    test(`${target} → ${status}`, async (t) => {
      const port = await serveStatic(t, makeSite(t, true));
      const { head, body } = await request(port, 'GET', target);
      assert.equal(head.status, status);
      assert.doesNotMatch(body, /SECRET/);
    });
  }

  test('POST → 405 with Allow: GET, HEAD', async (t) => {
    const port = await serveStatic(t, makeSite(t, true));
    const { head } = await request(port, 'POST', '/style.css');
    assert.equal(head.status, 405);
    assert.equal(headerValue(head, 'allow'), 'GET, HEAD');
  });

  test('the WebSocket endpoint keeps working beside the files (echo at / and at a file\'s path)', async (t) => {
    const port = await serveStatic(t, makeSite(t, true));
    for (const path of ['/', '/style.css']) {
      const ws = await connect(`ws://127.0.0.1:${port}${path}`);
      t.after(() => ws.terminate());
      const echoed = nextEvent<[string, boolean]>(ws, 'message', 3000);
      ws.send(`hello ${path}`);
      assert.deepEqual(await echoed, [`hello ${path}`, false]);
      ws.close(1000);
    }
  });

  test('--static with a missing directory → one stderr line, exit 1', async (t) => {
    const cli = runCli(t, ['serve', '--port', '0', '--static', '/nonexistent/site']);
    assert.equal(await withTimeout(cli.exited(), 5000, 'exit'), 1);
    assert.equal(cli.stderr(), 'wsforge: --static /nonexistent/site: ENOENT\n');
  });
});
