// Interop with a real browser: headless Chromium (Debian's /usr/bin/chromium) via
// playwright-core. First the CLI's demo page against `wsforge serve`, driven through its
// controls; then a WebSocket opened directly in a page against an in-process wsforge server.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
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

let session: ChromiumSession | null = null;
let launching: Promise<ChromiumSession> | null = null;
/** One browser for the file, launched by the first test that needs it (a missing Chromium fails that test). */
function browser(): Promise<ChromiumSession> {
  launching ??= launchChromium().then((s) => (session = s));
  return launching;
}

describe('Chromium <-> wsforge', () => {
  after(async () => {
    await session?.close();
  });

  test('demo page of `wsforge serve`: text and binary echo, close 4000 with a reason seen by page and server', async (t) => {
    const chromium = await browser();
    const server = await startCliServer();
    t.after(() => server.peer.stop());
    const page = await chromium.newPage();
    t.after(() => page.close().catch(() => {}));

    await page.goto(server.httpUrl);
    await page.waitForFunction(() => (globalThis as { document?: { getElementById(id: string): { textContent: string | null } | null } }).document?.getElementById('status')?.textContent === 'open', null, { timeout: 10_000 });
    const connection = await server.peer.waitForLine(/^connection \d+ from /, 5000, 'the "connection N from" log line');
    const id = /^connection (\d+) /.exec(connection)![1];

    const text = 'hello from chromium ✓';
    await page.fill('#message', text);
    await page.click('#send');
    await waitForLogLine(page, `> text: ${text}`);
    await waitForLogLine(page, `< text: ${text}`);

    const binaryText = 'bin ✓';
    const bytes = Buffer.from(binaryText, 'utf8');
    await page.fill('#message', binaryText);
    await page.click('#send-binary');
    await waitForLogLine(page, `> binary (${bytes.length} bytes): ${demoHex(bytes)}`);
    await waitForLogLine(page, `< binary (${bytes.length} bytes): ${demoHex(bytes)}`);

    const reason = 'bye from chromium ✓';
    await page.fill('#close-code', '4000');
    await page.fill('#close-reason', reason);
    await page.click('#close');
    // The page shows the code and reason of the close frame the server answered with.
    const closedLine = await waitForLogLine(page, /^closed: /);
    await page.screenshot({ path: screenshotPath('chromium-demo.png'), fullPage: true });
    await server.peer.waitForLine(
      (line) => line === `close ${id} 4000 ${JSON.stringify(reason)}`,
      5000,
      `the server log line close ${id} 4000 ${JSON.stringify(reason)}`,
    );
    assert.equal(closedLine, `closed: code 4000, reason "${reason}" (clean)`);
    assert.equal(await page.textContent('#status'), 'closed');
  });

  test('direct WebSocket in the page: 1 MiB binary echo, ~1 Mi-character text echo, fragmented text from the server', async (t) => {
    const chromium = await browser();
    const { text: streamed, chunks } = streamedTextChunks();
    const server = await startWsforgeServer(
      { observeFrames: true },
      echoOrStream(chunks),
      { http: true },
    );
    t.after(() => server.close());
    const page = await chromium.newPage();
    t.after(() => page.close().catch(() => {}));
    await page.goto(server.httpUrl);

    const result = await runPageScenario(page, { url: `${server.url}direct`, requestStream: true });
    assert.equal(result.error, null, `the page reported: ${result.error}`);
    assert.deepEqual(result.binary, { length: 1 << 20, same: true }, '1 MiB binary echo');
    assert.equal(result.largeText?.same, true, `large text echo (${result.largeText?.length} chars)`);
    assert.deepEqual(result.smallText, { same: true });
    assert.equal(result.streamedText?.length, streamed.length, 'streamed text length');
    assert.ok(result.streamedText === streamed, 'the fragmented text arrived whole and equal');
    // The page's close event shows the server's answering close frame, which echoes code and reason (RFC 6455 §5.5.1).
    assert.deepEqual(result.close, { code: 1000, reason: 'done', wasClean: true }, 'close event in the page');

    const { recorder: seen } = await server.connectionAt('/direct');
    assert.deepEqual(await seen.waitForClose(), { code: 1000, reason: 'done' });
    const sizes = seen.messages.history.map((m) => [m.isBinary, m.data.length]);
    assert.deepEqual(sizes[0], [true, 1 << 20], 'the server got the 1 MiB binary');
    assert.equal(sizes[1]![0], false, 'then the large text');
  });
});
