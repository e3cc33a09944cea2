// Text rendering of results and of bytes, shared by the report, the driver and the node:test suite.
import type { CaseResult } from './runner.js';
import type { SuiteReport } from './suite.js';

/** The first `max` bytes in hex, spaced, with the total length when there are more. */
export function hexPreview(buf: Buffer, max = 48): string {
  const s = buf.subarray(0, max).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return buf.length > max ? `${s} ... (${buf.length} bytes)` : s;
}

export function formatFailure(r: CaseResult): string {
  const lines = [`✗ ${r.target} ${r.id}  ${r.description}`, `    expected: ${r.expected}`, `    seen:     ${r.seen}`];
  for (const p of r.problems) lines.push(`    problem:  ${p}`);
  if (r.frames.length > 0) lines.push(`    frames:   ${r.frames.slice(0, 6).join('\n              ')}`);
  if (r.firstBytesHex !== '') lines.push(`    bytes:    ${r.firstBytesHex}`);
  for (const n of r.notes.slice(0, 4)) lines.push(`    note:     ${n}`);
  return lines.join('\n');
}

export function formatSummary(report: SuiteReport): string {
  const lines: string[] = [];
  for (const t of report.targets) {
    lines.push(`${t.name}: ${t.describe}${t.error !== null ? `  [NOT RUN: ${t.error}]` : ''}`);
  }
  lines.push('');
  const width = Math.max(...report.targets.map((t) => t.name.length));
  for (const c of report.counts) {
    const mark = c.passed === c.total ? ' ' : '✗';
    lines.push(`${mark} ${c.target.padEnd(width)}  ${c.category.padStart(2)} ${c.name.padEnd(20)} ${String(c.passed).padStart(4)}/${c.total}`);
  }
  lines.push('');
  lines.push(`${report.passed} passed, ${report.failed} failed`);
  return lines.join('\n');
}
