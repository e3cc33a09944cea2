// Category 9: limits and performance (Autobahn 9.*). Large messages must be echoed intact within a generous
// bound: whole, split into fragments of 64 B to 4 MiB, delivered in small TCP chunks, and as many small
// messages in a row.
import { OP } from '../../helpers/wire-frames.js';
import type { Case, Category } from '../types.js';
import { binary, binaryFrame, fragmentBy, payload, send, text, textFrame } from './build.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const WHOLE = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB];
const FRAGMENTS = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
const CHUNKS = [64, 128, 256, 512, 1024, 2048];
const MANY = [0, 16, 64, 256, 1024, 4096];

const size = (n: number): string => (n >= MiB ? `${n / MiB} MiB` : n >= KiB ? `${n / KiB} KiB` : `${n} B`);
/** Weight for the scheduler: the bigger, the fewer at once. */
const weight = (n: number): number => (n >= 4 * MiB ? 8 : n >= MiB ? 4 : 2);
const timeout = (n: number): number => Math.max(10_000, Math.ceil(n / MiB) * 4000);

function kindCases(kind: 'text' | 'binary', base: { whole: string; frag: string; chunk: string; many: string }): Case[] {
  const frame = kind === 'text' ? textFrame : binaryFrame;
  const item = kind === 'text' ? text : binary;
  const opcode = kind === 'text' ? OP.TEXT : OP.BINARY;
  const cases: Case[] = [];
  WHOLE.forEach((n, i) =>
    cases.push({
      id: `${base.whole}.${i + 1}`,
      description: `${kind} message of ${size(n)} in one frame`,
      steps: [send(frame(payload(kind, n)))],
      outcome: { kind: 'echo', messages: [item(payload(kind, n))] },
      timeoutMs: timeout(n),
      weight: weight(n),
    }),
  );
  FRAGMENTS.forEach((f, i) =>
    cases.push({
      id: `${base.frag}.${i + 1}`,
      description: `${kind} message of 4 MiB in fragments of ${size(f)}`,
      steps: [send(fragmentBy(opcode, payload(kind, 4 * MiB), f))],
      outcome: { kind: 'echo', messages: [item(payload(kind, 4 * MiB))] },
      timeoutMs: timeout(4 * MiB) + (f < KiB ? 10_000 : 0),
      weight: weight(4 * MiB),
    }),
  );
  CHUNKS.forEach((c, i) =>
    cases.push({
      id: `${base.chunk}.${i + 1}`,
      description: `${kind} message of 1 MiB in one frame, sent in TCP chunks of ${c} bytes`,
      steps: [send(frame(payload(kind, MiB)), { chunk: c })],
      outcome: { kind: 'echo', messages: [item(payload(kind, MiB))] },
      timeoutMs: 30_000,
      weight: weight(MiB),
    }),
  );
  MANY.forEach((n, i) =>
    cases.push({
      id: `${base.many}.${i + 1}`,
      description: `1000 ${kind} messages of ${size(n)} in a row, one write`,
      steps: [send(Array.from({ length: 1000 }, () => frame(payload(kind, n))))],
      outcome: { kind: 'echo', messages: Array.from({ length: 1000 }, () => item(payload(kind, n))) },
      timeoutMs: 20_000,
      weight: 2,
    }),
  );
  return cases;
}

export const limits: Category = {
  id: '9',
  name: 'limits',
  cases: [
    ...kindCases('text', { whole: '9.1', frag: '9.3', chunk: '9.5', many: '9.7' }),
    ...kindCases('binary', { whole: '9.2', frag: '9.4', chunk: '9.6', many: '9.8' }),
    {
      id: '9.9.1',
      description: 'text message of 16 MiB in one frame, sent in TCP chunks of 64 KiB',
      steps: [send(textFrame(payload('text', 16 * MiB)), { chunk: 64 * KiB })],
      outcome: { kind: 'echo', messages: [text(payload('text', 16 * MiB))] },
      timeoutMs: timeout(16 * MiB),
      weight: 8,
    },
    {
      id: '9.9.2',
      description: 'binary message of 16 MiB in fragments of 64 KiB, sent in TCP chunks of 4000 bytes',
      steps: [send(fragmentBy(OP.BINARY, payload('binary', 16 * MiB), 64 * KiB), { chunk: 4000 })],
      outcome: { kind: 'echo', messages: [binary(payload('binary', 16 * MiB))] },
      timeoutMs: timeout(16 * MiB),
      weight: 8,
    },
  ],
};
