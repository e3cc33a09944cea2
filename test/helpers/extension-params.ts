/** Sec-WebSocket-Extensions values compared as sets of parameters, so that parameter order does not matter. */
import assert from 'node:assert/strict';
import { parseExtensionHeader } from '../../src/protocol/index.js';

/** Parameters of one extension element, order-insensitive, for exact comparisons of headers. */
export function paramSet(value: string | undefined | null): string[] | null {
  if (value === undefined || value === null) return null;
  const elements = parseExtensionHeader(value);
  assert.equal(elements.length, 1, `exactly one extension element expected in "${value}"`);
  const [element] = elements;
  return [element!.name, ...element!.params.map(([n, v]) => (v === true ? n : `${n}=${v}`)).sort()];
}
