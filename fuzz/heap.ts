/**
 * The heap as the retention checks see it: a full garbage collection, then the bytes still used.
 * `gc` is V8's, made available without a command-line flag so tests and workers can call it.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
// A new context sees the flag; the function it gets collects the whole isolate's heap.
const collect = runInNewContext('gc') as () => void;

/** Bytes of V8 heap in use after a full collection, plus the ArrayBuffers it keeps alive. */
export function retainedBytes(): number {
  collect();
  collect();
  const heap = getHeapStatistics();
  return heap.used_heap_size + heap.external_memory;
}
