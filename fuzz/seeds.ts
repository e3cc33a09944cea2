/**
 * `npm run fuzz:seeds`: write the committed seed corpus, fuzz/corpus/<target>/<name>, from the
 * cases below: short, valid or nearly valid inputs that reach each part of a target, which the
 * mutations then take apart. Frames are encoded by the tests' own encoder
 * (test/helpers/wire-frames.ts), not by the library.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUZZ_ROOT } from './corpus.js';
import { frameSeeds } from './seeds/frame-seeds.js';
import { extensionSeeds } from './seeds/extension-seeds.js';
import { requestSeeds, responseSeeds } from './seeds/handshake-seeds.js';
import { inflateSeeds } from './seeds/inflate-seeds.js';

const seedsByTarget: Record<string, Record<string, Buffer>> = {
  frames: frameSeeds(),
  'request-handshake': requestSeeds(),
  'response-handshake': responseSeeds(),
  'extension-negotiation': extensionSeeds(),
  inflate: inflateSeeds(),
};

for (const [target, seeds] of Object.entries(seedsByTarget)) {
  const folder = join(FUZZ_ROOT, 'corpus', target);
  mkdirSync(folder, { recursive: true });
  for (const name of readdirSync(folder)) rmSync(join(folder, name));
  for (const [name, bytes] of Object.entries(seeds)) writeFileSync(join(folder, name), bytes);
  console.log(`${target}: ${Object.keys(seeds).length} seeds`);
}
