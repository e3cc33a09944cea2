// All case categories, in Autobahn order. To add a category, write a table like the others and list it here.
import type { Case, Category } from '../types.js';
import { autoFragmentation } from './auto-fragmentation.js';
import { close } from './close.js';
import { compression, compressionParameters } from './compression.js';
import { fragmentation } from './fragmentation.js';
import { framing } from './framing.js';
import { limits } from './limits.js';
import { opcodes } from './opcodes.js';
import { pingPong } from './ping-pong.js';
import { reservedBits } from './reserved-bits.js';
import { utf8 } from './utf8.js';

export const CATEGORIES: Category[] = [
  framing,
  pingPong,
  reservedBits,
  opcodes,
  fragmentation,
  utf8,
  close,
  limits,
  autoFragmentation,
  compression,
  compressionParameters,
];

/** Checks the tables: unique ids, each within its category. Throws on a mistake in a table. */
export function checkTables(categories: Category[] = CATEGORIES): void {
  const seen = new Set<string>();
  for (const cat of categories) {
    for (const c of cat.cases) {
      if (seen.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
      seen.add(c.id);
      if (!c.id.startsWith(`${cat.id}.`)) throw new Error(`case ${c.id} is not in category ${cat.id}`);
    }
  }
}

/** Cases whose id equals or starts with one of the comma-separated prefixes (e.g. "6.4,7.9.1"); all when empty. */
export function selectCases(spec: string | undefined): { category: Category; kase: Case }[] {
  const prefixes = (spec ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const out: { category: Category; kase: Case }[] = [];
  for (const category of CATEGORIES) {
    for (const kase of category.cases) {
      if (prefixes.length === 0 || prefixes.some((p) => kase.id === p || kase.id.startsWith(p.endsWith('.') ? p : `${p}.`))) out.push({ category, kase });
    }
  }
  return out;
}
