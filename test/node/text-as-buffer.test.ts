/**
 * `textAsBuffer: true`: text messages are delivered as the Buffer of their UTF-8 bytes (as ws
 * gives them), still validated (fail-fast, RFC 6455 §8.1), single-frame, fragmented and
 * compressed alike, to handlers and listeners.
 */
import assert from 'node:assert/strict';
import { deflateRawSync, constants as zlib } from 'node:zlib';
import { describe, test } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw } from '../helpers/raw-peer.js';
import { startServer } from '../helpers/server-fixture.js';
import { waitUntil } from '../helpers/timing.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';

guardProcess();

/** RFC 7692 §7.2.1: a message compressed with a sync flush, minus the trailing 00 00 ff ff. */
function compressed(text: string): Buffer {
  const raw = deflateRawSync(Buffer.from(text), { finishFlush: zlib.Z_SYNC_FLUSH });
  return raw.subarray(0, raw.length - 4);
}

describe('textAsBuffer', () => {
  test('API: single-frame, fragmented and compressed text arrive as Buffers of their bytes, to the handler and to listeners; echoed as text', async (t) => {
    const seen: Array<[string, boolean, boolean]> = [];
    const server = await startServer({
      textAsBuffer: true,
      perMessageDeflate: true,
      handlers: {
        message(ws, data, isBinary) {
          seen.push(['handler', Buffer.isBuffer(data), isBinary]);
          ws.send(data, { binary: isBinary });
        },
      },
    });
    t.after(() => server.stop());
    const listened: Array<string | Buffer> = [];
    server.wss.on('connection', (ws) => ws.on('message', (data) => listened.push(data)));
    const { peer } = await openRaw(server.port, { extra: ['Sec-WebSocket-Extensions: permessage-deflate'] });
    t.after(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'héllo ✓' }));
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'frag', fin: false }));
    peer.write(clientFrame({ opcode: OP.CONTINUATION, payload: 'mented 𝄞' }));
    peer.write(clientFrame({ opcode: OP.TEXT, payload: compressed('compressed ✓ '.repeat(200)), rsv1: true }));
    const echoes = [await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame()];
    await waitUntil(() => listened.length === 3, 2000, 'three messages to the listener');
    assert.deepEqual(seen, [
      ['handler', true, false],
      ['handler', true, false],
      ['handler', true, false],
    ]);
    assert.deepEqual(
      listened.map((data) => [Buffer.isBuffer(data), data.toString()]),
      [
        [true, 'héllo ✓'],
        [true, 'fragmented 𝄞'],
        [true, 'compressed ✓ '.repeat(200)],
      ],
    );
    assert.deepEqual(
      echoes.map((f) => f.opcode),
      [OP.TEXT, OP.TEXT, OP.TEXT],
    );
    assert.equal(echoes[0]!.payload.toString(), 'héllo ✓');
  });

  test('RFC 6455 §8.1: invalid UTF-8 is still refused with 1007, as soon as it arrives', async (t) => {
    const server = await startServer({ textAsBuffer: true });
    t.after(() => server.stop());
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0x61, 0xc0, 0xaf]), fin: false }));
    assert.equal((await peer.nextClose(2000)).code, 1007);
  });
});
