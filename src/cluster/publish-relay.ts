/**
 * The primary's part of cross-worker publish: it knows which workers follow which topic and
 * forwards each batch of publishes to the workers that have subscribers of its topics, never
 * back to the worker that published. Records keep their order; a batch whose every record goes
 * to a worker is forwarded as it came (no copy).
 */
import { asBuffer, readPublishBatch } from './publish-batch.js';

export type SendToWorker = (worker: number, batch: Uint8Array) => void;

export class PublishRelay {
  /** topic -> the workers with local subscribers of it */
  private readonly followers = new Map<string, Set<number>>();
  /** worker -> its topics, to forget them all when it exits */
  private readonly topicsOf = new Map<number, Set<string>>();

  constructor(private readonly send: SendToWorker) {}

  subscribe(worker: number, topic: string): void {
    let workers = this.followers.get(topic);
    if (workers === undefined) this.followers.set(topic, (workers = new Set()));
    workers.add(worker);
    let topics = this.topicsOf.get(worker);
    if (topics === undefined) this.topicsOf.set(worker, (topics = new Set()));
    topics.add(topic);
  }

  unsubscribe(worker: number, topic: string): void {
    const workers = this.followers.get(topic);
    if (workers !== undefined && workers.delete(worker) && workers.size === 0) this.followers.delete(topic);
    this.topicsOf.get(worker)?.delete(topic);
  }

  /** A worker exited: it follows nothing any more. */
  forget(worker: number): void {
    for (const topic of this.topicsOf.get(worker) ?? []) this.unsubscribe(worker, topic);
    this.topicsOf.delete(worker);
  }

  /** Workers following `topic` (for tests and stats). */
  followersOf(topic: string): readonly number[] {
    return [...(this.followers.get(topic) ?? [])];
  }

  /** Forward a batch published by `from`. */
  publish(from: number, bytes: Uint8Array): void {
    const batch = asBuffer(bytes);
    // Per destination, the byte ranges of the records it gets, contiguous ranges merged.
    const ranges = new Map<number, number[]>();
    for (const record of readPublishBatch(batch)) {
      const workers = this.followers.get(record.topic);
      if (workers === undefined) continue;
      for (const worker of workers) {
        if (worker === from) continue;
        const list = ranges.get(worker);
        if (list === undefined) ranges.set(worker, [record.start, record.end]);
        else if (list[list.length - 1] === record.start) list[list.length - 1] = record.end;
        else list.push(record.start, record.end);
      }
    }
    for (const [worker, list] of ranges) {
      if (list.length === 2 && list[0] === 0 && list[1] === batch.length) {
        this.send(worker, bytes);
        continue;
      }
      const parts: Buffer[] = [];
      for (let i = 0; i < list.length; i += 2) parts.push(batch.subarray(list[i], list[i + 1]));
      this.send(worker, Buffer.concat(parts));
    }
  }
}
