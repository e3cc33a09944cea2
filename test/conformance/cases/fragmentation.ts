// Category 5: fragmentation (Autobahn 5.*). RFC 6455 §5.4: a message is a first frame (text/binary) with
// FIN=0, continuations, and a final continuation with FIN=1; control frames may be injected between
// fragments and MUST NOT be fragmented themselves; a continuation with nothing to continue, and a new data
// frame inside a fragmented message, are protocol errors (wsforge: close 1002).
import { OP } from '../../helpers/wire-frames.js';
import type { Case, Category } from '../types.js';
import {
  binary,
  binaryFrame,
  closeFrame,
  contFrame,
  fragment,
  fragmentBy,
  pause,
  payload,
  pingFrame,
  pong,
  pongFrame,
  send,
  sendEach,
  text,
  textFrame,
} from './build.js';

const two = [textFrame('fragment1', { fin: false }), contFrame('fragment2')];
const fragWithPing = [textFrame('fragment1', { fin: false }), pingFrame('ping payload'), contFrame('fragment2')];
const contAlone = [contFrame('non-continuation payload'), textFrame('Hello, world!')];
const contNoFin = [contFrame('non-continuation payload', { fin: false }), textFrame('Hello, world!')];
const fiveWithPings = fragment(OP.TEXT, Buffer.from('fragment1fragment2fragment3fragment4fragment5'), [9, 9, 9, 9, 9]);
const oneByteFrags = fragmentBy(OP.TEXT, Buffer.from('fragmented one byte at a time'), 1);
const bigFragCount = fragmentBy(OP.BINARY, payload('binary', 1000), 1);

const cases: Case[] = [
  {
    id: '5.1',
    description: 'ping fragmented into 2 frames → 1002',
    steps: sendEach([pingFrame('fragment1', { fin: false }), contFrame('fragment2')]),
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '5.2',
    description: 'pong fragmented into 2 frames → 1002',
    steps: sendEach([pongFrame('fragment1', { fin: false }), contFrame('fragment2')]),
    outcome: { kind: 'close', codes: [1002] },
  },
  { id: '5.3', description: 'text message in 2 fragments', steps: sendEach(two), outcome: { kind: 'echo', messages: [text('fragment1fragment2')] } },
  { id: '5.4', description: 'text message in 2 fragments, coalesced in one write', steps: [send(two)], outcome: { kind: 'echo', messages: [text('fragment1fragment2')] } },
  { id: '5.5', description: 'text message in 2 fragments, sent one byte at a time', steps: [send(two, { chunk: 1 })], outcome: { kind: 'echo', messages: [text('fragment1fragment2')] } },
  {
    id: '5.6',
    description: 'text message in 2 fragments with a ping in between → pong, then the message',
    steps: sendEach(fragWithPing),
    outcome: { kind: 'echo', messages: [pong('ping payload'), text('fragment1fragment2')] },
  },
  {
    id: '5.7',
    description: 'as 5.6, sent one byte at a time',
    steps: [send(fragWithPing, { chunk: 1 })],
    outcome: { kind: 'echo', messages: [pong('ping payload'), text('fragment1fragment2')] },
  },
  {
    id: '5.8',
    description: 'as 5.6, with 100 ms pauses between the frames',
    steps: [send(fragWithPing[0]!), pause(100), send(fragWithPing[1]!), pause(100), send(fragWithPing[2]!)],
    outcome: { kind: 'echo', messages: [pong('ping payload'), text('fragment1fragment2')] },
  },
  { id: '5.9', description: 'continuation (FIN=1) with no message to continue, then text → 1002', steps: sendEach(contAlone), outcome: { kind: 'close', codes: [1002] } },
  { id: '5.10', description: 'as 5.9, sent one byte at a time', steps: [send(contAlone, { chunk: 1 })], outcome: { kind: 'close', codes: [1002] } },
  { id: '5.11', description: 'as 5.9, with a pause between the frames', steps: [send(contAlone[0]!), pause(100), send(contAlone[1]!)], outcome: { kind: 'close', codes: [1002] } },
  { id: '5.12', description: 'continuation (FIN=0) with no message to continue, then text → 1002', steps: sendEach(contNoFin), outcome: { kind: 'close', codes: [1002] } },
  { id: '5.13', description: 'as 5.12, sent one byte at a time', steps: [send(contNoFin, { chunk: 1 })], outcome: { kind: 'close', codes: [1002] } },
  {
    id: '5.14',
    description: 'complete fragmented message, then a continuation with nothing to continue → echo, close 1002',
    steps: sendEach([...two, contFrame('fragment3', { fin: false }), textFrame('fragment4')]),
    outcome: { kind: 'close', codes: [1002], messages: [text('fragment1fragment2', true)] },
  },
  {
    id: '5.15',
    description: 'new text frame (FIN=1) inside a fragmented text message → 1002',
    steps: sendEach([textFrame('fragment1', { fin: false }), textFrame('fragment2'), contFrame('fragment3')]),
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '5.16',
    description: 'new text frame (FIN=0) inside a fragmented text message → 1002',
    steps: sendEach([textFrame('fragment1', { fin: false }), textFrame('fragment2', { fin: false }), contFrame('fragment3')]),
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '5.17',
    description: 'new binary frame inside a fragmented text message → 1002',
    steps: sendEach([textFrame('fragment1', { fin: false }), binaryFrame(Buffer.from([1, 2])), contFrame('fragment3')]),
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '5.18',
    description: 'new text frame inside a fragmented binary message → 1002',
    steps: sendEach([binaryFrame(Buffer.from([1]), { fin: false }), textFrame('x', { fin: false }), contFrame('y')]),
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '5.19',
    description: 'text in 5 fragments with a ping after each of the first 4, 100 ms pauses → 4 pongs in order, then the message',
    steps: fiveWithPings.flatMap((f, i) => (i < 4 ? [send(f), send(pingFrame(`pong${i + 1}`)), pause(100)] : [send(f)])),
    outcome: { kind: 'echo', messages: [pong('pong1'), pong('pong2'), pong('pong3'), pong('pong4'), text('fragment1fragment2fragment3fragment4fragment5')] },
  },
  {
    id: '5.20',
    description: 'as 5.19, one byte at a time',
    steps: [send(fiveWithPings.flatMap((f, i) => (i < 4 ? [f, pingFrame(`pong${i + 1}`)] : [f])), { chunk: 1 })],
    outcome: { kind: 'echo', messages: [pong('pong1'), pong('pong2'), pong('pong3'), pong('pong4'), text('fragment1fragment2fragment3fragment4fragment5')] },
  },
  {
    id: '5.21',
    description: 'unsolicited pong between fragments is ignored',
    steps: sendEach([textFrame('fragment1', { fin: false }), pongFrame('unsolicited'), contFrame('fragment2')]),
    outcome: { kind: 'echo', messages: [text('fragment1fragment2')] },
  },
  {
    id: '5.22',
    description: 'close between fragments: close 1000 answered, the unfinished message not echoed',
    steps: sendEach([textFrame('fragment1', { fin: false }), closeFrame(1000), contFrame('fragment2')]),
    outcome: { kind: 'close', codes: [1000] },
  },
  {
    id: '5.23',
    description: 'close frame with FIN=0 (fragmented control frame) → 1002',
    steps: sendEach([closeFrame(1000, '', { fin: false }), contFrame('')]),
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '5.24',
    description: 'ping with FIN=0 inside a fragmented text message → 1002',
    steps: sendEach([textFrame('fragment1', { fin: false }), pingFrame('bad', { fin: false }), contFrame('fragment2')]),
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '5.25',
    description: 'text message in fragments of 1 byte',
    steps: sendEach(oneByteFrags),
    outcome: { kind: 'echo', messages: [text('fragmented one byte at a time')] },
  },
  {
    id: '5.26',
    description: 'binary message of 1000 bytes in 1000 fragments of 1 byte, one write',
    steps: [send(bigFragCount)],
    outcome: { kind: 'echo', messages: [binary(payload('binary', 1000))] },
  },
  {
    id: '5.27',
    description: 'text message with an empty first fragment',
    steps: sendEach([textFrame('', { fin: false }), contFrame('middle', { fin: false }), contFrame('end')]),
    outcome: { kind: 'echo', messages: [text('middleend')] },
  },
  {
    id: '5.28',
    description: 'text message with an empty middle fragment',
    steps: sendEach([textFrame('start', { fin: false }), contFrame('', { fin: false }), contFrame('end')]),
    outcome: { kind: 'echo', messages: [text('startend')] },
  },
  {
    id: '5.29',
    description: 'text message with an empty final fragment',
    steps: sendEach([textFrame('start', { fin: false }), contFrame('middle', { fin: false }), contFrame('')]),
    outcome: { kind: 'echo', messages: [text('startmiddle')] },
  },
  {
    id: '5.30',
    description: 'binary message of three empty fragments → empty binary message',
    steps: sendEach([binaryFrame(Buffer.alloc(0), { fin: false }), contFrame('', { fin: false }), contFrame('')]),
    outcome: { kind: 'echo', messages: [binary(Buffer.alloc(0))] },
  },
  {
    id: '5.31',
    description: 'two fragmented messages back to back, text then binary',
    steps: [send([...two, binaryFrame(Buffer.from([1, 2]), { fin: false }), contFrame(Buffer.from([3, 4]))])],
    outcome: { kind: 'echo', messages: [text('fragment1fragment2'), binary(Buffer.from([1, 2, 3, 4]))] },
  },
  {
    id: '5.32',
    description: 'text message whose fragments split a multi-byte UTF-8 character (valid overall)',
    steps: sendEach([textFrame(Buffer.from([0x48, 0xce]), { fin: false }), contFrame(Buffer.from([0xba, 0xe1, 0xbd]), { fin: false }), contFrame(Buffer.from([0xb9, 0x21]))]),
    outcome: { kind: 'echo', messages: [text(Buffer.from([0x48, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0x21]))] },
  },
];

export const fragmentation: Category = { id: '5', name: 'fragmentation', cases };
