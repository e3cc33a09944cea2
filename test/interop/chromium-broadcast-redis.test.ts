// The demo page in broadcast mode across servers: two `wsforge serve --mode broadcast --redis URL`
// on different ports share one Redis; what is typed in a Chromium page served by the first shows up
// in a page served by the second, text and binary, and back.
import { test } from 'node:test';
import { startRedis } from '../redis/redis-server.js';
import { demoHex, launchChromium, screenshotPath, startCliServer, waitForLogLine } from './chromium-peer.js';

test('demo pages on two servers sharing a Redis: a broadcast typed in one page shows in the other', async (t) => {
  const redis = await startRedis(t);
  const first = await startCliServer(['--mode', 'broadcast', '--redis', redis.url]);
  t.after(() => first.peer.stop());
  const second = await startCliServer(['--mode', 'broadcast', '--redis', redis.url]);
  t.after(() => second.peer.stop());
  const chromium = await launchChromium();
  t.after(() => chromium.close());
  const pageA = await chromium.newPage();
  const pageB = await chromium.newPage();
  for (const [page, server] of [
    [pageA, first],
    [pageB, second],
  ] as const) {
    await page.goto(server.httpUrl);
    await page.waitForFunction(() => (globalThis as { document?: { getElementById(id: string): { textContent: string | null } | null } }).document?.getElementById('status')?.textContent === 'open', null, { timeout: 10_000 });
  }
  // The second server subscribes to the broadcast topic on Redis when its page connects: send until it arrives.
  let arrived = false;
  for (let i = 0; i < 30 && !arrived; i++) {
    await pageA.fill('#message', `hello from the first server ${i}`);
    await pageA.click('#send');
    arrived = await waitForLogLine(pageB, `< text: hello from the first server ${i}`, 300).then(
      () => true,
      () => false,
    );
  }
  if (!arrived) throw new Error('no broadcast from the first server reached the page of the second');
  const bytes = Buffer.from('bin ✓', 'utf8');
  await pageB.fill('#message', 'bin ✓');
  await pageB.click('#send-binary');
  await waitForLogLine(pageA, `< binary (${bytes.length} bytes): ${demoHex(bytes)}`);
  await waitForLogLine(pageB, `< binary (${bytes.length} bytes): ${demoHex(bytes)}`);
  await pageB.screenshot({ path: screenshotPath('chromium-broadcast-redis.png'), fullPage: true });
});
