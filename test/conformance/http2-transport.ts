// HTTP/2 as a second transport for the driver (RFC 8441): each server case opens a node:http2 session to the
// server under test, sends an extended CONNECT (its own header list: :protocol websocket, version 13, the
// case's extension offer) and runs the case's frames over that stream, with the same Wire and the same
// judging as over TCP. An orderly close is END_STREAM, a reset RST_STREAM (RFC 8441 §5).
import { readFileSync } from 'node:fs';
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { checkServerResponse } from './deflate.js';
import { normaliseExtensions } from './handshake.js';
import type { OpenedCase } from './targets.js';
import type { Case } from './types.js';
import { Wire, negotiatedExtensions } from './wire.js';

/** The test-only certificate the server under test is started with (test/fixtures). */
export function fixturePath(root: string, name: 'cert' | 'key'): string {
  return `${root}test/fixtures/test-only-localhost.${name}.pem`;
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A session whose SETTINGS allow extended CONNECT (RFC 8441 §3), or an error saying why not. */
async function openSession(host: string, port: number, ca: Buffer, timeoutMs: number): Promise<ClientHttp2Session> {
  const session = http2Connect(`https://${host}:${port}`, { ca, servername: 'localhost' });
  session.on('error', () => {});
  try {
    await bounded(
      new Promise<void>((resolve, reject) => {
        session.once('remoteSettings', (settings) =>
          settings.enableConnectProtocol === true ? resolve() : reject(new Error('the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3)')),
        );
        session.once('error', (err) => reject(new Error(`HTTP/2 session: ${err.message}`)));
        session.once('close', () => reject(new Error('HTTP/2 session closed before SETTINGS')));
      }),
      timeoutMs,
      'HTTP/2 SETTINGS',
    );
  } catch (err) {
    session.destroy();
    throw err;
  }
  return session;
}

/** Driver as client over HTTP/2: the extended CONNECT of the case, checked, and a Wire over the stream. */
export async function openServerCaseHttp2(host: string, port: number, ca: Buffer, kase: Case, timeoutMs: number): Promise<OpenedCase> {
  const session = await openSession(host, port, ca, timeoutMs);
  try {
    const offer = kase.handshake?.offerExtensions;
    const request: OutgoingHttpHeaders = { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', 'sec-websocket-version': '13' };
    if (offer !== undefined) request['sec-websocket-extensions'] = offer;
    const stream: ClientHttp2Stream = session.request(request, { endStream: false });
    stream.on('error', () => {});
    const response = await bounded(
      new Promise<IncomingHttpHeaders>((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('close', () => reject(new Error(`handshake: the stream closed before a response (RST_STREAM code ${stream.rstCode})`)));
      }),
      timeoutMs,
      'handshake: the response to the extended CONNECT',
    );
    // RFC 8441 §5: the server accepts with a 2xx (it sends 200) and no Sec-WebSocket-Accept.
    if (Number(response[':status']) !== 200) throw new Error(`handshake: expected :status 200, got ${String(response[':status'])}`);
    if (response['sec-websocket-accept'] !== undefined) throw new Error('handshake: Sec-WebSocket-Accept in an HTTP/2 response (RFC 8441 §5: not used)');
    const extensionHeader = response['sec-websocket-extensions'];
    const extensions = typeof extensionHeader === 'string' ? extensionHeader : null;
    const expected = kase.handshake?.expectExtensions !== undefined ? kase.handshake.expectExtensions : offer === undefined ? null : undefined;
    if (expected instanceof RegExp) {
      if (extensions === null || !expected.test(extensions)) throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(extensions)}, expected to match ${String(expected)}`);
    } else if (expected !== undefined && (extensions === null ? null : normaliseExtensions(extensions)) !== (expected === null ? null : normaliseExtensions(expected))) {
      throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(extensions)}, expected ${JSON.stringify(expected)}`);
    }
    const invalid = checkServerResponse(offer, extensions);
    if (invalid.length > 0) throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(extensions)} answering ${JSON.stringify(offer)}: ${invalid.join('; ')}`);
    const wire = new Wire(stream, 'client', negotiatedExtensions(extensions, 'client'), Buffer.alloc(0));
    return {
      wire,
      async cleanup() {
        wire.destroy();
        session.destroy();
        return { notes: [], problems: [] };
      },
    };
  } catch (err) {
    session.destroy();
    throw err;
  }
}

export function readCa(root: string): Buffer {
  return readFileSync(fixturePath(root, 'cert'));
}
