/**
 * `listen({ reusePort: true })`: several servers bind one port and the kernel spreads the
 * connections among them (SO_REUSEPORT, Node >= 22.12 on Linux). On an older Node the option
 * does not exist, so a second server on the same port fails with EADDRINUSE.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, WebSocketServer } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { withTimeout } from '../helpers/timing.js';

guardProcess();

/** Node 22.12+ (23.1+ on the odd line) on Linux reads `reusePort`. */
function supportsReusePort(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return process.platform === 'linux' && (major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));
}

test(`listen({ reusePort }) on Node ${process.versions.node}: ${supportsReusePort() ? 'two servers share one port' : 'a second server gets EADDRINUSE'}`, async (t) => {
  const first = new WebSocketServer({ handlers: { open: (ws) => ws.send('first') } });
  const second = new WebSocketServer({ handlers: { open: (ws) => ws.send('second') } });
  t.after(() => Promise.all([first.close(), second.close()]));
  const { port } = await first.listen({ port: 0, host: '127.0.0.1', reusePort: true });
  if (!supportsReusePort()) {
    await assert.rejects(second.listen({ port, host: '127.0.0.1', reusePort: true }), { code: 'EADDRINUSE' });
    return;
  }
  assert.equal((await second.listen({ port, host: '127.0.0.1', reusePort: true })).port, port);
  // The kernel picks a listener by a hash of the connection's addresses and ports: 40
  // connections all landing on one of two sockets has odds of 2^-39.
  const seen = new Map<string, number>();
  for (let i = 0; i < 40; i++) {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const greeting = await withTimeout(new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data)))), 5000, 'the greeting');
    seen.set(greeting, (seen.get(greeting) ?? 0) + 1);
    ws.terminate();
  }
  assert.deepEqual([...seen.keys()].sort(), ['first', 'second'], `connections per server: ${JSON.stringify([...seen])}`);
});
