/**
 * The number of connected WebSocket clients as a server-sent event stream (text/event-stream),
 * for the demo page. It is a separate HTTP stream, not a WebSocket message, so the messages a
 * client sees are exactly the ones echoed or broadcast. Updates are coalesced to one per
 * event-loop turn, and cost nothing while nobody listens.
 */
import type { Writable } from 'node:stream';
import type { HttpRequest, HttpResponse } from './http-exchange.js';

export class ClientCountStream {
  private readonly listeners = new Set<Writable>();
  private count = 0;
  private scheduled = false;

  /** Answer a GET with the stream: the current count now, then every change. */
  subscribe(request: HttpRequest, response: HttpResponse): void {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    // Both node:http's and node:http2's responses are Writable streams.
    const stream: Writable = response;
    stream.write(`data: ${this.count}\n\n`);
    this.listeners.add(stream);
    stream.on('close', () => this.listeners.delete(stream));
  }

  /** The client count changed. */
  update(count: number): void {
    this.count = count;
    if (this.listeners.size === 0 || this.scheduled) return;
    this.scheduled = true;
    setImmediate(sendCount, this);
  }

  /** @internal */
  send(): void {
    this.scheduled = false;
    const event = `data: ${this.count}\n\n`;
    for (const response of this.listeners) response.write(event);
  }
}

function sendCount(stream: ClientCountStream): void {
  stream.send();
}
