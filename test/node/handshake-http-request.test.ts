/**
 * `HandshakeRequest.httpRequest`: the hooks see the node:http request of an upgrade that came
 * through `attach()` or `handleUpgrade()` (what a framework put on it, e.g. a parsed session),
 * and nothing in `listen()` mode, where wsforge parses the request itself.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import type { HandshakeRequest } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw } from '../helpers/raw-peer.js';
import { SERVER_MODES, startServer } from '../helpers/server-fixture.js';

guardProcess();

describe('HandshakeRequest.httpRequest', () => {
  for (const mode of SERVER_MODES) {
    test(`API (${mode}): onHandshake and handleProtocols get ${mode === 'listen' ? 'no http request' : "the 'upgrade' event's IncomingMessage"}`, async (t) => {
      const seen: Array<[string, IncomingMessage | undefined]> = [];
      const server = await startServer(
        {
          onHandshake: (request: HandshakeRequest) => {
            seen.push(['hook', request.httpRequest]);
            return { data: request.httpRequest?.url };
          },
          handleProtocols: (offered, request) => {
            seen.push(['protocols', request.httpRequest]);
            return offered[0];
          },
        },
        mode,
      );
      t.after(() => server.stop());
      const upgrades: IncomingMessage[] = [];
      server.http?.prependListener('upgrade', (request: IncomingMessage) => upgrades.push(request));
      const connection = new Promise<unknown>((resolve) => server.wss.once('connection', (ws) => resolve(ws.data)));
      const { peer } = await openRaw(server.port, { path: '/room?id=7', extra: ['Sec-WebSocket-Protocol: chat'] });
      t.after(() => peer.destroy());
      const data = await connection;
      assert.deepEqual(
        seen.map(([where]) => where),
        ['hook', 'protocols'],
      );
      if (mode === 'listen') {
        assert.deepEqual(seen, [
          ['hook', undefined],
          ['protocols', undefined],
        ]);
        assert.equal(data, undefined);
      } else {
        assert.equal(upgrades.length, 1);
        assert.equal(seen[0]![1], upgrades[0]);
        assert.equal(seen[1]![1], upgrades[0]);
        assert.equal(data, '/room?id=7');
      }
    });
  }
});
