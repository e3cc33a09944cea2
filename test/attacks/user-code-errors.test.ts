/**
 * User code that throws must cost the application that one message, never the peer's other
 * messages or its connection. The issue: a `message` listener that threw for one message lost the
 * other messages of the same TCP chunk, and depending on where the chunk ended the next one was
 * parsed mid-frame and the connection closed with 1002, blaming a peer that did nothing wrong
 * (DESIGN: "an exception in user code never becomes a close code that blames the peer").
 *
 * The server runs in its own process, whose message code throws for the text "throw"; the error
 * must reach the application again (its error handler, an 'error' listener, or the process's
 * 'uncaughtException'), and everything else goes on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw, type RawPeer } from '../helpers/raw-peer.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';
import { startServerUnderAttack } from './server-under-attack.js';

guardProcess();

const text = (payload: string, fin = true) => clientFrame({ opcode: OP.TEXT, payload, fin });

/** Up to `n` frames as [opcode, payload] (binary in hex), or fewer when none comes within `ms` or the connection ends. */
async function framesUpTo(peer: RawPeer, n: number, ms: number): Promise<Array<[number, string]>> {
  const frames: Array<[number, string]> = [];
  const deadline = Date.now() + ms;
  while (frames.length < n) {
    try {
      const frame = await peer.nextFrame(Math.max(1, deadline - Date.now()));
      const payload = frame.opcode === OP.BINARY ? frame.payload.toString('hex') : frame.opcode === OP.CLOSE ? `close ${frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005}` : frame.payload.toString('utf8');
      frames.push([frame.opcode, payload]);
    } catch {
      break;
    }
  }
  return frames;
}

describe('attack: user code that throws', () => {
  for (const style of ['handlers', 'listeners'] as const) {
    test(`a ${style === 'handlers' ? 'server-wide message handler' : "'message' listener"} that throws loses only its own message: the rest of the chunk, and the next chunks, are delivered; the connection stays open`, { timeout: 20_000 }, async (t) => {
      const server = await startServerUnderAttack(t, { mode: 'echo', throwOn: 'throw', listeners: style === 'listeners' });
      const { peer } = await openRaw(server.port);
      t.after(() => peer.destroy());

      // One TCP chunk: messages before and after the one that throws, a fragmented message, a ping,
      // and the first 5 bytes of a frame whose rest comes in the next chunk.
      const split = text('split across two reads');
      peer.write(
        Buffer.concat([
          text('one'),
          text('throw'),
          text('two'),
          clientFrame({ opcode: OP.BINARY, payload: Uint8Array.of(1, 2, 3) }),
          text('thr', false),
          clientFrame({ opcode: OP.CONTINUATION, payload: 'ee' }),
          clientFrame({ opcode: OP.PING, payload: 'still there?' }),
          split.subarray(0, 5),
        ]),
      );
      assert.deepEqual(await framesUpTo(peer, 5, 3000), [
        [OP.TEXT, 'one'],
        [OP.TEXT, 'two'],
        [OP.BINARY, '010203'],
        [OP.TEXT, 'three'],
        [OP.PONG, 'still there?'],
      ]);

      // The next chunk finishes the split frame; a second failure later does not stop anything either.
      peer.write(Buffer.concat([split.subarray(5), text('throw'), text('four')]));
      assert.deepEqual(await framesUpTo(peer, 2, 3000), [
        [OP.TEXT, 'split across two reads'],
        [OP.TEXT, 'four'],
      ]);

      // The connection is still open: a clean closing handshake, with the peer's own code.
      peer.sendClose(1000, 'done');
      assert.deepEqual(await peer.nextClose(3000), { code: 1000, reason: 'done' });
      await peer.waitEnd(3000);
      const stats = await server.waitForStats((s) => s.closed === 1, 3000, 'the server reports the close');
      assert.deepEqual(stats.closeCodes, { 1000: 1 }, 'the server saw a normal close (not 1002 or 1011)');
      assert.equal(stats.thrown, 2);
      assert.equal(stats.thrownReported, 2, 'each error thrown by the application reached it again (error handler, error event or uncaughtException)');
      assert.deepEqual(stats.otherUncaught, []);
      assert.deepEqual(stats.errorCodes, {}, 'no protocol error was reported');
    });
  }
});
