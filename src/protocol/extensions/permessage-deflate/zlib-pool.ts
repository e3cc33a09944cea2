/**
 * The zlib side of permessage-deflate, shared by every connection of the process: one limiter
 * (at most `concurrency` zlib jobs use the thread pool, and hold a context, at once; ws has the
 * same after zlib memory fragmentation reports) and pools of idle contexts for messages
 * compressed or inflated on their own (no context takeover), bounded in total. This module owns
 * that state; the codec only takes and gives back.
 */
import { createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { DEFAULT_ZLIB_CONCURRENCY } from './params.js';

/** How a deflate context is made: contexts are pooled per setting. */
export interface DeflateSettings {
  readonly windowBits: number;
  readonly memLevel: number;
  readonly level: number;
}

type Job = () => void;
/** 0 until configured: the default applies. */
let concurrency = 0;
let running = 0;
const waiting: Job[] = [];

/**
 * Set the process-wide number of zlib jobs at once (a positive integer: the option table checks it
 * before); the first value set wins.
 */
export function setConcurrency(value: number | undefined): void {
  if (value === undefined || concurrency !== 0) return;
  concurrency = value;
}

function limit(): number {
  return concurrency || DEFAULT_ZLIB_CONCURRENCY;
}

/** Run `job` now if fewer than `concurrency` jobs run, else when one ends (call jobDone() at its end). */
export function runLimited(job: Job): void {
  if (running < limit()) {
    running++;
    job();
  } else {
    waiting.push(job);
  }
}

export function jobDone(): void {
  const next = waiting.shift();
  if (next !== undefined) next();
  else running--;
}

const deflatePool = new Map<string, DeflateRaw[]>();
const inflatePool: InflateRaw[] = [];

function poolKey(settings: DeflateSettings): string {
  return `${settings.windowBits}:${settings.memLevel}:${settings.level}`;
}

export function newDeflate(settings: DeflateSettings): DeflateRaw {
  return createDeflateRaw({ windowBits: settings.windowBits, memLevel: settings.memLevel, level: settings.level });
}

export function newInflate(windowBits: number, dictionary?: Buffer): InflateRaw {
  return createInflateRaw(dictionary === undefined ? { windowBits } : { windowBits, dictionary });
}

/** A deflate context for one message: an idle pooled one, or a new one. */
export function takeDeflate(settings: DeflateSettings): DeflateRaw {
  return deflatePool.get(poolKey(settings))?.pop() ?? newDeflate(settings);
}

/** An inflate context for one message (window 15 inflates any window size). */
export function takeInflate(): InflateRaw {
  return inflatePool.pop() ?? newInflate(15);
}

/** Give back a deflate context after a whole message: reset, then pooled or closed. */
export function releaseDeflate(settings: DeflateSettings, deflate: DeflateRaw): void {
  // Reset so the next message starts from an empty window (no context takeover).
  deflate.reset();
  const key = poolKey(settings);
  let list = deflatePool.get(key);
  if (list === undefined) deflatePool.set(key, (list = []));
  if (list.length >= limit()) {
    deflate.close();
    return;
  }
  // The bound is on all idle contexts, whatever their settings: when the pool is full, a
  // context of another setting makes room, so the settings in use now stay pooled.
  if (pooledContextCount().deflate >= limit()) {
    for (const [otherKey, other] of deflatePool) {
      if (otherKey !== key && other.length > 0) {
        other.pop()!.close();
        break;
      }
    }
  }
  list.push(deflate);
}

/** Give back an inflate context after a whole message. */
export function releaseInflate(inflate: InflateRaw): void {
  inflate.reset();
  if (inflatePool.length < limit()) inflatePool.push(inflate);
  else inflate.close();
}

/** Idle zlib contexts held by the shared pools (for tests and the memory figures). */
export function pooledContextCount(): { deflate: number; inflate: number } {
  let deflate = 0;
  for (const list of deflatePool.values()) deflate += list.length;
  return { deflate, inflate: inflatePool.length };
}
