/** The fuzz targets of the sans-I/O core, by name (`npm run fuzz -- --target NAME`). */
import type { TargetSpec } from '../campaign.js';

const spec = (name: string, file: string): TargetSpec => ({ name, moduleUrl: new URL(file, import.meta.url).href, exportName: 'fuzzTarget' });

export const TARGETS: readonly TargetSpec[] = [
  spec('frames', './frames.js'),
  spec('request-handshake', './request-handshake.js'),
  spec('response-handshake', './response-handshake.js'),
  spec('extension-negotiation', './extension-negotiation.js'),
  spec('inflate', './inflate.js'),
];
