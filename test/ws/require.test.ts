/**
 * `require('wsforge/ws')` from a real CommonJS file gives what `require('ws')` gives: the
 * WebSocket class with `.WebSocket`, `.WebSocketServer`, `.Server`, `.createWebSocketStream`
 * and the ready-state constants (Node's require() of an ES module, Node >= 20.19 / 22.12).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe("require('wsforge/ws')", () => {
  test('API: a .cjs program written for ws (server and client) runs with only its require() changed', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['test/ws/require-ws.cjs'], { cwd: ROOT, timeout: 10_000 }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`require-ws.cjs failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    assert.deepEqual(JSON.parse(output.trim()), {
      isClass: true,
      selfReference: true,
      server: true,
      stream: true,
      constants: [0, 1, 2, 3],
      echo: 'ping from cjs',
      isBinary: false,
      clientEcho: 'from the wsforge client',
    });
  });
});
