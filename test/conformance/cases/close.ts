// Category 7: the closing handshake (Autobahn 7.*). RFC 6455 §5.5.1 and §7.4: a close payload is empty or a
// 2-byte code plus a UTF-8 reason, at most 125 bytes; only some codes may be sent. wsforge echoes the peer's
// code (1000 when the peer's close had no payload); an invalid code or a 1-byte payload is a protocol error
// (1002); an invalid reason is invalid UTF-8 (1007). After a close nothing more is answered.
import type { Case, Category } from '../types.js';
import { closeFrame, contFrame, pause, payload, pingFrame, pong, rawCloseFrame, send, text, textFrame } from './build.js';
import { hexBytes } from '../../helpers/hex-bytes.js';

const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

const cases: Case[] = [
  {
    id: '7.1.1',
    description: 'text message, then close 1000 → echo, then close 1000',
    steps: [send(textFrame('Hello World!'))],
    outcome: { kind: 'echo', messages: [text('Hello World!')] },
  },
  {
    id: '7.1.2',
    description: 'close 1000 twice (close after close) → close 1000, then TCP closed',
    steps: [send(closeFrame(1000)), send(closeFrame(1000))],
    outcome: { kind: 'close', codes: [1000] },
  },
  {
    id: '7.1.3',
    description: 'ping after close is not answered',
    steps: [send(closeFrame(1000)), send(pingFrame('Hello World!'))],
    outcome: { kind: 'close', codes: [1000] },
  },
  {
    id: '7.1.4',
    description: 'text message after close is not echoed',
    steps: [send(closeFrame(1000)), send(textFrame('Hello World!'))],
    outcome: { kind: 'close', codes: [1000] },
  },
  {
    id: '7.1.5',
    description: 'first fragment, close, last fragment → close 1000, the message is not echoed',
    steps: [send(textFrame('fragment1', { fin: false })), send(closeFrame(1000)), send(contFrame('fragment2'))],
    outcome: { kind: 'close', codes: [1000] },
  },
  {
    id: '7.1.6',
    description: '256 KiB text, close, ping, coalesced in one write → echo (optional), close 1000, no pong',
    steps: [send([textFrame(payload('text', 262144)), closeFrame(1000), pingFrame('Hello World!')])],
    outcome: { kind: 'close', codes: [1000], messages: [text(payload('text', 262144), true)] },
  },
  {
    id: '7.1.7',
    description: 'close 1000 and a text message coalesced in one write: the text is not echoed',
    steps: [send([closeFrame(1000), textFrame('after close')])],
    outcome: { kind: 'close', codes: [1000] },
  },
  // 7.3 close payload lengths
  { id: '7.3.1', description: 'close without payload → close 1000', steps: [send(closeFrame(null))], outcome: { kind: 'close', codes: [1000] } },
  { id: '7.3.2', description: 'close with a 1-byte payload → 1002', steps: [send(rawCloseFrame(hexBytes('03')))], outcome: { kind: 'close', codes: [1002] } },
  { id: '7.3.3', description: 'close 1000 with an empty reason → close 1000', steps: [send(closeFrame(1000, ''))], outcome: { kind: 'close', codes: [1000] } },
  { id: '7.3.4', description: 'close 1000 with reason "Hello World!" → close 1000', steps: [send(closeFrame(1000, 'Hello World!'))], outcome: { kind: 'close', codes: [1000] } },
  {
    id: '7.3.5',
    description: 'close 1000 with a reason of 123 bytes (payload 125) → close 1000',
    steps: [send(closeFrame(1000, payload('text', 123)))],
    outcome: { kind: 'close', codes: [1000] },
  },
  {
    id: '7.3.6',
    description: 'close 1000 with a reason of 124 bytes (payload 126: control frame too long) → 1002',
    steps: [send(closeFrame(1000, payload('text', 124)))],
    outcome: { kind: 'close', codes: [1002] },
  },
  {
    id: '7.3.7',
    description: 'close with a 2-byte reason of multi-byte UTF-8 "µ" → close 1000',
    steps: [send(closeFrame(1000, 'µ'))],
    outcome: { kind: 'close', codes: [1000] },
  },
  {
    id: '7.3.8',
    description: 'close 1000 sent one byte at a time → close 1000',
    steps: [send(closeFrame(1000, 'bytewise'), { chunk: 1 })],
    outcome: { kind: 'close', codes: [1000] },
  },
  // 7.5 invalid UTF-8 in the reason
  {
    id: '7.5.1',
    description: 'close 1000 with an invalid UTF-8 reason (κόσμε-edited with a surrogate) → 1007',
    steps: [send(closeFrame(1000, hexBytes('cebae1bdb9cf83cebcceb5eda080656469746564')))],
    outcome: { kind: 'close', codes: [1007] },
  },
  {
    id: '7.5.2',
    description: 'close 1000 with a reason ending in a truncated sequence (E2 82) → 1007',
    steps: [send(closeFrame(1000, hexBytes('616263e282')))],
    outcome: { kind: 'close', codes: [1007] },
  },
  {
    id: '7.5.3',
    description: 'close 1000 with an overlong reason byte pair (C0 AF) → 1007',
    steps: [send(closeFrame(1000, hexBytes('c0af')))],
    outcome: { kind: 'close', codes: [1007] },
  },
];

// 7.11 the TCP connection ends without a closing handshake (RFC 6455 §7.1.5: abnormal closure, 1006, which
// is never sent): the peer must close its side too; a close frame is allowed but not required.
const halfway = textFrame(payload('text', 1000));
cases.push(
  {
    id: '7.11.1',
    description: 'TCP FIN after a complete message, no close frame → the peer closes TCP (the echo may come first)',
    steps: [send(textFrame('before FIN')), pause(100), { endTcp: true }],
    outcome: { kind: 'dropped', closeFrame: 'optional', messages: [text('before FIN', true)] },
  },
  {
    id: '7.11.2',
    description: 'TCP FIN in the middle of a frame → the peer closes TCP',
    steps: [send(halfway, { range: [0, 500], rangeIn: 'payload' }), pause(100), { endTcp: true }],
    outcome: { kind: 'dropped', closeFrame: 'optional' },
  },
  {
    id: '7.11.3',
    description: 'TCP FIN right after a ping → the peer closes TCP (the pong may come first)',
    steps: [send(pingFrame('last words')), { endTcp: true }],
    outcome: { kind: 'dropped', closeFrame: 'optional', messages: [{ ...pong('last words'), optional: true }] },
  },
);

// 7.7 valid codes are echoed back
VALID.forEach((code, i) => {
  cases.push({
    id: `7.7.${i + 1}`,
    description: `close with valid code ${code} → close ${code} echoed`,
    steps: [send(closeFrame(code, 'reason'))],
    outcome: { kind: 'close', codes: [code] },
  });
});

// 7.9 invalid codes are protocol errors
INVALID.forEach((code, i) => {
  cases.push({
    id: `7.9.${i + 1}`,
    description: `close with invalid code ${code} → 1002`,
    steps: [send(closeFrame(code))],
    outcome: { kind: 'close', codes: [1002] },
  });
});

export const close: Category = { id: '7', name: 'close handling', cases };
