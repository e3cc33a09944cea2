/**
 * Target `frames`: the receive side and the close state machine (RFC 6455 §5, §7, §8.1), through
 * a FrameReceiver and a ProtocolSession of either role, against the reference models.
 *
 * Input: a settings byte, then the bytes the peer sends.
 *   bit 0: client role (else server)       bit 1: observeFrames        bit 2: autoPong off
 *   bits 3-4: maxPayload 16 MiB / 0 / 125 / 4000      bits 5-6: maxFragments 262,144 / 1 / 2 / 16
 *   bit 7: the owner acts: then 3 more bytes, the close code (none / 1000 / 1001 / 4000) and the
 *          stream position (16 bits, modulo its length + 1) where the session closes (the
 *          receiver: starts dropping data) while the peer keeps sending
 * Each stream runs whole, byte by byte and in random reads; every run must match the models:
 * the same messages, pings, pongs and frames; a failure with a right error code and its close
 * code; the same frames sent back; nothing reported after a close frame or a failure; and once
 * the transport closes nothing held (no pending output, nothing buffered, parsing stopped).
 */
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, ReadyState, type Role } from '../../src/protocol/index.js';
import { modelReceive, type ModelEvent } from '../model/frame-model.js';
import { modelSession } from '../model/session-model.js';
import { hashBytes } from '../random.js';
import { check, type FuzzTarget } from '../target.js';
import { byteByByte, type ChunkPlan, feedReads, randomCuts, wholeStream } from './chunking.js';
import { checkSentFrames, chooserFrom, compareReceiverEvents, compareSessionEvents } from './comparison.js';
import { frameDictionary } from './frame-dictionary.js';
import { ReceiverRecording, SessionRecording } from './recordings.js';

const MAX_PAYLOADS = [DEFAULT_MAX_PAYLOAD, 0, 125, 4000];
const MAX_FRAGMENTS = [DEFAULT_MAX_FRAGMENTS, 1, 2, 16];
const ACTION_CODES = [undefined, 1000, 1001, 4000];

interface FramesCase {
  readonly role: Role;
  readonly observeFrames: boolean;
  readonly autoPong: boolean;
  readonly maxPayload: number;
  readonly maxFragments: number;
  readonly action: { readonly at: number; readonly code: number | undefined } | null;
  readonly stream: Buffer;
}

export function decodeFramesCase(input: Buffer): FramesCase {
  const settings = input[0] ?? 0;
  const acts = (settings & 0x80) !== 0 && input.length >= 4;
  const stream = input.subarray(acts ? 4 : 1);
  return {
    role: settings & 1 ? 'client' : 'server',
    observeFrames: (settings & 2) !== 0,
    autoPong: (settings & 4) === 0,
    maxPayload: MAX_PAYLOADS[(settings >> 3) & 3]!,
    maxFragments: MAX_FRAGMENTS[(settings >> 5) & 3]!,
    action: acts ? { code: ACTION_CODES[input[1]! & 3], at: input.readUInt16BE(2) % (stream.length + 1) } : null,
    stream,
  };
}

/** A valid ping as the peer would send it now: after a close frame or a failure it must change nothing. */
function latePing(role: Role): Buffer {
  return role === 'server' ? Buffer.from([0x89, 0x81, 0, 0, 0, 0, 0x2a]) : Buffer.from([0x89, 0x01, 0x2a]);
}

function runReceiver(c: FramesCase, plan: ChunkPlan, expected: readonly ModelEvent[], what: string): void {
  const recording = new ReceiverRecording(c.role === 'server', { maxPayload: c.maxPayload, maxFragments: c.maxFragments }, c.observeFrames, null);
  const receiver = recording.receiver;
  const act = (): void => {
    if (receiver.stopped) return;
    recording.events.push({ type: 'action' });
    receiver.discardData();
  };
  if (c.action?.at === 0) act();
  feedReads(c.stream, plan, (chunk, end) => {
    receiver.receive(chunk);
    if (c.action !== null && end === c.action.at) act();
  });
  compareReceiverEvents(what, recording.events, expected);
  const last = expected[expected.length - 1];
  const ended = last !== undefined && (last.type === 'error' || last.type === 'close-frame');
  check(receiver.stopped === ended, () => `${what}: stopped is ${receiver.stopped} after ${last?.type ?? 'nothing'}`);
  if (ended) {
    const count = recording.events.length;
    receiver.receive(latePing(c.role));
    check(recording.events.length === count, `${what}: the receiver reported something after it stopped`);
  }
  receiver.stop();
  check(receiver.stopped && receiver.backlogSize === 0 && !receiver.isPaused, `${what}: the receiver holds bytes after stop()`);
}

function runSession(c: FramesCase, plan: ChunkPlan, received: readonly ModelEvent[], what: string): void {
  const recording = new SessionRecording(c.role, { maxPayload: c.maxPayload, maxFragments: c.maxFragments, autoPong: c.autoPong }, c.observeFrames, null);
  const session = recording.session;
  const act = (): void => {
    if (session.stopped) return;
    recording.events.push({ type: 'action' });
    session.close(c.action!.code);
    recording.collect();
  };
  if (c.action?.at === 0) act();
  feedReads(c.stream, plan, (chunk, end) => {
    session.receive(chunk);
    recording.collect();
    if (c.action !== null && end === c.action.at) act();
  });
  const expected = modelSession(received, { autoPong: c.autoPong, actionCode: c.action?.code, chooseError: chooserFrom(recording.events) });
  compareSessionEvents(what, recording.events, expected.events);
  checkSentFrames(what, recording.wire, expected.sent, c.role === 'client');

  check(session.stopped === expected.ended, () => `${what}: stopped is ${session.stopped}, the model says ${expected.ended}`);
  const state = expected.ended ? ReadyState.CLOSED : expected.closeSent ? ReadyState.CLOSING : ReadyState.OPEN;
  check(session.readyState === state, () => `${what}: readyState ${session.readyState}, expected ${state}`);
  if (expected.ended) {
    const count = recording.events.length;
    session.receive(latePing(c.role));
    check(recording.events.length === count && session.takeOutput() === null, `${what}: the session reacted after it stopped`);
  }
  // The transport goes away: nothing may stay held.
  const clean = session.transportClosed();
  check(clean === expected.clean, () => `${what}: transportClosed() says clean=${clean}, the model says ${expected.clean}`);
  check(session.stopped && session.readyState === ReadyState.CLOSED, `${what}: not closed after transportClosed()`);
  check(session.pendingBytes === 0 && session.takeOutput() === null, `${what}: output held after transportClosed()`);
  check(session.backlogSize === 0 && !session.isPaused, `${what}: input held after transportClosed()`);
  const count = recording.events.length;
  session.receive(latePing(c.role));
  check(recording.events.length === count, `${what}: an event after transportClosed()`);
}

/** Run one `frames` input and check every invariant (throws an InvariantViolation when one breaks). */
export function runFramesInput(input: Buffer): void {
  const c = decodeFramesCase(input);
  const actionAt = c.action?.at ?? null;
  const received = modelReceive(c.stream, {
    expectMasked: c.role === 'server',
    maxPayload: c.maxPayload,
    maxFragments: c.maxFragments,
    observeFrames: c.observeFrames,
    actionAt,
    decoder: null,
  });
  for (const event of received) {
    if (event.type === 'message') check(event.data.length <= c.maxPayload, 'model: a message over maxPayload');
  }
  const length = c.stream.length;
  const seed = hashBytes(input);
  const plans: Array<[string, ChunkPlan]> = [
    ['whole', wholeStream(length, actionAt)],
    ['random reads', randomCuts(length, actionAt, seed)],
  ];
  // Byte by byte costs a call per byte: for short streams, and one longer stream in eight.
  if (length <= 256 || seed >>> 29 === 0) plans.push(['byte by byte', byteByByte(length, actionAt)]);
  for (const [name, plan] of plans) {
    runReceiver(c, plan, received, `FrameReceiver (${c.role}), ${name}`);
    runSession(c, plan, received, `ProtocolSession (${c.role}), ${name}`);
  }
}

export const fuzzTarget: FuzzTarget = {
  name: 'frames',
  description: 'FrameReceiver and ProtocolSession (both roles) against the RFC 6455 models, in any chunking',
  maxLength: 4096,
  dictionary: frameDictionary,
  run: runFramesInput,
};
