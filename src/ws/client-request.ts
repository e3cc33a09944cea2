/**
 * The request object of the client's 'redirect' and 'unexpected-response' events. ws gives
 * node:http's ClientRequest; wsforge writes its upgrade request itself (RFC 6455 §4.1), so this
 * is a small object with the fields and methods users of those events read and call:
 * `method`, `path`, `host`, `protocol`, the header methods (in a 'redirect' listener they
 * change what the next request sends), and `abort()` / `destroy()`, which end the attempt as
 * `ws.terminate()` does.
 */

export class ClientUpgradeRequest {
  readonly method = 'GET';
  /** Path and query, as in the request line. */
  readonly path: string;
  /** The host name (without the port). */
  readonly host: string;
  /** 'http:' or 'https:', as ClientRequest has it. */
  readonly protocol: string;
  private readonly fields: Record<string, string | string[]>;
  private readonly onAbort: () => void;
  private aborted = false;

  /** @internal */
  constructor(url: URL, headers: Record<string, string | string[]>, onAbort: () => void) {
    const unix = url.protocol === 'ws+unix:' || url.protocol === 'wss+unix:';
    if (unix) {
      const colon = url.pathname.indexOf(':');
      this.path = `${colon === -1 ? '/' : url.pathname.slice(colon + 1) || '/'}${url.search}`;
      this.host = 'localhost';
    } else {
      this.path = `${url.pathname || '/'}${url.search}`;
      this.host = url.hostname;
    }
    this.protocol = url.protocol === 'wss:' || url.protocol === 'wss+unix:' ? 'https:' : 'http:';
    this.fields = headers;
    this.onAbort = onAbort;
  }

  getHeader(name: string): string | string[] | undefined {
    return this.fields[name.toLowerCase()];
  }

  getHeaders(): Record<string, string | string[]> {
    return { ...this.fields };
  }

  getHeaderNames(): string[] {
    return Object.keys(this.fields);
  }

  hasHeader(name: string): boolean {
    return this.fields[name.toLowerCase()] !== undefined;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.fields[name.toLowerCase()] = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : [...value];
    return this;
  }

  removeHeader(name: string): void {
    delete this.fields[name.toLowerCase()];
  }

  /** Whether `abort()` or `destroy()` was called. */
  get destroyed(): boolean {
    return this.aborted;
  }

  abort(): void {
    this.destroy();
  }

  destroy(): this {
    if (!this.aborted) {
      this.aborted = true;
      this.onAbort();
    }
    return this;
  }
}
