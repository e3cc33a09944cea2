// Category 2: pings and pongs (Autobahn 2.*). RFC 6455 §5.5.2/§5.5.3: a ping is answered by a pong with the
// same payload; an unsolicited pong is ignored; control payloads are at most 125 bytes.
import type { Case, Category } from '../types.js';
import { closeFrame, pause, payload, pingFrame, pong, pongFrame, send, sendEach, text, textFrame } from './build.js';

const bin8 = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
const tenPings = Array.from({ length: 10 }, (_, i) => pingFrame(`payload-${i}`));
const allLengths = Array.from({ length: 126 }, (_, n) => payload('binary', n));

const cases: Case[] = [
  { id: '2.1', description: 'ping without payload → pong without payload', steps: [send(pingFrame())], outcome: { kind: 'echo', messages: [pong()] } },
  { id: '2.2', description: 'ping with a small text payload', steps: [send(pingFrame('Hello, world!'))], outcome: { kind: 'echo', messages: [pong('Hello, world!')] } },
  { id: '2.3', description: 'ping with a small binary payload (non-UTF-8 bytes)', steps: [send(pingFrame(bin8))], outcome: { kind: 'echo', messages: [pong(bin8)] } },
  { id: '2.4', description: 'ping with a binary payload of 125 bytes', steps: [send(pingFrame(payload('binary', 125)))], outcome: { kind: 'echo', messages: [pong(payload('binary', 125))] } },
  {
    id: '2.5',
    description: 'ping with a payload of 126 bytes (control frame too long) → 1002',
    steps: [send(pingFrame(payload('binary', 126)))],
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '2.6',
    description: 'ping with a payload of 125 bytes, sent one byte at a time',
    steps: [send(pingFrame(payload('binary', 125)), { chunk: 1 })],
    outcome: { kind: 'echo', messages: [pong(payload('binary', 125))] },
  },
  {
    id: '2.7',
    description: 'unsolicited pong without payload is ignored (the next echo arrives, nothing else)',
    steps: [send(pongFrame()), send(textFrame('after pong'))],
    outcome: { kind: 'echo', messages: [text('after pong')] },
  },
  {
    id: '2.8',
    description: 'unsolicited pong with payload is ignored',
    steps: [send(pongFrame('unsolicited pong payload')), send(textFrame('after pong'))],
    outcome: { kind: 'echo', messages: [text('after pong')] },
  },
  {
    id: '2.9',
    description: 'unsolicited pong, then ping → only the ping is answered',
    steps: [send(pongFrame('unsolicited pong payload')), send(pingFrame('ping payload'))],
    outcome: { kind: 'echo', messages: [pong('ping payload')] },
  },
  {
    id: '2.10',
    description: '10 pings in a row → 10 pongs with the same payloads, in order',
    steps: sendEach(tenPings),
    outcome: { kind: 'echo', messages: tenPings.map((_, i) => pong(`payload-${i}`)) },
  },
  {
    id: '2.11',
    description: '10 pings in a row, sent one byte at a time → 10 pongs in order',
    steps: [send(tenPings, { chunk: 1 })],
    outcome: { kind: 'echo', messages: tenPings.map((_, i) => pong(`payload-${i}`)) },
  },
  {
    id: '2.12',
    description: 'pings with payloads of every length 0..125, coalesced in one write → pongs in order',
    steps: [send(allLengths.map((p) => pingFrame(p)))],
    outcome: { kind: 'echo', messages: allLengths.map((p) => pong(p)) },
  },
  {
    id: '2.13',
    description: 'ping after our close is not answered',
    steps: [send(closeFrame(1000)), send(pingFrame('after close'))],
    outcome: { kind: 'close', codes: [1000] },
  },
  {
    id: '2.14',
    description: 'unsolicited pong with a payload of 126 bytes (control frame too long) → 1002',
    steps: [send(pongFrame(payload('binary', 126)))],
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '2.15',
    description: 'ping of 126 bytes after a valid message → optional echo, close 1002, no pong',
    steps: [send(textFrame('before')), send(pingFrame(payload('binary', 126)))],
    outcome: { kind: 'close', codes: [1002], messages: [text('before', true)] },
  },
  {
    id: '2.16',
    description: 'ping, 100 ms pause, ping: both answered in order',
    steps: [send(pingFrame('first')), pause(100), send(pingFrame('second'))],
    outcome: { kind: 'echo', messages: [pong('first'), pong('second')] },
  },
  {
    id: '2.17',
    description: 'unsolicited pongs of 0 and 125 bytes between two messages are ignored',
    steps: [send(textFrame('one')), send(pongFrame()), send(pongFrame(payload('binary', 125))), send(textFrame('two'))],
    outcome: { kind: 'echo', messages: [text('one'), text('two')] },
  },
  {
    id: '2.18',
    description: 'ping and text coalesced in one write → pong then echo',
    steps: [send([pingFrame('p'), textFrame('t')])],
    outcome: { kind: 'echo', messages: [pong('p'), text('t')] },
  },
];

export const pingPong: Category = { id: '2', name: 'pings and pongs', cases };
