// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, and the wsforge
// CLI server (`node dist/cli/main.js serve`) it talks to. Chromium gets a fresh profile in a
// temp dir; both processes are stopped by the handles that started them.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { withTimeout } from '../helpers/timing.js';
import { loadPlaywright } from './npm-peers.js';
import { PeerProcess, repoRoot, requirePath } from './peer-process.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const artifactsDir = join(repoRoot, 'test-artifacts');

export interface ChromiumSession {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Chromium's flag that trusts a certificate by the SHA-256 of its public key (SPKI), so a page
 * served with the test-only certificate is a secure context with no certificate error.
 */
export function trustCertificateFlag(certificatePem: Buffer): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`;
}

/**
 * Launch headless Chromium with a fresh --user-data-dir (playwright passes it for a persistent
 * context); `trust` adds certificates to accept (see trustCertificateFlag).
 */
export async function launchChromium(options: { trust?: readonly Buffer[] } = {}): Promise<ChromiumSession> {
  requirePath(CHROMIUM, 'Chromium', 'apt-get install -y chromium (Debian 12 package; the test drives /usr/bin/chromium)');
  const { chromium } = await loadPlaywright();
  const userDataDir = mkdtempSync(join(tmpdir(), 'wsforge-chromium-'));
  let context: BrowserContext;
  try {
    context = await withTimeout(
      chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_ARGS, ...(options.trust ?? []).map(trustCertificateFlag)],
        timeout: 30_000,
      }),
      35_000,
      'Chromium to start',
    );
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`cannot launch ${CHROMIUM}: ${(error as Error).message}. Is the chromium package installed (apt-get install -y chromium)?`);
  }
  let closed = false;
  return {
    context,
    newPage: async () => {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      return page;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await withTimeout(context.close(), 15_000, 'Chromium to close');
      } catch {
        // playwright owns the browser process; closing the context failed, so kill it by its handle
        context.browser()?.close().catch(() => {});
      }
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface CliServer {
  peer: PeerProcess;
  port: number;
  httpUrl: string;
  wsUrl: string;
}

/**
 * Start `wsforge serve --port 0 --mode echo [extra]` from dist/ and wait for "listening on
 * ws://127.0.0.1:PORT" (wss:// with --tls-cert; the URLs are then https:// and wss://).
 */
export async function startCliServer(extra: readonly string[] = []): Promise<CliServer> {
  const main = join(repoRoot, 'dist', 'cli', 'main.js');
  requirePath(main, 'the built wsforge CLI', 'npm run build');
  const peer = new PeerProcess(`wsforge serve ${extra.join(' ')}`.trim(), process.execPath, [
    main,
    'serve',
    '--port',
    '0',
    '--mode',
    'echo',
    ...extra,
  ]);
  let line: string;
  try {
    line = await peer.waitForLine(/^listening on wss?:\/\/127\.0\.0\.1:\d+$/, 10_000, '"listening on ws://127.0.0.1:PORT"');
  } catch (error) {
    await peer.stop();
    throw error;
  }
  const port = Number(/:(\d+)$/.exec(line)![1]);
  const tls = line.startsWith('listening on wss:');
  return { peer, port, httpUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/`, wsUrl: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/` };
}

/** The text of every #log item on the demo page. */
export function logLines(page: Page): Promise<string[]> {
  return page.locator('#log li').allTextContents();
}

/** Wait until the demo page's #log has a line equal to `text` (or matching it). */
export async function waitForLogLine(page: Page, text: string | RegExp, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const lines = await logLines(page);
    const found = lines.find((line) => (typeof text === 'string' ? line === text : text.test(line)));
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for the log line ${String(text)}; the log has:\n${lines.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function screenshotPath(name: string): string {
  if (!existsSync(artifactsDir)) mkdirSync(artifactsDir, { recursive: true });
  return join(artifactsDir, name);
}

/** Bytes as the demo page shows them: lowercase hex pairs separated by spaces. */
export function demoHex(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

export interface PageScenarioOptions {
  url: string;
  /** Ask the server for a fragmented text ("stream-text") and return what arrived. */
  requestStream: boolean;
}

export interface PageScenarioResult {
  protocol: string | null;
  extensions: string | null;
  binary: { length: number; same: boolean } | null;
  largeText: { length: number; same: boolean } | null;
  smallText: { same: boolean } | null;
  streamedText: string | null;
  close: { code: number; reason: string; wasClean: boolean } | null;
  error: string | null;
}

/**
 * Browser code (it runs in the page, so it is a string: the test build has no DOM types):
 * open a WebSocket to `url`, echo a 1 MiB binary and a ~1 Mi-character non-ASCII text
 * message and a short text, optionally receive a fragmented text, close with 1000 "done".
 */
const PAGE_SCENARIO = `async ({ url, requestStream }) => {
  const result = { protocol: null, extensions: null, binary: null, largeText: null, smallText: null, streamedText: null, close: null, error: null };
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const queue = [];
  const waiters = [];
  ws.onmessage = (event) => {
    const waiter = waiters.shift();
    if (waiter) waiter(event.data);
    else queue.push(event.data);
  };
  const next = () => new Promise((resolve, reject) => {
    if (queue.length > 0) return resolve(queue.shift());
    const timer = setTimeout(() => reject(new Error('no message within 10 s')), 10000);
    waiters.push((data) => { clearTimeout(timer); resolve(data); });
  });
  const closed = new Promise((resolve) => {
    ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
  });
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('error event before open'));
      setTimeout(() => reject(new Error('not open within 10 s')), 10000);
    });
    result.protocol = ws.protocol;
    result.extensions = ws.extensions;
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 255;
    ws.send(big);
    const echoed = new Uint8Array(await next());
    let same = echoed.length === big.length;
    for (let i = 0; same && i < big.length; i++) same = echoed[i] === big[i];
    result.binary = { length: echoed.length, same };
    const unit = 'wsforge \\u2713 \\u00fcn\\u00efc\\u00f6d\\u00e9 \\ud834\\udd1e {"k":[1,2,3],"ok":true} ';
    let text = '';
    while (text.length < (1 << 20)) text += unit;
    ws.send(text);
    const echoedText = await next();
    result.largeText = { length: typeof echoedText === 'string' ? echoedText.length : -1, same: echoedText === text };
    ws.send('short \\u2713');
    result.smallText = { same: (await next()) === 'short \\u2713' };
    if (requestStream) {
      ws.send('stream-text');
      const streamed = await next();
      result.streamedText = typeof streamed === 'string' ? streamed : '(not text)';
    }
    ws.close(1000, 'done');
  } catch (error) {
    result.error = String(error);
    try { ws.close(); } catch {}
  }
  result.close = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve(null), 10000))]);
  return result;
}`;

/** Run the direct-WebSocket scenario in `page` (bounded by its own timers and by `ms`). */
export async function runPageScenario(page: Page, options: PageScenarioOptions, ms = 45_000): Promise<PageScenarioResult> {
  const expression = `(${PAGE_SCENARIO})(${JSON.stringify(options)})`;
  return withTimeout(page.evaluate(expression) as Promise<PageScenarioResult>, ms, 'the in-page WebSocket scenario');
}

/** What the server sends as a fragmented text for "stream-text": non-ASCII, split inside characters. */
export function streamedTextChunks(): { text: string; chunks: Buffer[] } {
  const text = 'fragmenté ✓ 𝄞 日本語 '.repeat(20_000);
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  // 1001 bytes: not a multiple of any character's length, so chunk edges fall inside characters.
  for (let offset = 0; offset < bytes.length; offset += 1001) chunks.push(bytes.subarray(offset, offset + 1001));
  return { text, chunks };
}
