/**
 * Sending back the text just received (sans-I/O): the frame writer copies the received UTF-8
 * bytes instead of encoding the string again (send/text-echo.ts). Whatever the size (a short
 * copy loop, a copy, a frame of its own from 8 KiB, by reference from 16 KiB on a server) and
 * the role (a client masks, RFC 6455 §5.3), the frame on the wire is the same as for any string.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolSession, type Role } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { clientFrame, OP, parseWireFrames, serverFrame } from '../helpers/wire-frames.js';

guardProcess();

/** A session that answers every text message with the same string; returns what it wrote. */
function echo(role: Role, texts: string[], options: { observeFrames?: boolean } = {}): Buffer {
  const session: ProtocolSession = new ProtocolSession(role, {
    onMessage: (data, isBinary) => {
      if (!isBinary) session.sendText(data as string);
    },
    onPing: () => {},
    onPong: () => {},
    onFrame: () => {},
    onPeerClose: () => {},
    onCloseSent: () => {},
    onCloseHandshakeComplete: () => {},
    onProtocolError: (error) => assert.fail(`protocol error ${error.code}`),
    onOutput: () => {},
    onReceiverResumed: () => {},
  });
  session.observeFrames = options.observeFrames ?? false;
  const out: Buffer[] = [];
  for (const text of texts) {
    const frame = role === 'server' ? clientFrame({ opcode: OP.TEXT, payload: text }) : serverFrame({ opcode: OP.TEXT, payload: text });
    session.receive(frame);
    const taken = session.takeOutput();
    // Copied at once: output may be a slice of a shared slab that is reused later.
    if (taken !== null) for (const piece of Array.isArray(taken) ? taken : [taken]) out.push(Buffer.from(piece));
  }
  return Buffer.concat(out);
}

const TEXTS = ['hi', 'é'.repeat(20), 'x'.repeat(100), 'ü'.repeat(150), 'y'.repeat(10_000), 'z'.repeat(20_000), '€'.repeat(30_000)];

describe('echoing the text just received (RFC 6455 §5.6)', () => {
  for (const role of ['server', 'client'] as const) {
    test(`RFC 6455 §5.2/§5.6: a ${role} echoes texts of 2 B to 90 KiB as single text frames with exactly their UTF-8 bytes${role === 'client' ? ', masked (§5.3)' : ''}`, () => {
      const frames = parseWireFrames(echo(role, TEXTS));
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.fin, f.rsv1, f.masked, f.minimalLength]),
        TEXTS.map(() => [OP.TEXT, true, false, role === 'client', true]),
      );
      assert.deepEqual(
        frames.map((f) => f.payload.toString('utf8')),
        TEXTS,
      );
    });
  }

  test('RFC 6455 §5.3: a client\'s echoes each get a fresh masking key', () => {
    const frames = parseWireFrames(echo('client', ['same', 'same', 'same']));
    assert.equal(new Set(frames.map((f) => f.mask!.toString('hex'))).size, 3);
  });

  test('API: with observeFrames on (user code may see and change payloads) the echo is encoded from the string: same frames', () => {
    assert.deepEqual(echo('server', TEXTS, { observeFrames: true }), echo('server', TEXTS));
  });
});
