// Category 4: reserved opcodes (Autobahn 4.*). RFC 6455 §5.2: opcodes 0x3-0x7 (data) and 0xB-0xF (control)
// are reserved; receiving one MUST fail the connection (wsforge: close 1002).
import type { Case, Category } from '../types.js';
import { pingFrame, send, text, textFrame } from './build.js';

const DATA = [3, 4, 5, 6, 7];
const CONTROL = [11, 12, 13, 14, 15];

function group(prefix: string, ops: number[], kind: string): Case[] {
  const cases: Case[] = [];
  ops.forEach((op, i) => {
    cases.push({
      id: `${prefix}.${i + 1}`,
      description: `frame with reserved ${kind} opcode ${op}, empty payload → 1002`,
      steps: [send({ opcode: op })],
      outcome: { kind: 'close', codes: [1002] },
    });
  });
  return cases;
}

function surrounded(prefix: string, ops: number[], kind: string, chunk?: number): Case[] {
  return ops.map((op, i) => ({
    id: `${prefix}.${i + 1}`,
    description: `valid text, reserved ${kind} opcode ${op} with payload, ping${chunk ? `, one byte at a time` : ''} → optional echo, close 1002, no pong`,
    steps: chunk
      ? [send([textFrame('valid before'), { opcode: op, payload: 'reserved opcode payload' }, pingFrame('after')], { chunk })]
      : [send(textFrame('valid before')), send({ opcode: op, payload: 'reserved opcode payload' }), send(pingFrame('after'))],
    outcome: { kind: 'close', codes: [1002], messages: [text('valid before', true)] },
  }));
}

export const opcodes: Category = {
  id: '4',
  name: 'reserved opcodes',
  cases: [
    ...group('4.1', DATA, 'data'),
    ...group('4.2', CONTROL, 'control'),
    ...surrounded('4.3', DATA, 'data'),
    ...surrounded('4.4', CONTROL, 'control'),
    ...surrounded('4.5', [3, 15], 'data/control', 1),
  ],
};
