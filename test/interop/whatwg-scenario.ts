// One scenario for any WHATWG WebSocket client (undici's on Node 20, the global one of Node
// 24 in a child process, the browser's): connect with a subprotocol, send text, binary, a
// 1 MiB binary and empty messages, check each echo, close with 4000 "bye". Returns what the
// client saw; it never throws (a failure is a field of the result), so the child process can
// always print it.
import { createHash } from 'node:crypto';

/** The part of the WHATWG WebSocket interface the scenario uses. */
export interface WhatwgWebSocket {
  binaryType: string;
  readonly protocol: string;
  readonly extensions: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

export type WhatwgWebSocketConstructor = new (url: string, protocols?: string | string[]) => WhatwgWebSocket;

export interface EchoSeen {
  type: 'text' | 'binary' | 'other';
  length: number;
  sha256: string;
  /** Text as is; binary as hex (first 64 bytes). */
  preview: string;
}

export interface WhatwgScenarioResult {
  client: string;
  protocol: string;
  extensions: string;
  echoes: Record<string, EchoSeen>;
  close: { code: number; reason: string; wasClean: boolean } | null;
  error: string | null;
}

/** The messages sent, in order, and what each echo must be. */
export function scenarioMessages(): Array<{ name: string; data: string | Uint8Array }> {
  const large = new Uint8Array(1024 * 1024);
  for (let i = 0; i < large.length; i++) large[i] = (i * 7 + (i >> 11)) & 0xff;
  return [
    { name: 'text', data: 'hello from a WHATWG client ✓' },
    { name: 'binary', data: new Uint8Array([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]) },
    { name: 'large-binary', data: large },
    { name: 'empty-text', data: '' },
    { name: 'empty-binary', data: new Uint8Array(0) },
  ];
}

export function describeData(data: string | Uint8Array): EchoSeen {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    type: typeof data === 'string' ? 'text' : 'binary',
    length: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    preview: typeof data === 'string' ? data : bytes.subarray(0, 64).toString('hex'),
  };
}

export async function runWhatwgScenario(
  WebSocketClass: WhatwgWebSocketConstructor,
  url: string,
  client: string,
  timeoutMs = 10_000,
): Promise<WhatwgScenarioResult> {
  const result: WhatwgScenarioResult = { client, protocol: '', extensions: '', echoes: {}, close: null, error: null };
  let ws: WhatwgWebSocket | null = null;
  const closed = new Promise<void>((resolve) => {
    try {
      ws = new WebSocketClass(url, ['chat']);
    } catch (error) {
      result.error = `constructor threw: ${(error as Error).message}`;
      resolve();
      return;
    }
    ws.binaryType = 'arraybuffer';
    const messages = scenarioMessages();
    let index = 0;
    const sendNext = () => {
      if (index < messages.length) ws!.send(messages[index]!.data);
      else ws!.close(4000, 'bye');
    };
    ws.onopen = () => {
      result.protocol = ws!.protocol;
      result.extensions = ws!.extensions;
      sendNext();
    };
    ws.onmessage = (event) => {
      const data = event.data;
      const name = messages[index]?.name ?? `extra-${index}`;
      if (typeof data === 'string') result.echoes[name] = describeData(data);
      else if (data instanceof ArrayBuffer) result.echoes[name] = describeData(new Uint8Array(data));
      else result.echoes[name] = { type: 'other', length: -1, sha256: '', preview: Object.prototype.toString.call(data) };
      index++;
      sendNext();
    };
    ws.onerror = () => {
      result.error ??= 'error event';
    };
    ws.onclose = (event) => {
      result.close = { code: event.code, reason: event.reason, wasClean: event.wasClean };
      resolve();
    };
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      result.error ??= `timed out after ${timeoutMs} ms (echoes so far: ${Object.keys(result.echoes).join(', ') || 'none'})`;
      resolve();
    }, timeoutMs);
  });
  await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (result.close === null && ws !== null) {
    try {
      (ws as WhatwgWebSocket).close();
    } catch {
      // already closing
    }
  }
  return result;
}
