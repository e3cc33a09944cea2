// Interop with a real browser over HTTP/2 (RFC 8441): headless Chromium (Debian's
// /usr/bin/chromium, via playwright-core) loads a page over HTTPS/HTTP/2 with the test-only
// certificate, and opens its WebSocket as a stream of that HTTP/2 connection once the server has
// advertised SETTINGS_ENABLE_CONNECT_PROTOCOL. The server side asserts that each connection came
// as an HTTP/2 stream. With and without permessage-deflate.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { TEST_CERT, TEST_KEY } from '../helpers/http2-peer.js';
import { echoOrStream, startWsforgeServer } from './connection-recorders.js';
import {
  demoHex,
  launchChromium,
  runPageScenario,
  screenshotPath,
  startCliServer,
  streamedTextChunks,
  waitForLogLine,
  type ChromiumSession,
} from './chromium-peer.js';
import { repoRoot } from './peer-process.js';

let session: ChromiumSession | null = null;
let launching: Promise<ChromiumSession> | null = null;
/** One browser for the file, trusting the test certificate (a missing Chromium fails the test that needs it). */
function browser(): Promise<ChromiumSession> {
  launching ??= launchChromium({ trust: [TEST_CERT] }).then((s) => (session = s));
  return launching;
}

const certPath = `${repoRoot}/test/fixtures/test-only-localhost.cert.pem`;
const keyPath = `${repoRoot}/test/fixtures/test-only-localhost.key.pem`;

/** The protocol the page itself came over ('h2' for HTTP/2). */
function pageProtocol(page: Page): Promise<string> {
  return page.evaluate('performance.getEntriesByType("navigation")[0].nextHopProtocol') as Promise<string>;
}

describe('Chromium <-> wsforge over HTTP/2 (RFC 8441)', () => {
  after(async () => {
    await session?.close();
  });

  for (const deflate of [false, true]) {
    test(`demo page of \`wsforge serve --http2\`${deflate ? ' --deflate' : ''} over HTTPS/HTTP/2: its WebSocket is an HTTP/2 stream; echo, close 4000`, async (t) => {
      const chromium = await browser();
      const server = await startCliServer(['--tls-cert', certPath, '--tls-key', keyPath, '--http2', ...(deflate ? ['--deflate'] : [])]);
      t.after(() => server.peer.stop());
      assert.match(server.httpUrl, /^https:/);
      const page = await chromium.newPage();
      t.after(() => page.close().catch(() => {}));

      await page.goto(server.httpUrl);
      assert.equal(await pageProtocol(page), 'h2', 'the page came over HTTP/2');
      await page.waitForFunction(() => (globalThis as { document?: { getElementById(id: string): { textContent: string | null } | null } }).document?.getElementById('status')?.textContent === 'open', null, { timeout: 10_000 });
      // The server says how the WebSocket came: `over h2` is an extended CONNECT stream.
      const connection = await server.peer.waitForLine(/^connection \d+ from /, 5000, 'the "connection N from" log line');
      const extensions = deflate ? ' extensions permessage-deflate; server_no_context_takeover; client_no_context_takeover' : '';
      assert.match(connection, new RegExp(`^connection \\d+ from 127\\.0\\.0\\.1 path / over h2${extensions.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      const id = /^connection (\d+) /.exec(connection)![1];

      const text = `hello over h2${deflate ? ' compressed' : ''} ✓`;
      await page.fill('#message', text);
      await page.click('#send');
      await waitForLogLine(page, `< text: ${text}`);
      const bytes = Buffer.from('bin h2 ✓', 'utf8');
      await page.fill('#message', 'bin h2 ✓');
      await page.click('#send-binary');
      await waitForLogLine(page, `< binary (${bytes.length} bytes): ${demoHex(bytes)}`);

      const reason = 'bye over h2';
      await page.fill('#close-code', '4000');
      await page.fill('#close-reason', reason);
      await page.click('#close');
      const closedLine = await waitForLogLine(page, /^closed: /);
      await page.screenshot({ path: screenshotPath(`chromium-http2${deflate ? '-deflate' : ''}.png`), fullPage: true });
      await server.peer.waitForLine((line) => line === `close ${id} 4000 ${JSON.stringify(reason)}`, 5000, `the server log line close ${id} 4000`);
      assert.equal(closedLine, `closed: code 4000, reason "${reason}" (clean)`);
    });
  }

  for (const perMessageDeflate of [false, true]) {
    test(`direct WebSocket in an HTTPS/HTTP/2 page${perMessageDeflate ? ' with permessage-deflate' : ''}: 1 MiB binary, ~1 Mi-character text, fragmented text from the server, all as an HTTP/2 stream`, async (t) => {
      const chromium = await browser();
      const { text: streamed, chunks } = streamedTextChunks();
      const server = await startWsforgeServer({ observeFrames: true, perMessageDeflate }, echoOrStream(chunks), { http2: { cert: TEST_CERT, key: TEST_KEY } });
      t.after(() => server.close());
      const page = await chromium.newPage();
      t.after(() => page.close().catch(() => {}));
      await page.goto(server.httpUrl);
      assert.equal(await pageProtocol(page), 'h2');

      const result = await runPageScenario(page, { url: `${server.url}direct`, requestStream: true });
      assert.equal(result.error, null, `the page reported: ${result.error}`);
      assert.equal(result.extensions, perMessageDeflate ? 'permessage-deflate; server_no_context_takeover; client_no_context_takeover' : '');
      assert.deepEqual(result.binary, { length: 1 << 20, same: true }, '1 MiB binary echo');
      assert.equal(result.largeText?.same, true, `large text echo (${result.largeText?.length} chars)`);
      assert.deepEqual(result.smallText, { same: true });
      assert.ok(result.streamedText === streamed, 'the fragmented text arrived whole and equal');
      assert.deepEqual(result.close && { code: result.close.code, wasClean: result.close.wasClean }, { code: 1000, wasClean: true });

      const { request, recorder: seen } = await server.connectionAt('/direct');
      assert.equal(request.transport, 'h2', 'the WebSocket came as an HTTP/2 extended CONNECT stream');
      assert.equal(request.method, 'CONNECT');
      assert.deepEqual(await seen.waitForClose(), { code: 1000, reason: 'done' });
      const sizes = seen.messages.history.map((m) => [m.isBinary, m.data.length]);
      assert.deepEqual(sizes[0], [true, 1 << 20], 'the server got the 1 MiB binary');
      // Chromium compresses what it sends once permessage-deflate is agreed (RSV1 on the first frame).
      const compressed = seen.frames.some((frame) => frame.rsv1);
      assert.equal(compressed, perMessageDeflate, `frames from Chromium with RSV1: ${compressed}`);
    });
  }
});
