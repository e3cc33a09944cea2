// Runs one case against one target and judges the outcome. Every wait is bounded by the case's timeout;
// every socket is destroyed at the end of the case, pass or fail.
import { closeFrame } from './cases/build.js';
import { hexPreview } from './format.js';
import type { TargetSession } from './targets.js';
import type { Case, ExpectedItem, Outcome, Step } from './types.js';
import type { ReceivedEvent, Wire } from './wire.js';

export const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_FAIL_FAST_WAIT_MS = 2000;

export interface CaseResult {
  id: string;
  category: string;
  description: string;
  target: string;
  side: 'server' | 'client';
  passed: boolean;
  expected: string;
  seen: string;
  problems: string[];
  durationMs: number;
  /** Frames received (first ones, with their first bytes), first bytes received, target notes. */
  frames: string[];
  firstBytesHex: string;
  notes: string[];
}

// ------------------------------------------------------------------------------------------------ formatting

function printable(data: Buffer, max = 40): string {
  const s = data.subarray(0, max).toString('utf8');
  // Show text when it is plain, bytes otherwise.
  if (/^[\x20-\x7e]*$/.test(s)) return JSON.stringify(data.length > max ? `${s}...` : s);
  return `<${hexPreview(data, Math.min(max, 24))}>`;
}

export function describeItem(i: { type?: string; kind?: string; data: Buffer }): string {
  const t = i.type ?? i.kind;
  return `${t}(${i.data.length}) ${printable(i.data)}`;
}

function describeItems(items: ExpectedItem[]): string {
  if (items.length === 0) return 'nothing';
  if (items.length > 6) {
    const head = items.slice(0, 3).map((i) => describeItem(i) + (i.optional ? '?' : ''));
    return `${items.length} items: ${head.join(', ')}, ...`;
  }
  return items.map((i) => describeItem(i) + (i.optional ? ' (optional)' : '')).join(', ');
}

const codeList = (codes: (number | null)[]): string => codes.map((c) => (c === null ? 'no-code' : String(c))).join('|');

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'echo':
      return `echo of ${describeItems(o.messages)}${o.compressedFrom !== undefined ? ` (those of ${o.compressedFrom} bytes or more compressed)` : ''}, then close 1000 answered with close 1000`;
    case 'close':
      return `${o.messages?.length ? `${describeItems(o.messages)}, then ` : ''}close ${codeList(o.codes)}, then TCP closed`;
    case 'failFast':
      return `${o.messages?.length ? `${describeItems(o.messages)}, then ` : ''}close ${codeList(o.codes)} within ${o.waitMs ?? DEFAULT_FAIL_FAST_WAIT_MS} ms, before the rest of the message is sent`;
    case 'dropped':
      return `TCP closed${o.closeFrame === 'required' ? ` after close ${o.codes ? codeList(o.codes) : ''}` : o.closeFrame === 'forbidden' ? ' without a close frame' : ''}`;
  }
}

function describeEvent(e: ReceivedEvent): string {
  if (e.kind === 'close') {
    const code = e.code === null ? `no code${e.payload.length ? ` <${hexPreview(e.payload)}>` : ''}` : String(e.code);
    return `close ${code}${e.reason.length ? ` ${printable(e.reason, 60)}` : ''} @${e.at}ms`;
  }
  return `${describeItem(e)} @${e.at}ms`;
}

function describeSeen(w: Wire): string {
  const ev = w.events.filter((e) => e.kind !== 'ping');
  let parts: string[];
  if (ev.length > 8) parts = [...ev.slice(0, 4).map(describeEvent), `... ${ev.length - 6} more ...`, ...ev.slice(-2).map(describeEvent)];
  else parts = ev.map(describeEvent);
  if (parts.length === 0) parts.push('nothing');
  const tcp = w.peerEnded ? 'TCP closed by peer (FIN)' : w.socketErrors.includes('ECONNRESET') ? 'TCP reset by peer' : w.closed && !w.destroyedByUs ? 'TCP closed' : 'TCP still open';
  return `${parts.join(', ')}; ${tcp}`;
}

// ------------------------------------------------------------------------------------------------ matching

function sameItem(e: ReceivedEvent, x: ExpectedItem): boolean {
  return e.kind === x.type && 'data' in e && e.data.equals(x.data);
}

/** Matches received replies against the expected list, optional items may be missing. */
export function matchItems(got: ReceivedEvent[], exp: ExpectedItem[]): boolean {
  // Memoised on (i, j) so that optional items cannot make this exponential.
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    if (j === exp.length) return i === got.length;
    const key = i * (exp.length + 1) + j;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    const x = exp[j]!;
    let r = i < got.length && sameItem(got[i]!, x) && go(i + 1, j + 1);
    if (!r && x.optional) r = go(i, j + 1);
    memo.set(key, r);
    return r;
  };
  // Required items, matched without recursion when there is no optional one (large cases have thousands).
  if (!exp.some((x) => x.optional)) return got.length === exp.length && got.every((e, k) => sameItem(e, exp[k]!));
  return go(0, 0);
}

function firstMismatch(got: ReceivedEvent[], exp: ExpectedItem[]): string {
  const req = exp.filter((x) => !x.optional);
  for (let k = 0; k < Math.max(got.length, exp.length); k++) {
    const g = got[k];
    const x = exp[k];
    if (g === undefined) return `missing item #${k + 1}: expected ${x ? describeItem(x) : '?'}`;
    if (x === undefined) return `unexpected item #${k + 1}: ${describeEvent(g)}`;
    if (!sameItem(g, x)) {
      let detail = '';
      if ('data' in g && g.kind === x.type) {
        let d = 0;
        while (d < g.data.length && d < x.data.length && g.data[d] === x.data[d]) d++;
        detail = ` (lengths ${g.data.length} vs ${x.data.length}, first difference at byte ${d}: got <${hexPreview(g.data.subarray(d, d + 8))}> expected <${hexPreview(x.data.subarray(d, d + 8))}>)`;
      }
      return `item #${k + 1}: got ${describeEvent(g)}, expected ${describeItem(x)}${detail}${req.length !== exp.length ? ' (some items are optional)' : ''}`;
    }
  }
  return 'items differ';
}

// ------------------------------------------------------------------------------------------------ judging

function stepsPauseMs(steps: Step[]): number {
  let ms = 0;
  for (const s of steps) {
    if ('pause' in s) ms += s.pause;
    else if ('chunkDelayMs' in s && s.chunkDelayMs) ms += s.chunkDelayMs * 64; // rough; only bounds the guard timer
  }
  return ms;
}

/** After a close frame arrived (or was sent): finish the closing handshake the way the driver's role must. */
async function finishClose(w: Wire, side: 'server' | 'client', timeoutMs: number, problems: string[]): Promise<void> {
  const ev = w.closeEvent;
  if (ev !== null && !w.sentClose) {
    // RFC 6455 §5.5.1: answer a close with a close, echoing the code.
    w.sendFrame(closeFrame(ev.code !== null && ev.code >= 1000 && ev.code < 5000 ? ev.code : null));
  }
  if (side === 'server') {
    // RFC 6455 §7.1.1: the server closes the TCP connection first.
    const ok = await w.waitFor(() => w.peerClosedTcp, timeoutMs);
    if (!ok) problems.push(`the server did not close the TCP connection within ${timeoutMs} ms after the close frames`);
  } else {
    // The fuzzing server closes TCP itself, then gives the client a moment to close its end.
    w.end();
    await w.waitFor(() => w.closed || w.peerClosedTcp, 1000);
  }
}

async function judge(w: Wire, kase: Case, side: 'server' | 'client'): Promise<string[]> {
  const T = kase.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const o = kase.outcome;
  const problems: string[] = [];
  const closedOrGone = (): boolean => w.closeEvent !== null || w.peerClosedTcp;
  await w.run(kase.steps, T);

  const checkCode = (codes: (number | null)[]): void => {
    const ev = w.closeEvent!;
    if (!codes.includes(ev.code)) problems.push(`close code ${ev.code === null ? 'none (empty close payload)' : ev.code}, expected ${codeList(codes)}`);
  };
  const checkItems = (exp: ExpectedItem[]): void => {
    if (!matchItems(w.replies, exp)) problems.push(firstMismatch(w.replies, exp));
  };

  switch (o.kind) {
    case 'echo': {
      const want = o.messages.length;
      const ok = await w.waitFor(() => w.replies.length >= want || closedOrGone(), T);
      if (w.closeEvent !== null) problems.push(`the peer closed (${describeEvent(w.closeEvent)}) instead of echoing`);
      else if (w.peerClosedTcp) problems.push('the peer closed TCP instead of echoing');
      else if (!ok) problems.push(`only ${w.replies.length} of ${want} expected replies within ${T} ms`);
      if (!closedOrGone()) {
        w.sendFrame(closeFrame(1000));
        const answered = await w.waitFor(closedOrGone, T);
        if (w.closeEvent === null) problems.push(answered ? 'TCP closed without a close frame answering our close 1000' : `no close frame answering our close 1000 within ${T} ms`);
        else checkCode([1000]);
      }
      if (w.closeEvent !== null || w.sentClose) await finishClose(w, side, T, problems);
      checkItems(o.messages);
      if (o.compressedFrom !== undefined) {
        const min = o.compressedFrom;
        const plain = w.replies.filter((e) => (e.kind === 'text' || e.kind === 'binary') && e.data.length >= min && e.compressed !== true);
        if (plain.length > 0)
          problems.push(`${plain.length} echoed message(s) of ${min} bytes or more arrived uncompressed (RSV1 clear), first: ${describeEvent(plain[0]!)}; the case expects the peer to compress them`);
      }
      break;
    }
    case 'close': {
      const ok = await w.waitFor(closedOrGone, T);
      if (!ok) problems.push(`no close frame within ${T} ms`);
      else if (w.closeEvent === null) problems.push('TCP closed without a close frame');
      else {
        checkCode(o.codes);
        await finishClose(w, side, T, problems);
      }
      checkItems(o.messages ?? []);
      break;
    }
    case 'failFast': {
      const waitMs = o.waitMs ?? DEFAULT_FAIL_FAST_WAIT_MS;
      const early = await w.waitFor(closedOrGone, waitMs);
      if (!early) {
        problems.push(`no close within ${waitMs} ms of the invalid data: the peer did not fail fast, so the rest of the message was sent`);
        await w.run(o.rest, T);
        await w.waitFor(closedOrGone, T);
      }
      if (w.closeEvent === null) problems.push(w.peerClosedTcp ? 'TCP closed without a close frame' : `no close frame at all (waited ${waitMs} + ${T} ms)`);
      else {
        checkCode(o.codes);
        await finishClose(w, side, T, problems);
      }
      checkItems(o.messages ?? []);
      break;
    }
    case 'dropped': {
      const ok = await w.waitFor(() => w.peerClosedTcp, T);
      if (!ok) problems.push(`TCP not closed by the peer within ${T} ms`);
      const ev = w.closeEvent;
      if (o.closeFrame === 'required' && ev === null) problems.push('no close frame before the TCP close');
      if (o.closeFrame === 'forbidden' && ev !== null) problems.push(`a close frame arrived (${describeEvent(ev)}), expected none`);
      if (ev !== null && o.codes !== undefined) checkCode(o.codes);
      checkItems(o.messages ?? []);
      break;
    }
  }
  for (const v of w.violations) problems.push(`protocol violation by the peer: ${v}`);
  return problems;
}

export async function runCase(target: TargetSession, kase: Case, category: string): Promise<CaseResult> {
  const T = kase.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = Date.now();
  const result: CaseResult = {
    id: kase.id,
    category,
    description: kase.description,
    target: target.name,
    side: target.side,
    passed: false,
    expected: describeOutcome(kase.outcome),
    seen: '',
    problems: [],
    durationMs: 0,
    frames: [],
    firstBytesHex: '',
    notes: [],
  };
  let opened: Awaited<ReturnType<TargetSession['open']>> | null = null;
  let guard: NodeJS.Timeout | undefined;
  // A guard far above the sum of the case's own bounded waits: if it fires, something in the driver is wrong.
  const guardMs = 8 * T + stepsPauseMs(kase.steps) + (kase.outcome.kind === 'failFast' ? stepsPauseMs(kase.outcome.rest) : 0) + 15000;
  try {
    opened = await target.open(kase, T);
    const wire = opened.wire;
    const problems = await Promise.race([
      judge(wire, kase, target.side),
      new Promise<string[]>((resolve) => {
        guard = setTimeout(() => resolve([`driver guard: the case did not finish within ${guardMs} ms`]), guardMs);
      }),
    ]);
    result.problems = problems;
    result.seen = describeSeen(wire);
    result.frames = wire.frameLog;
    result.firstBytesHex = wire.receivedHex();
    if (wire.sendFailed !== null) result.notes.push(wire.sendFailed);
    if (wire.socketErrors.length > 0) result.notes.push(`socket errors: ${[...new Set(wire.socketErrors)].join(', ')}`);
  } catch (err) {
    result.problems = [(err as Error).message];
    result.seen = 'no connection';
  } finally {
    clearTimeout(guard);
    if (opened !== null) {
      try {
        const report = await opened.cleanup();
        result.notes.push(...report.notes);
        result.problems.push(...report.problems);
      } catch (err) {
        result.notes.push(`cleanup failed: ${(err as Error).message}`);
      }
    }
  }
  const health = target.health();
  if (health !== null) result.notes.push(health);
  result.passed = result.problems.length === 0;
  result.durationMs = Date.now() - started;
  return result;
}

// ------------------------------------------------------------------------------------------------ scheduling

/** A weighted semaphore: a case of weight w needs w of `capacity` units (capped at capacity). */
export class Pool {
  private used = 0;
  private readonly queue: { w: number; go: () => void }[] = [];

  constructor(readonly capacity: number) {}

  async run<T>(weight: number, fn: () => Promise<T>): Promise<T> {
    const w = Math.min(Math.max(1, weight), this.capacity);
    if (this.used + w > this.capacity || this.queue.length > 0) {
      await new Promise<void>((go) => this.queue.push({ w, go }));
    } else {
      this.used += w;
    }
    try {
      return await fn();
    } finally {
      this.used -= w;
      this.pump();
    }
  }

  private pump(): void {
    while (this.queue.length > 0 && this.used + this.queue[0]!.w <= this.capacity) {
      const next = this.queue.shift()!;
      this.used += next.w;
      next.go();
    }
  }
}
