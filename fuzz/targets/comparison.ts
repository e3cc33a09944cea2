/**
 * Holding what the core did to what the models say it must do, with messages that show where
 * they part (payloads in hex).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ErrorCode } from '../../src/protocol/index.js';
import { parseWireFrames, type WireFrame } from '../../test/helpers/wire-frames.js';
import { MODEL_CLOSE_CODES, type ModelEvent } from '../model/frame-model.js';
import { type ExpectedFrame, isSendableCloseCode, type SessionEvent } from '../model/session-model.js';
import { isWholeUtf8 } from '../model/utf8-automaton.js';
import { check, InvariantViolation } from '../target.js';
import type { ReceiverEvent } from './recordings.js';

type AnyEvent = ReceiverEvent | ModelEvent | SessionEvent;

export function describeEvent(event: AnyEvent | undefined): string {
  if (event === undefined) return '(nothing)';
  return JSON.stringify(event, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
      return `<${Buffer.from((value as { data: number[] }).data).toString('hex')}>`;
    }
    return typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}...` : value;
  });
}

function describeList(events: readonly AnyEvent[]): string {
  const shown = events.slice(0, 40).map((e, i) => `  ${i}: ${describeEvent(e)}`);
  if (events.length > 40) shown.push(`  ... ${events.length - 40} more`);
  return shown.join('\n');
}

/** The failure code the core chose, if it is one of the right ones (else the first right one). */
export function chooserFrom(actual: readonly AnyEvent[]): (codes: readonly ErrorCode[]) => ErrorCode {
  let chosen: ErrorCode | undefined;
  for (const event of actual) if (event.type === 'error' && 'code' in event) chosen = event.code;
  return (codes) => (chosen !== undefined && codes.includes(chosen) ? chosen : codes[0]!);
}

/** A failure must be one the RFC's rules allow for what arrived, with that rule's close code. */
function errorMatches(actual: ReceiverEvent, expected: ModelEvent): boolean {
  if (actual.type !== 'error' || expected.type !== 'error') return false;
  return expected.codes.includes(actual.code) && actual.closeCode === MODEL_CLOSE_CODES[actual.code];
}

export function compareReceiverEvents(what: string, actual: readonly ReceiverEvent[], expected: readonly ModelEvent[]): void {
  const length = Math.max(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    const a = actual[i];
    const e = expected[i];
    const same = a !== undefined && e !== undefined && (e.type === 'error' ? errorMatches(a, e) : isDeepStrictEqual(a, e));
    if (!same) {
      throw new InvariantViolation(
        `${what}: event ${i} is ${describeEvent(a)}, the model says ${describeEvent(e)}\n` +
          `receiver:\n${describeList(actual)}\nmodel:\n${describeList(expected)}`,
      );
    }
  }
}

export function compareSessionEvents(what: string, actual: readonly SessionEvent[], expected: readonly SessionEvent[]): void {
  const length = Math.max(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (!isDeepStrictEqual(actual[i], expected[i])) {
      throw new InvariantViolation(
        `${what}: event ${i} is ${describeEvent(actual[i])}, the model says ${describeEvent(expected[i])}\n` +
          `session:\n${describeList(actual)}\nmodel:\n${describeList(expected)}`,
      );
    }
  }
}

/** Two runs sent the same frames (client frames are masked with random keys: compared unmasked). */
export function checkSameFramesSent(what: string, a: Buffer, b: Buffer): void {
  const frames = (wire: Buffer): string => parseWireFrames(wire).map((f) => `${f.opcode}:${f.payload.toString('hex')}`).join(' ');
  const [x, y] = [frames(a), frames(b)];
  check(x === y, () => `${what}: sent ${x}, and ${y}`);
}

/** The bytes a session wrote: whole frames (§5.2), masked by a client only (§5.3), as the model expects. */
export function checkSentFrames(what: string, wire: Buffer, expected: readonly ExpectedFrame[], masked: boolean): void {
  let frames: WireFrame[];
  try {
    frames = parseWireFrames(wire);
  } catch (error) {
    throw new InvariantViolation(`${what}: the output is not whole frames (${(error as Error).message}): ${wire.toString('hex')}`);
  }
  const summary = (): string =>
    `sent: ${frames.map((f) => `${f.opcode}:${f.payload.toString('hex')}`).join(' ')}; ` +
    `the model says: ${expected.map((f) => `${f.opcode}:${f.payload === null ? `code ${f.closeCode}` : f.payload.toString('hex')}`).join(' ')}`;
  check(frames.length === expected.length, () => `${what}: ${frames.length} frames sent, the model says ${expected.length}; ${summary()}`);
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i]!;
    const want = expected[i]!;
    check(frame.fin && !frame.rsv1 && !frame.rsv2 && !frame.rsv3, () => `${what}: frame ${i} sent with FIN clear or RSV bits set; ${summary()}`);
    check(frame.masked === masked, () => `${what}: frame ${i} sent ${frame.masked ? 'masked' : 'unmasked'} (RFC 6455 §5.1); ${summary()}`);
    check(frame.lengthBits === 7, () => `${what}: control frame ${i} with a ${frame.lengthBits}-bit length (§5.2: minimal)`);
    check(frame.opcode === want.opcode, () => `${what}: frame ${i} has opcode ${frame.opcode}; ${summary()}`);
    if (frame.opcode === 0x8) {
      // §5.5.1: empty, or a code that may be sent and a UTF-8 reason.
      const payload = frame.payload;
      check(payload.length !== 1, () => `${what}: close frame with a 1-byte payload`);
      if (payload.length >= 2) {
        check(isSendableCloseCode(payload.readUInt16BE(0)), () => `${what}: close frame with code ${payload.readUInt16BE(0)}`);
        check(isWholeUtf8(payload.subarray(2)), () => `${what}: close reason is not UTF-8`);
      }
    }
    if (want.payload !== null) {
      check(frame.payload.equals(want.payload), () => `${what}: frame ${i} payload differs; ${summary()}`);
    } else {
      check(frame.payload.length >= 2 && frame.payload.readUInt16BE(0) === want.closeCode, () => `${what}: close frame ${i} code; ${summary()}`);
    }
  }
}
