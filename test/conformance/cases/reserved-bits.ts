// Category 3: reserved bits (Autobahn 3.*). RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defines
// them; with none negotiated, the endpoint MUST fail the connection (wsforge: close 1002). The echo of the
// valid message sent before the bad frame may or may not arrive; nothing sent after the bad frame may be
// answered.
import { OP } from '../../helpers/wire-frames.js';
import type { FrameSpec } from '../frame-spec.js';
import type { Case, Category } from '../types.js';
import { closeFrame, contFrame, pingFrame, send, text, textFrame } from './build.js';

/** RSV value as in Autobahn: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
function rsvBits(v: number): Pick<FrameSpec, 'rsv1' | 'rsv2' | 'rsv3'> {
  return { rsv1: (v & 4) !== 0, rsv2: (v & 2) !== 0, rsv3: (v & 1) !== 0 };
}

function bitNames(v: number): string {
  return [v & 4 ? 'RSV1' : '', v & 2 ? 'RSV2' : '', v & 1 ? 'RSV3' : ''].filter(Boolean).join('+');
}

type Kind = { name: string; frames: (v: number) => FrameSpec[] };

const kinds: Kind[] = [
  { name: 'text', frames: (v) => [{ opcode: OP.TEXT, payload: 'bad', ...rsvBits(v) }] },
  { name: 'binary', frames: (v) => [{ opcode: OP.BINARY, payload: Buffer.from([1, 2, 3]), ...rsvBits(v) }] },
  { name: 'ping', frames: (v) => [{ opcode: OP.PING, payload: 'bad ping', ...rsvBits(v) }] },
  { name: 'pong', frames: (v) => [{ opcode: OP.PONG, payload: 'bad pong', ...rsvBits(v) }] },
  { name: 'close', frames: (v) => [{ ...closeFrame(1000), ...rsvBits(v) }] },
  // The reserved bit on the continuation of a fragmented text message.
  { name: 'continuation', frames: (v) => [textFrame('frag', { fin: false }), contFrame('ment', { ...rsvBits(v) })] },
];

const cases: Case[] = [];
kinds.forEach((k, ki) => {
  for (let v = 1; v <= 7; v++) {
    cases.push({
      id: `3.${ki + 1}.${v}`,
      description: `valid text, then ${k.name} with ${bitNames(v)} set, then a ping → optional echo, close 1002, no pong`,
      steps: [send(textFrame('valid before')), ...k.frames(v).map((f) => send(f)), send(pingFrame('after'))],
      outcome: { kind: 'close', codes: [1002], messages: [text('valid before', true)] },
    });
  }
});

// The same, all frames coalesced in one write, and one byte at a time.
[4, 2, 1].forEach((v, i) => {
  const frames = [textFrame('valid before'), { opcode: OP.TEXT, payload: 'bad', ...rsvBits(v) }, pingFrame('after')];
  cases.push({
    id: `3.7.${i + 1}`,
    description: `valid text, text with ${bitNames(v)}, ping, coalesced in one write → optional echo, close 1002`,
    steps: [send(frames)],
    outcome: { kind: 'close', codes: [1002], messages: [text('valid before', true)] },
  });
  cases.push({
    id: `3.8.${i + 1}`,
    description: `valid text, text with ${bitNames(v)}, ping, sent one byte at a time → optional echo, close 1002`,
    steps: [send(frames, { chunk: 1 })],
    outcome: { kind: 'close', codes: [1002], messages: [text('valid before', true)] },
  });
});

export const reservedBits: Category = { id: '3', name: 'reserved bits', cases };
