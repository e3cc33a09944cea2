/**
 * Target `inflate`: receiving permessage-deflate (RFC 7692 §6-§7.2) through a ProtocolSession, with
 * the agreement negotiated by the library's own factories, and inflate bounded by maxPayload.
 *
 * Input: two settings bytes, then the bytes the peer sends (seeds mask with a zero key, so the
 * compressed bytes are what the mutations change).
 *   byte 0, bit 0: client role (else server)     bits 1-2: maxPayload 64 / 1000 / 65536 / 16 MiB
 *     bit 3: the peer keeps its compression context (context takeover)
 *     bits 4-6: the peer's window bits, 8 + the value     bit 7: observeFrames
 *   byte 1, bit 0: the session closes (1000) at the stream position of the next 2 bytes (modulo
 *     its length + 1), whether or not a decode is running then
 * Each input runs whole and in random reads, at the same time (two sessions sharing the zlib
 * pool), the reads given synchronously as a socket would. Without context takeover or a close,
 * the session must match the models (frames, close state machine, and each message inflated on
 * its own by zlib's synchronous API): the same messages, a bomb failing with 1009, invalid data
 * with 1007. Otherwise (the window carries over; the close abandons a decode in progress, which
 * the model does not follow) both runs must agree, nothing may be reported after our close but
 * the peer's, no message may pass maxPayload and every failure must have its close code. Always:
 * at most `concurrency` idle zlib contexts pooled, nothing held after transportClosed().
 */
import {
  clientPerMessageDeflate,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_ZLIB_CONCURRENCY,
  type MessageExtension,
  pooledContextCount,
  ReadyState,
  type Role,
  serverPerMessageDeflate,
} from '../../src/protocol/index.js';
import { MODEL_CLOSE_CODES, modelReceive } from '../model/frame-model.js';
import { inflateMessage } from '../model/inflate-model.js';
import { modelSession, type SessionEvent } from '../model/session-model.js';
import { hashBytes } from '../random.js';
import { check, type FuzzTarget } from '../target.js';
import { type ChunkPlan, feedReads, randomCuts, wholeStream } from './chunking.js';
import { checkSameFramesSent, checkSentFrames, chooserFrom, compareSessionEvents, describeEvent } from './comparison.js';
import { frameDictionary } from './frame-dictionary.js';
import { SessionRecording } from './recordings.js';

const MAX_PAYLOADS = [64, 1000, 65536, 16 * 1024 * 1024];

interface InflateCase {
  readonly role: Role;
  readonly maxPayload: number;
  readonly takeover: boolean;
  readonly windowBits: number;
  readonly observeFrames: boolean;
  /** Where the session closes, or null. */
  readonly closeAt: number | null;
  readonly stream: Buffer;
}

function decodeCase(input: Buffer): InflateCase {
  const settings = input[0] ?? 0;
  const closes = ((input[1] ?? 0) & 1) === 1 && input.length >= 4;
  const stream = input.subarray(closes ? 4 : 2);
  return {
    role: settings & 1 ? 'client' : 'server',
    maxPayload: MAX_PAYLOADS[(settings >> 1) & 3]!,
    takeover: (settings & 8) !== 0,
    windowBits: 8 + ((settings >> 4) & 7),
    observeFrames: (settings & 0x80) !== 0,
    closeAt: closes ? input.readUInt16BE(2) % (stream.length + 1) : null,
    stream,
  };
}

/** Negotiate as the handshake would: the server answers a browser-like offer, the client checks a server's answer. */
function negotiate(c: InflateCase): MessageExtension {
  if (c.role === 'server') {
    const factory = serverPerMessageDeflate({ clientNoContextTakeover: !c.takeover, clientMaxWindowBits: c.windowBits });
    const extension = factory.accept([{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }]);
    check(extension !== null, 'the server declined a plain offer');
    return extension;
  }
  const params: Array<[string, string | true]> = [['server_max_window_bits', String(c.windowBits)]];
  if (!c.takeover) params.push(['server_no_context_takeover', true]);
  return clientPerMessageDeflate().accept({ name: 'permessage-deflate', params });
}

interface Run {
  readonly events: SessionEvent[];
  readonly wire: Buffer;
}

async function runSession(c: InflateCase, plan: ChunkPlan, what: string): Promise<Run> {
  const recording = new SessionRecording(c.role, { maxPayload: c.maxPayload }, c.observeFrames, negotiate(c));
  const session = recording.session;
  const close = (): void => {
    if (session.stopped) return;
    recording.events.push({ type: 'action' });
    session.close(1000);
    recording.collect();
  };
  if (c.closeAt === 0) close();
  feedReads(c.stream, plan, (chunk, end) => {
    session.receive(chunk);
    recording.collect();
    if (end === c.closeAt) close();
  });
  await recording.settled();
  recording.collect();
  const closedAt = recording.events.findIndex((event) => event.type === 'action');
  if (closedAt !== -1) {
    // §7.1.2: after our close, only the peer's close (or a failure) is reported.
    const later = recording.events.slice(closedAt + 1).filter((e) => !['close-sent', 'frame', 'peer-close', 'close-complete', 'error'].includes(e.type));
    check(later.length === 0, () => `${what}: ${describeEvent(later[0])} after the session closed`);
  }
  check(!session.isPaused && (session.stopped || session.backlogSize === 0), `${what}: input held back after the decodes ended`);
  for (const event of recording.events) {
    if (event.type === 'message') {
      const size = typeof event.data === 'string' ? Buffer.byteLength(event.data) : event.data.length;
      check(size <= c.maxPayload, () => `${what}: a message of ${size} bytes passed maxPayload ${c.maxPayload}`);
    }
  }
  const pooled = pooledContextCount();
  check(pooled.deflate <= DEFAULT_ZLIB_CONCURRENCY && pooled.inflate <= DEFAULT_ZLIB_CONCURRENCY, () => `${what}: ${JSON.stringify(pooled)} zlib contexts pooled`);
  const wire = recording.wire;
  session.transportClosed();
  check(session.stopped && session.readyState === ReadyState.CLOSED, `${what}: not closed after transportClosed()`);
  check(session.pendingBytes === 0 && session.takeOutput() === null && session.backlogSize === 0 && !session.isPaused, `${what}: something held after transportClosed()`);
  return { events: recording.events, wire };
}

/** Failures that compressed data may rightly end in, besides those of the frames themselves. */
function checkFailureIsRight(run: Run, what: string): void {
  for (const event of run.events) {
    if (event.type !== 'error') continue;
    check(MODEL_CLOSE_CODES[event.code] === event.closeCode, () => `${what}: ${describeEvent(event)} has the wrong close code`);
  }
}

export const fuzzTarget: FuzzTarget = {
  name: 'inflate',
  description: 'permessage-deflate receive through a ProtocolSession: inflate within maxPayload, 1007 and 1009, context takeover',
  maxLength: 4096,
  dictionary: [
    ...frameDictionary,
    Uint8Array.from([0xc1, 0x80, 0, 0, 0, 0]), // masked compressed text
    Uint8Array.from([0xc2, 0x80, 0, 0, 0, 0]), // masked compressed binary
    Uint8Array.from([0x41, 0x80, 0, 0, 0, 0]), // first fragment of a compressed text
    Uint8Array.from([0x00, 0x00, 0xff, 0xff]), // an empty stored block (the sync flush)
    Uint8Array.from([0x01, 0x00, 0x00, 0xff, 0xff]), // a final empty stored block
    Uint8Array.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), // RFC 7692 §7.2.3.1: "Hello"
    Uint8Array.from([0x02, 0x00]), // an empty fixed block
  ],
  async run(input) {
    const c = decodeCase(input);
    const seed = hashBytes(input);
    const [whole, pieces] = await Promise.all([
      runSession(c, wholeStream(c.stream.length, c.closeAt), `ProtocolSession (${c.role}), whole`),
      runSession(c, randomCuts(c.stream.length, c.closeAt, seed), `ProtocolSession (${c.role}), random reads`),
    ]);
    compareSessionEvents('whole against random reads', pieces.events, whole.events);
    checkSameFramesSent('whole against random reads', pieces.wire, whole.wire);
    checkFailureIsRight(whole, 'whole');
    if (c.takeover || c.closeAt !== null) return;

    const received = modelReceive(c.stream, {
      expectMasked: c.role === 'server',
      maxPayload: c.maxPayload,
      maxFragments: DEFAULT_MAX_FRAGMENTS,
      observeFrames: c.observeFrames,
      actionAt: null,
      decoder: inflateMessage,
    });
    const expected = modelSession(received, { autoPong: true, actionCode: undefined, chooseError: chooserFrom(whole.events) });
    compareSessionEvents(`ProtocolSession (${c.role})`, whole.events, expected.events);
    checkSentFrames(`ProtocolSession (${c.role})`, whole.wire, expected.sent, c.role === 'client');
  },
};
