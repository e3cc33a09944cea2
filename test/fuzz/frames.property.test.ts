/**
 * Properties of the receive side over valid conversations (fast-check): messages of any Unicode
 * text or bytes, cut into fragments anywhere (inside code points too), pings between fragments,
 * a closing handshake, masked by a client or not by a server, arriving in any reads. The session
 * must deliver exactly what was sent, answer every ping, echo the close; and the frames fuzz
 * target (models and invariants) must hold on the same bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { runFramesInput } from '../../fuzz/targets/frames.js';
import { guardProcess } from '../helpers/process-guard.js';
import { SessionHarness } from '../helpers/session-recorder.js';
import { closePayload, encodeWireFrame, OP, readClose } from '../helpers/wire-frames.js';

guardProcess();

interface Message {
  readonly isBinary: boolean;
  readonly bytes: Buffer;
  /** Where the payload is cut into fragments (sorted, inside the payload). */
  readonly cuts: number[];
  /** Ping payloads sent between fragments, one list per gap. */
  readonly pings: Buffer[][];
}

const message: fc.Arbitrary<Message> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 120 }).map((text) => ({ isBinary: false, bytes: Buffer.from(text, 'utf8') })),
    fc.uint8Array({ maxLength: 400 }).map((bytes) => ({ isBinary: true, bytes: Buffer.from(bytes) })),
  )
  .chain(({ isBinary, bytes }) =>
    fc
      .uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: Math.min(6, Math.max(0, bytes.length - 1)) })
      .chain((cuts) =>
        fc
          .array(fc.array(fc.uint8Array({ maxLength: 125 }).map((p) => Buffer.from(p)), { maxLength: 2 }), { minLength: cuts.length, maxLength: cuts.length })
          .map((pings) => ({ isBinary, bytes, cuts: cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), pings })),
      ),
  );

const conversation = fc.record({
  client: fc.boolean(),
  mask: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  messages: fc.array(message, { maxLength: 8 }),
  close: fc.option(fc.record({ code: fc.oneof(fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011), fc.integer({ min: 3000, max: 4999 })), reason: fc.string({ maxLength: 40 }) })),
  reads: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }),
});

describe('valid conversations (fast-check)', () => {
  test('RFC 6455 §5.4, §5.5, §7: every message delivered as sent, pings answered, the close echoed, in any reads', () => {
    fc.assert(
      fc.property(conversation, ({ client, mask, messages, close, reads }) => {
        // The peer of a client session is a server: unmasked frames; of a server session, masked ones.
        const frame = (opcode: number, payload: Buffer, fin = true): Buffer => encodeWireFrame({ opcode, payload, fin, mask: client ? null : mask });
        const frames: Buffer[] = [];
        const pings: Buffer[] = [];
        for (const m of messages) {
          const bounds = [0, ...m.cuts, m.bytes.length];
          for (let i = 0; i + 1 < bounds.length; i++) {
            const last = i + 2 === bounds.length;
            frames.push(frame(i === 0 ? (m.isBinary ? OP.BINARY : OP.TEXT) : OP.CONTINUATION, m.bytes.subarray(bounds[i], bounds[i + 1]), last));
            if (!last) {
              for (const ping of m.pings[i] ?? []) {
                frames.push(frame(OP.PING, ping));
                pings.push(ping);
              }
            }
          }
        }
        if (close !== null) {
          while (Buffer.byteLength(close.reason) > 123) close.reason = close.reason.slice(0, -1);
          frames.push(frame(OP.CLOSE, closePayload(close.code, close.reason)));
        }
        const stream = Buffer.concat(frames);

        const harness = new SessionHarness(client ? 'client' : 'server');
        for (let at = 0, i = 0; at < stream.length; i++) {
          const end = Math.min(stream.length, at + reads[i % reads.length]!);
          harness.feed(stream.subarray(at, end));
          at = end;
        }
        assert.deepEqual(harness.errors, []);
        assert.deepEqual(
          harness.messages.map((m) => ({ isBinary: m.isBinary, data: Buffer.from(m.data) })),
          messages.map((m) => ({ isBinary: m.isBinary, data: m.bytes })),
        );
        const sent = harness.sent();
        assert.deepEqual(sent.filter((f) => f.opcode === OP.PONG).map((f) => f.payload), pings);
        assert.ok(sent.every((f) => f.masked === client), 'a client masks what it sends, a server does not (§5.1)');
        if (close !== null) {
          const echo = sent.filter((f) => f.opcode === OP.CLOSE);
          assert.equal(echo.length, 1);
          assert.deepEqual(readClose(echo[0]!), { code: close.code, reason: close.reason });
          assert.ok(harness.session.stopped);
        }
        // The same bytes as a frames fuzz input: the models and invariants hold too.
        runFramesInput(Buffer.concat([Buffer.from([client ? 1 : 0]), stream]));
      }),
      { numRuns: 300 },
    );
  });
});
