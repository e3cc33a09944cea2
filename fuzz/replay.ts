/** Running saved inputs through a target in this process, with stack traces: how a finding is reproduced and debugged. */
import { readFileSync } from 'node:fs';
import type { TargetSpec } from './campaign.js';
import type { FuzzTarget } from './target.js';

/** The failure of each input (its stack), or null when it keeps every invariant. */
export async function replayInputs(spec: TargetSpec, paths: readonly string[]): Promise<Array<{ path: string; failure: string | null }>> {
  const target = ((await import(spec.moduleUrl)) as Record<string, FuzzTarget>)[spec.exportName];
  if (target === undefined) throw new Error(`${spec.moduleUrl} has no export ${spec.exportName}`);
  const results: Array<{ path: string; failure: string | null }> = [];
  for (const path of paths) {
    try {
      await target.run(readFileSync(path));
      results.push({ path, failure: null });
    } catch (error) {
      results.push({ path, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  }
  return results;
}
