// Interop with a real browser: headless Chromium (Debian's /usr/bin/chromium) via
// playwright-core. First the CLI's demo page against `wsforge serve`, driven through its
// controls; then a WebSocket opened directly in a page against an in-process wsforge server.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
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

/** Failed requests (a 404 favicon...) and console errors of a page, collected as they happen. */
function watchPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  page.on('requestfailed', (request) => {
    // Leaving a page aborts its event stream: not a failure of the page.
    if (!request.url().endsWith('/_wsforge/clients')) problems.push(`request failed: ${request.url()}`);
  });
  return problems;
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

  test('demo page: negotiated subprotocol and extensions, round-trip times, counters, binary from hex and from a file, clear, editable URL; no failed request or console error', async (t) => {
    const chromium = await browser();
    const server = await startCliServer(['--deflate', '--subprotocol', 'chat.v1']);
    t.after(() => server.peer.stop());
    const page = await chromium.newPage();
    t.after(() => page.close().catch(() => {}));
    const problems = watchPageProblems(page);
    await page.setViewportSize({ width: 1000, height: 900 });

    await page.goto(server.httpUrl);
    await page.waitForFunction(`document.getElementById('status').textContent === 'open'`, null, { timeout: 10_000 });
    assert.equal(await page.inputValue('#url'), server.wsUrl);
    assert.equal(await page.textContent('#negotiated-protocol'), 'chat.v1');
    // Chromium offers permessage-deflate; `serve --deflate` answers with both no_context_takeover parameters.
    assert.match((await page.textContent('#negotiated-extensions')) ?? '', /^permessage-deflate; server_no_context_takeover; client_no_context_takeover$/);
    await page.waitForFunction(`document.getElementById('clients').textContent === '1'`, null, { timeout: 5000 });

    await page.fill('#message', '{"hello":"chromium","n":[1,2,3]}');
    await page.click('#send');
    await waitForLogLine(page, '< text: {"hello":"chromium","n":[1,2,3]}');
    const echo = page.locator('#log li.in').last();
    assert.match((await echo.locator('.rtt').textContent()) ?? '', /^\d+\.\d{1,2} ms$/, 'the echo shows its round-trip time');
    assert.match((await echo.locator('.time').textContent()) ?? '', /^\d\d:\d\d:\d\d\.\d{3}$/, 'a timestamp');
    assert.match((await page.textContent('#rtt-last')) ?? '', /^\d+\.\d{1,2} ms$/);

    await page.fill('#message', 'de ad BE ef 00');
    await page.click('#send-hex');
    await waitForLogLine(page, '> binary (5 bytes): de ad be ef 00');
    await waitForLogLine(page, '< binary (5 bytes): de ad be ef 00');
    await page.fill('#message', 'not hex');
    await page.click('#send-hex');
    await waitForLogLine(page, 'not hex bytes: "not hex" (pairs of 0-9 a-f, spaces allowed)');

    await page.setInputFiles('#file', { name: 'bytes.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([1, 2, 3, 254, 255]) });
    await waitForLogLine(page, 'file bytes.bin (5 bytes)');
    await waitForLogLine(page, '< binary (5 bytes): 01 02 03 fe ff');

    // Counters: three messages each way (the invalid hex was not sent); bytes counted as UTF-8.
    const text = '{"hello":"chromium","n":[1,2,3]}';
    await page.waitForFunction(`document.getElementById('count-received').textContent === '3'`, null, { timeout: 5000 });
    assert.equal(await page.textContent('#count-sent'), '3');
    assert.equal(await page.textContent('#bytes-sent'), String(text.length + 5 + 5));
    assert.equal(await page.textContent('#bytes-received'), String(text.length + 5 + 5));
    await page.screenshot({ path: screenshotPath('chromium-demo-features.png'), fullPage: true });

    await page.click('#clear');
    assert.equal(await page.locator('#log li').count(), 0, 'clear empties the log');
    assert.equal(await page.textContent('#count-sent'), '3', 'the counters count the whole session');

    // The URL is editable: close, then connect to another path of the same server.
    await page.click('#close');
    await waitForLogLine(page, /^closed: code 1000/);
    await page.fill('#url', `${server.wsUrl}other/path?q=1`);
    await page.click('#connect');
    // The log was cleared: this is the new connection's line.
    await waitForLogLine(page, 'connected');
    await server.peer.waitForLine(/^connection 2 from 127\.0\.0\.1 path \/other\/path over h1 protocol chat\.v1 extensions permessage-deflate/, 5000, 'the second connection, at /other/path');
    assert.deepEqual(problems, [], 'no failed request (favicon included) and no console error');
  });

  test('demo page in broadcast mode: two pages show 2 clients, see each other\'s messages, and 1 client once one leaves', async (t) => {
    const chromium = await browser();
    const server = await startCliServer(['--mode', 'broadcast']);
    t.after(() => server.peer.stop());
    const first = await chromium.newPage();
    t.after(() => first.close().catch(() => {}));
    const second = await chromium.newPage();
    t.after(() => second.close().catch(() => {}));
    const problems = [...watchPageProblems(first), ...watchPageProblems(second)];
    for (const page of [first, second]) {
      await page.goto(server.httpUrl);
      await page.waitForFunction(`document.getElementById('status').textContent === 'open'`, null, { timeout: 10_000 });
    }
    assert.equal(await first.textContent('#mode'), 'broadcast');
    for (const page of [first, second]) {
      await page.waitForFunction(`document.getElementById('clients').textContent === '2'`, null, { timeout: 5000 });
      assert.equal(await page.textContent('#clients-label'), 'clients connected');
    }
    await first.fill('#message', 'to everyone');
    await first.click('#send');
    await waitForLogLine(second, '< text: to everyone');
    await waitForLogLine(first, '< text: to everyone');
    assert.equal(await second.locator('#log li.in .rtt').last().textContent(), '', 'no round trip for a message the page did not send');
    assert.match((await first.locator('#log li.in .rtt').last().textContent()) ?? '', /^\d+\.\d{1,2} ms$/);
    await second.fill('#message', 'reply from the second page');
    await second.click('#send');
    await waitForLogLine(first, '< text: reply from the second page');
    await first.screenshot({ path: screenshotPath('chromium-demo-broadcast.png'), fullPage: true });
    await second.close();
    await first.waitForFunction(`document.getElementById('clients').textContent === '1'`, null, { timeout: 5000 });
    assert.equal(await first.textContent('#clients-label'), 'client connected');
    assert.deepEqual(problems, [], 'no failed request and no console error');
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
