// Category 1: framing (Autobahn 1.*). Text and binary messages at every length boundary of the 7-bit, 16-bit
// and 64-bit length encodings, whole and delivered in chunks; plus masking the wrong way for the role.
import { OP } from '../../helpers/wire-frames.js';
import type { Case, Category } from '../types.js';
import { binary, binaryFrame, payload, pingFrame, pong, send, text, textFrame } from './build.js';

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

function lengthCases(prefix: string, kind: 'text' | 'binary'): Case[] {
  const frame = kind === 'text' ? textFrame : binaryFrame;
  const item = kind === 'text' ? text : binary;
  const cases: Case[] = LENGTHS.map((n, i) => ({
    id: `${prefix}.${i + 1}`,
    description: `${kind} message with payload of length ${n}`,
    steps: [send(frame(payload(kind, n)))],
    outcome: { kind: 'echo', messages: [item(payload(kind, n))] },
  }));
  cases.push({
    id: `${prefix}.8`,
    description: `${kind} message with payload of length 65536, sent in chops of 997 bytes`,
    steps: [send(frame(payload(kind, 65536)), { chunk: 997 })],
    outcome: { kind: 'echo', messages: [item(payload(kind, 65536))] },
  });
  return cases;
}

const mixed = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');

// Split frames: both steps name the same FrameSpec object, so they send the two parts of one encoding.
const big64k = binaryFrame(payload('binary', 65536));
const big128k = textFrame(payload('text', 131072));

const chunked: Case[] = [
  {
    id: '1.3.1',
    description: 'text message of 125 bytes (7-bit length) sent one byte at a time',
    steps: [send(textFrame(payload('text', 125)), { chunk: 1 })],
    outcome: { kind: 'echo', messages: [text(payload('text', 125))] },
  },
  {
    id: '1.3.2',
    description: 'text message of 126 bytes (16-bit length) sent one byte at a time',
    steps: [send(textFrame(payload('text', 126)), { chunk: 1 })],
    outcome: { kind: 'echo', messages: [text(payload('text', 126))] },
  },
  {
    id: '1.3.3',
    description: 'binary message of 65536 bytes (64-bit length): header one byte at a time, then the payload',
    steps: [
      send(big64k, { range: [0, 10], chunk: 1, chunkDelayMs: 2 }),
      send(big64k, { range: [10] }),
    ],
    outcome: { kind: 'echo', messages: [binary(payload('binary', 65536))] },
  },
  {
    id: '1.3.4',
    description: 'text with multi-byte UTF-8 sent one byte at a time (code points split across TCP reads)',
    steps: [send(textFrame(mixed), { chunk: 1, chunkDelayMs: 1 })],
    outcome: { kind: 'echo', messages: [text(mixed)] },
  },
  {
    id: '1.3.5',
    description: 'three messages (text, binary, text) coalesced into one TCP write',
    steps: [send([textFrame('one'), binaryFrame(Buffer.from([0, 1, 2, 0xff])), textFrame('three')])],
    outcome: { kind: 'echo', messages: [text('one'), binary(Buffer.from([0, 1, 2, 0xff])), text('three')] },
  },
  {
    id: '1.3.6',
    description: 'ten messages of 0..9000 bytes coalesced into one write, delivered in chunks of 7 bytes',
    steps: [send(Array.from({ length: 10 }, (_, i) => (i % 2 ? binaryFrame : textFrame)(payload(i % 2 ? 'binary' : 'text', i * 1000))), { chunk: 7 })],
    outcome: { kind: 'echo', messages: Array.from({ length: 10 }, (_, i) => (i % 2 ? binary : text)(payload(i % 2 ? 'binary' : 'text', i * 1000))) },
  },
  {
    id: '1.3.7',
    description: 'text message of 128 KiB with a 50 ms pause after the first header byte',
    steps: [
      send(big128k, { range: [0, 1] }),
      { pause: 50 },
      send(big128k, { range: [1] }),
    ],
    outcome: { kind: 'echo', messages: [text(payload('text', 131072))] },
  },
];
const masking: Case[] = [
  {
    id: '1.4.1',
    description: 'text frame masked the wrong way for the role (client frame unmasked / server frame masked) → 1002',
    steps: [send(textFrame('Hello', { mask: 'wrong' }))],
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '1.4.2',
    description: 'valid text, then a ping masked the wrong way → optional echo, close 1002',
    steps: [send(textFrame('valid')), send({ opcode: OP.PING, payload: 'bad', mask: 'wrong' })],
    outcome: { kind: 'close', codes: [1002], messages: [text('valid', true)] },
  },
  {
    id: '1.4.3',
    description: 'empty binary frame masked the wrong way → 1002',
    steps: [send(binaryFrame(Buffer.alloc(0), { mask: 'wrong' }))],
    outcome: { kind: 'close', codes: [1002] },
  },
];

// A server may send frames right after its 101 response; they can arrive in the same TCP read as the response
// head, and a client must treat them as the first frames of the connection (RFC 6455 §4.1: once the response is
// validated the connection is open). Client side only: a client must wait for the 101 before sending.
const withResponse: Case[] = [
  {
    id: '1.5.1',
    description: 'text message in the same TCP write as the 101 response',
    steps: [send(textFrame('first message'))],
    outcome: { kind: 'echo', messages: [text('first message')] },
    sides: ['client'],
    handshake: { framesWithResponse: true },
  },
  {
    id: '1.5.2',
    description: 'ping, binary and text messages in the same TCP write as the 101 response',
    steps: [send([pingFrame('early ping'), binaryFrame(Buffer.from([1, 2, 3])), textFrame('third')])],
    outcome: { kind: 'echo', messages: [pong('early ping'), binary(Buffer.from([1, 2, 3])), text('third')] },
    sides: ['client'],
    handshake: { framesWithResponse: true },
  },
];

export const framing: Category = {
  id: '1',
  name: 'framing',
  cases: [...lengthCases('1.1', 'text'), ...lengthCases('1.2', 'binary'), ...chunked, ...masking, ...withResponse],
};
