/** The events of the WHATWG WebSocket API. */

/** The `close` event (WHATWG: CloseEvent). */
export class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/** The `message` event: `data` is a string, an ArrayBuffer, a Blob or a Buffer (per binaryType). */
export class WebSocketMessageEvent extends Event {
  readonly data: unknown;
  readonly origin: string;
  constructor(type: string, init: { data: unknown; origin: string }) {
    super(type);
    this.data = init.data;
    this.origin = init.origin;
  }
}
