// Category 10: auto-fragmentation (Autobahn 10.1.1): a message sent as many frames of a fixed size, as a
// peer with an auto-fragment size would, must be reassembled and echoed.
import { OP } from '../../helpers/wire-frames.js';
import type { Category } from '../types.js';
import { binary, fragmentBy, payload, send, sendEach, text } from './build.js';

export const autoFragmentation: Category = {
  id: '10',
  name: 'auto-fragmentation',
  cases: [
    {
      id: '10.1.1',
      description: 'text message of 64 KiB sent in frames of 1300 bytes, one write per frame',
      steps: sendEach(fragmentBy(OP.TEXT, payload('text', 65536), 1300)),
      outcome: { kind: 'echo', messages: [text(payload('text', 65536))] },
      timeoutMs: 10_000,
    },
    {
      id: '10.1.2',
      description: 'binary message of 64 KiB sent in frames of 1300 bytes, one write per frame',
      steps: sendEach(fragmentBy(OP.BINARY, payload('binary', 65536), 1300)),
      outcome: { kind: 'echo', messages: [binary(payload('binary', 65536))] },
      timeoutMs: 10_000,
    },
    {
      id: '10.1.3',
      description: 'text message of 64 KiB in frames of 1300 bytes, all coalesced, delivered in TCP chunks of 1300',
      steps: [send(fragmentBy(OP.TEXT, payload('text', 65536), 1300), { chunk: 1300 })],
      outcome: { kind: 'echo', messages: [text(payload('text', 65536))] },
      timeoutMs: 10_000,
    },
    {
      id: '10.1.4',
      description: 'two messages of 64 KiB in frames of 1300 bytes, back to back (text, binary)',
      steps: [send([...fragmentBy(OP.TEXT, payload('text', 65536), 1300), ...fragmentBy(OP.BINARY, payload('binary', 65536), 1300)])],
      outcome: { kind: 'echo', messages: [text(payload('text', 65536)), binary(payload('binary', 65536))] },
      timeoutMs: 10_000,
    },
  ],
};
