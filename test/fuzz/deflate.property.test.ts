/**
 * Properties of permessage-deflate (fast-check): any client settings against any server settings
 * negotiate an agreement both sides accept (RFC 7692 §7.1), and two sessions with it exchange any
 * messages both ways intact, compressed with the agreed windows and context takeover (zlib
 * really runs with the negotiated parameters: undici's 2026 advisory had a window size outside
 * 8-15 crash the process). And a peer's compressed message, cut into any fragments, is delivered
 * intact up to maxPayload and fails with 1009 beyond it; the inflate fuzz target holds on it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constants, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import {
  clientPerMessageDeflate,
  formatExtension,
  parseExtensionHeader,
  type PerMessageDeflateOptions,
  ProtocolSession,
  serverPerMessageDeflate,
} from '../../src/protocol/index.js';
import { fuzzTarget as inflateTarget } from '../../fuzz/targets/inflate.js';
import { guardProcess } from '../helpers/process-guard.js';
import { SessionHarness } from '../helpers/session-recorder.js';
import { withTimeout } from '../helpers/timing.js';
import { encodeWireFrame, OP, readClose } from '../helpers/wire-frames.js';

guardProcess();

const windowBits = fc.integer({ min: 8, max: 15 });
const sideOptions = fc.record(
  {
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: windowBits,
    clientMaxWindowBits: windowBits,
    level: fc.integer({ min: 0, max: 9 }),
    memLevel: fc.integer({ min: 1, max: 9 }),
    threshold: fc.constantFrom(0, 16, 1024),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<PerMessageDeflateOptions>;

/** Messages that compress well, badly, and not at all. */
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.string({ maxLength: 20 }), fc.integer({ min: 1, max: 400 })).map(([s, n]) => Buffer.from(s.repeat(n))),
  fc.constant(Buffer.alloc(0)),
);

/** Two sessions joined back to back: what one writes, the other receives, a turn later. */
function joinedSessions(serverOptions: PerMessageDeflateOptions, clientOptions: PerMessageDeflateOptions) {
  const clientFactory = clientPerMessageDeflate(clientOptions);
  const offer = clientFactory.offer().map(formatExtension).join(', ');
  const serverExtension = serverPerMessageDeflate(serverOptions).accept(parseExtensionHeader(offer));
  assert.ok(serverExtension !== null, `the server declined ${offer}`);
  const answer = formatExtension(serverExtension.agreed);
  const clientExtension = clientFactory.accept(parseExtensionHeader(answer)[0]!);
  const inbox = { server: [] as Buffer[], client: [] as Buffer[], errors: [] as string[] };
  const sessions: { server?: ProtocolSession; client?: ProtocolSession } = {};
  const make = (role: 'server' | 'client'): ProtocolSession => {
    const other = role === 'server' ? 'client' : 'server';
    const session: ProtocolSession = new ProtocolSession(role, {
      onMessage: (data) => inbox[role].push(Buffer.from(data)),
      onPing() {},
      onPong() {},
      onFrame() {},
      onPeerClose() {},
      onCloseSent() {},
      onCloseHandshakeComplete() {},
      onProtocolError: (error) => inbox.errors.push(`${role}: ${error.code} ${error.message}`),
      onOutput: () =>
        setImmediate(() => {
          const output = session.takeOutput();
          if (output === null) return;
          for (const piece of Array.isArray(output) ? output : [output]) sessions[other]!.receive(Buffer.from(piece));
        }),
      onReceiverResumed() {},
    });
    return session;
  };
  sessions.server = make('server');
  sessions.client = make('client');
  sessions.server.setExtension(serverExtension);
  sessions.client.setExtension(clientExtension);
  return { server: sessions.server, client: sessions.client, inbox, offer, answer };
}

async function delivered(inbox: Buffer[], count: number, errors: string[]): Promise<void> {
  await withTimeout(
    (async () => {
      while (inbox.length < count && errors.length === 0) await new Promise((resolve) => setImmediate(resolve));
    })(),
    10_000,
    `${count} messages`,
  );
}

describe('permessage-deflate (fast-check)', () => {
  test('RFC 7692 §5, §7: any settings negotiate, and messages go both ways intact with the agreed windows and takeover', async () => {
    await fc.assert(
      fc.asyncProperty(sideOptions, sideOptions, fc.array(payload, { minLength: 1, maxLength: 6 }), async (serverOptions, clientOptions, messages) => {
        const { server, client, inbox, offer, answer } = joinedSessions(serverOptions, clientOptions);
        try {
          for (const m of messages) {
            server.sendBytes(m, true);
            client.sendBytes(m, true);
          }
          await delivered(inbox.client, messages.length, inbox.errors);
          await delivered(inbox.server, messages.length, inbox.errors);
          assert.deepEqual(inbox.errors, [], `offer ${offer}, answer ${answer}`);
          assert.deepEqual(inbox.client, messages, `server to client, answer ${answer}`);
          assert.deepEqual(inbox.server, messages, `client to server, answer ${answer}`);
        } finally {
          server.transportClosed();
          client.transportClosed();
        }
      }),
      { numRuns: 60 },
    );
  });

  test('RFC 7692 §7.2.2: a compressed message in any fragments is delivered up to maxPayload and fails with 1009 beyond it', async () => {
    const maxPayloads = [64, 1000, 65536];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          client: fc.boolean(),
          limit: fc.integer({ min: 0, max: 2 }),
          size: fc.integer({ min: 0, max: 80_000 }),
          fill: fc.string({ minLength: 1, maxLength: 8 }),
          windowBits: fc.integer({ min: 9, max: 15 }),
          cuts: fc.uniqueArray(fc.integer({ min: 1, max: 4000 }), { maxLength: 5 }),
        }),
        async ({ client, limit, size, fill, windowBits, cuts }) => {
          const maxPayload = maxPayloads[limit]!;
          const data = Buffer.from(fill.repeat(Math.ceil(size / fill.length)).slice(0, size));
          const flushed = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH, windowBits });
          const compressed = flushed.subarray(0, flushed.length - 4); // RFC 7692 §7.2.1
          const bounds = [0, ...cuts.filter((c) => c < compressed.length).sort((a, b) => a - b), compressed.length];
          const mask = client ? null : Uint8Array.from([1, 2, 3, 4]);
          const frames = [];
          for (let i = 0; i + 1 < bounds.length; i++) {
            frames.push(encodeWireFrame({ opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, rsv1: i === 0, fin: i + 2 === bounds.length, payload: compressed.subarray(bounds[i], bounds[i + 1]), mask }));
          }
          const stream = Buffer.concat(frames);

          const harness = new SessionHarness(client ? 'client' : 'server', { maxPayload });
          const extension = client
            ? clientPerMessageDeflate().accept({ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] })
            : serverPerMessageDeflate().accept([{ name: 'permessage-deflate', params: [] }])!;
          harness.session.setExtension(extension);
          try {
            harness.feed(stream);
            await withTimeout(
              (async () => {
                while (harness.session.isPaused && !harness.session.stopped) await new Promise((resolve) => setImmediate(resolve));
              })(),
              10_000,
              'the inflate',
            );
            if (data.length <= maxPayload) {
              assert.deepEqual(harness.errors, []);
              assert.deepEqual(harness.messages.map((m) => Buffer.from(m.data)), [data]);
            } else {
              assert.deepEqual(harness.errors.map((e) => [e.code, e.closeCode]), [['WSF_ERR_MESSAGE_TOO_BIG', 1009]]);
              assert.equal(readClose(harness.sent().find((f) => f.opcode === OP.CLOSE)!).code, 1009);
              assert.deepEqual(harness.messages, []);
            }
          } finally {
            harness.session.transportClosed();
          }
          // The same bytes through the inflate fuzz target (maxPayload 64, 1000, 65536; window bits as sent).
          if (stream.length <= 4096) await inflateTarget.run(Buffer.concat([Buffer.from([(client ? 1 : 0) | (limit << 1) | ((windowBits - 8) << 4), 0]), stream]));
        },
      ),
      { numRuns: 150 },
    );
  });
});
