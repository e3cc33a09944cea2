/**
 * The log of `wsforge serve`: lines are batched and written at most every `intervalMs`, so a
 * server under a burst of handshakes does one write per batch instead of one (blocking, for a
 * terminal or a file) write per connection. A slow reader (a full pipe) never makes the server
 * hold more than `maxBacklog` bytes of log: later lines are counted and reported as dropped.
 */

/** A batch is written at once when it reaches this size. */
const MAX_BATCH = 64 * 1024;

export interface LogWriterOptions {
  /** Longest time a line waits before it is written, ms (default 50). */
  intervalMs?: number;
  /** Unwritten bytes the stream may hold before lines are dropped (default 1 MiB). */
  maxBacklog?: number;
}

export class LogWriter {
  private readonly stream: NodeJS.WriteStream;
  private readonly intervalMs: number;
  private readonly maxBacklog: number;
  private batch = '';
  private batchLines = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(stream: NodeJS.WriteStream, options: LogWriterOptions = {}) {
    this.stream = stream;
    this.intervalMs = options.intervalMs ?? 50;
    this.maxBacklog = options.maxBacklog ?? 1024 * 1024;
  }

  /** Queue one line (without its newline). */
  line(text: string): void {
    this.batch += `${text}\n`;
    this.batchLines++;
    if (this.batch.length >= MAX_BATCH) this.flush();
    else if (this.timer === null) {
      // unref: a pending log line never keeps the process alive (exit paths call flushed()).
      this.timer = setTimeout(flushLog, this.intervalMs, this);
      this.timer.unref();
    }
  }

  /** Write the batch now. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.batchLines === 0) return;
    if (this.stream.writableLength > this.maxBacklog) {
      // The reader is not keeping up: drop this batch rather than buffer without bound.
      this.dropped += this.batchLines;
    } else {
      const note = this.dropped > 0 ? `(${this.dropped} log lines dropped: the output was not read fast enough)\n` : '';
      this.dropped = 0;
      this.stream.write(note + this.batch);
    }
    this.batch = '';
    this.batchLines = 0;
  }

  /** Write the batch and resolve once the stream has handed everything to the system. */
  flushed(): Promise<void> {
    this.flush();
    return new Promise((resolve) => {
      if (this.stream.writableLength === 0) resolve();
      else this.stream.write('', () => resolve());
    });
  }
}

function flushLog(log: LogWriter): void {
  log.flush();
}
