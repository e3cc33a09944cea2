/**
 * The worker's side of cross-worker publish: a PubSubAdapter that carries this worker's
 * publishes to the cluster primary and hands the other workers' publishes to the server. The
 * primary forwards each publish to the workers that have subscribers of its topic, so a worker
 * tells it which topics it follows (the server calls `subscribe` on a topic's first local
 * subscriber and `unsubscribe` on its last).
 *
 * Publishes made in one event-loop turn go out as one IPC message (see publish-batch.ts), sent
 * when the turn's I/O is done (setImmediate). Order: the IPC channel and the primary keep the
 * order of one worker's publishes; publishes of different workers may interleave differently
 * on different workers.
 */
import type { PubSubAdapter } from '../pubsub/adapter.js';
import { isClusterMessage, type PrimaryMessage, type WorkerMessage } from './ipc-messages.js';
import { asBuffer, PublishBatchWriter, readPublishBatch } from './publish-batch.js';

/** The IPC channel to the primary: `process` in a worker. */
export interface PrimaryChannel {
  send(message: WorkerMessage): void;
  onMessage(listener: (message: unknown) => void): () => void;
}

/** The worker process's own channel. */
export function processChannel(): PrimaryChannel {
  return {
    send(message) {
      // The channel is gone once the primary is: nothing is left to tell.
      if (process.connected) process.send!(message);
    },
    onMessage(listener) {
      process.on('message', listener);
      return () => process.off('message', listener);
    },
  };
}

type Deliver = (topic: string, payload: Buffer, isBinary: boolean) => void;

export class WorkerPubSub implements PubSubAdapter {
  private deliver: Deliver | null = null;
  private detach: (() => void) | null = null;
  private readonly batch = new PublishBatchWriter();
  private flushScheduled = false;
  private closed = false;

  constructor(private readonly channel: PrimaryChannel) {}

  attach(deliver: Deliver): void {
    if (this.deliver !== null) throw new Error('this adapter already serves a server: one WebSocketServer per worker adapter');
    this.deliver = deliver;
    this.detach = this.channel.onMessage((message) => {
      if (!isClusterMessage(message) || message.wsforge !== 'publish') return;
      this.receive(message as PrimaryMessage & { wsforge: 'publish' });
    });
  }

  subscribe(topic: string): void {
    if (!this.closed) this.channel.send({ wsforge: 'subscribe', topic });
  }

  unsubscribe(topic: string): void {
    if (!this.closed) this.channel.send({ wsforge: 'unsubscribe', topic });
  }

  publish(topic: string, payload: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    this.batch.append(topic, payload, isBinary);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(flushBatch, this);
  }

  /** @internal Send what this turn published. */
  flush(): void {
    this.flushScheduled = false;
    if (this.batch.isEmpty) return;
    this.channel.send({ wsforge: 'publish', batch: this.batch.take() });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.flush();
      this.closed = true;
      this.detach?.();
      this.detach = null;
    }
    return Promise.resolve();
  }

  private receive(message: { batch: Uint8Array }): void {
    const deliver = this.deliver;
    if (deliver === null || this.closed) return;
    for (const record of readPublishBatch(asBuffer(message.batch))) deliver(record.topic, record.payload, record.isBinary);
  }
}

function flushBatch(adapter: WorkerPubSub): void {
  adapter.flush();
}
