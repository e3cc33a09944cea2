/**
 * node:http2, loaded when first used: loading it costs a process about 12 ms and 0.8 MiB of heap,
 * which servers and clients that never speak HTTP/2 should not pay.
 */
import type * as Http2 from 'node:http2';
import { createRequire } from 'node:module';

let http2: typeof Http2 | null = null;

export function loadHttp2(): typeof Http2 {
  return (http2 ??= createRequire(import.meta.url)('node:http2') as typeof Http2);
}
