/**
 * permessage-deflate (RFC 7692) without sockets: the offer/response parameters (§7.1), the
 * server's choice among offers (§5), the client's checks of the response, and what goes on
 * the wire through a ProtocolSession (§6, §7.2): RSV1, the removed 00 00 ff ff tail, the
 * threshold, fragments, context takeover and window sizes, the RFC's own examples (§7.2.3),
 * and the close codes for compressed data that is wrong (1002, 1007, 1009).
 *
 * Compressed bytes are checked with node:zlib here, never with the library's own decoder.
 */
import assert from 'node:assert/strict';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { after, beforeEach, describe, test, type TestContext } from 'node:test';
import { clientPerMessageDeflate, type DeflateOffer, ErrorCode, formatExtension, type MessageExtension, parseDeflateParams, parseExtensionHeader, type PerMessageDeflateOptions, pooledContextCount, serverPerMessageDeflate, WebSocketError } from '../../src/protocol/index.js';
import {
  deflateMessage, inflateMessage, jsonText, noisyBytes, TAKEOVER, TakeoverDeflater, TRAILER,
} from '../helpers/deflate-codec.js';
import { hexBytes } from '../helpers/hex-bytes.js';
import { guardProcess } from '../helpers/process-guard.js';
import { SessionHarness } from '../helpers/session-recorder.js';
import { waitUntil } from '../helpers/timing.js';
import { clientFrame, OP, readClose, serverFrame, type WireFrame } from '../helpers/wire-frames.js';

guardProcess();

// ---------------------------------------------------------------------------------------------- helpers

/** The response a server factory gives to an offer header, as a header value (null = declined). */
function respond(options: PerMessageDeflateOptions, offer: string): string | null {
  const extension = serverPerMessageDeflate(options).accept(parseExtensionHeader(offer));
  if (extension === null) return null;
  extension.dispose();
  return formatExtension(extension.agreed);
}

/** Parameters of one extension element, order-insensitive ("name=value" or "name"). */
function paramSet(element: string | null): string[] | null {
  if (element === null) return null;
  const [parsed, ...rest] = parseExtensionHeader(element);
  assert.equal(rest.length, 0, `one extension element expected in ${element}`);
  return [parsed!.name, ...parsed!.params.map(([n, v]) => (v === true ? n : `${n}=${v}`)).sort()];
}

/** Negotiate like the handshake does: client offer → server response → client accepts it. */
function negotiate(
  t: TestContext,
  serverOptions: PerMessageDeflateOptions,
  clientOptions: PerMessageDeflateOptions,
): { server: MessageExtension; client: MessageExtension; header: string } {
  const clientFactory = clientPerMessageDeflate(clientOptions);
  const offer = clientFactory.offer().map(formatExtension).join(', ');
  const server = serverPerMessageDeflate(serverOptions).accept(parseExtensionHeader(offer));
  assert.ok(server !== null, `the server declined ${offer}`);
  const header = formatExtension(server.agreed);
  const client = clientFactory.accept(parseExtensionHeader(header)[0]!);
  t.after(() => {
    server.dispose();
    client.dispose();
  });
  return { server, client, header };
}

/** A server-role session with the extension the server side agreed to for `offer`. */
function serverSession(t: TestContext, offer: string, options: PerMessageDeflateOptions = {}, sessionOptions = {}): SessionHarness {
  const extension = serverPerMessageDeflate(options).accept(parseExtensionHeader(offer));
  assert.ok(extension !== null, `the server declined ${offer}`);
  t.after(() => extension.dispose());
  const h = new SessionHarness('server', sessionOptions);
  h.session.setExtension(extension);
  return h;
}

/** Wait until `n` messages arrived or the connection failed. */
async function settle(h: SessionHarness, n: number, what = `${n} message(s)`): Promise<void> {
  await waitUntil(() => h.messages.length >= n || h.errors.length > 0, 3000, what);
}

/** Wait for output frames (compression is asynchronous). */
async function framesOut(h: SessionHarness, n: number): Promise<WireFrame[]> {
  const frames: WireFrame[] = [];
  await waitUntil(
    () => {
      frames.push(...h.sent());
      return frames.length >= n;
    },
    3000,
    `${n} frame(s) sent`,
  );
  return frames;
}

/** The connection failed with `code`: the error event and the close frame sent. */
async function expectFailure(h: SessionHarness, closeCode: number, errorCode?: string): Promise<void> {
  await waitUntil(() => h.errors.length > 0, 3000, `close ${closeCode}`);
  const error = h.errors[0]!;
  assert.equal(error.closeCode, closeCode, `error ${error.code}`);
  if (errorCode !== undefined) assert.equal(error.code, errorCode);
  const frames = h.sent();
  const close = frames.find((f) => f.opcode === OP.CLOSE);
  assert.ok(close !== undefined, 'a close frame is sent');
  assert.equal(readClose(close).code, closeCode);
  assert.ok(!close.rsv1, 'RFC 7692 §6.1: never RSV1 on a control frame');
}

const text = (h: SessionHarness, i: number): string => h.messages[i]!.data.toString('utf8');

// ---------------------------------------------------------------------------------------------- parameters

describe('permessage-deflate parameters (RFC 7692 §7.1)', () => {
  test('RFC 7692 §7.1: each parameter parses in an offer (flags without value, window bits 8-15, bare client_max_window_bits)', () => {
    const [element] = parseExtensionHeader(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits',
    );
    const offer = parseDeflateParams(element!, 'offer');
    assert.deepEqual(offer, {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: true,
    } satisfies DeflateOffer);
    assert.deepEqual(parseDeflateParams(parseExtensionHeader('permessage-deflate; client_max_window_bits=8')[0]!, 'offer'), {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: undefined,
      clientMaxWindowBits: 8,
    });
  });

  test('RFC 6455 §9.1: a quoted value is the same as the token (server_max_window_bits="10")', () => {
    const offer = parseDeflateParams(parseExtensionHeader('permessage-deflate; server_max_window_bits="10"')[0]!, 'offer');
    assert.equal(typeof offer === 'string' ? offer : offer.serverMaxWindowBits, 10);
  });

  const invalid: Array<[string, string]> = [
    ['unknown parameter', 'permessage-deflate; foo'],
    ['unknown parameter with value', 'permessage-deflate; foo=1'],
    ['parameter twice', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['window bits twice', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10'],
    ['value on server_no_context_takeover', 'permessage-deflate; server_no_context_takeover=1'],
    ['value on client_no_context_takeover', 'permessage-deflate; client_no_context_takeover=true'],
    ['server_max_window_bits without value', 'permessage-deflate; server_max_window_bits'],
    ['server_max_window_bits=08 (leading zero)', 'permessage-deflate; server_max_window_bits=08'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits=x', 'permessage-deflate; server_max_window_bits=x'],
    ['client_max_window_bits=08', 'permessage-deflate; client_max_window_bits=08'],
    ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16'],
    ['client_max_window_bits=abc', 'permessage-deflate; client_max_window_bits=abc'],
  ];
  for (const [name, header] of invalid) {
    test(`RFC 7692 §7.1: ${name} is an invalid element (declined as an offer, refused as a response)`, () => {
      const element = parseExtensionHeader(header)[0]!;
      assert.equal(typeof parseDeflateParams(element, 'offer'), 'string');
      assert.equal(typeof parseDeflateParams(element, 'response'), 'string');
    });
  }

  test('RFC 7692 §7.1.2.2: client_max_window_bits needs a value in a response (optional in an offer)', () => {
    const element = parseExtensionHeader('permessage-deflate; client_max_window_bits')[0]!;
    assert.equal(typeof parseDeflateParams(element, 'offer'), 'object');
    assert.equal(typeof parseDeflateParams(element, 'response'), 'string');
  });

  test('RFC 6455 §9.1: a syntactically malformed header is refused (WSF_ERR_HANDSHAKE_EXTENSION)', () => {
    for (const header of ['permessage-deflate;', 'permessage-deflate; =10', 'permessage-deflate; a=', 'permessage-deflate; a="1 0"', 'permessage-deflate; a="x', '; x', 'permessage-deflate x']) {
      assert.throws(
        () => parseExtensionHeader(header),
        (error: unknown) => error instanceof WebSocketError && error.code === ErrorCode.HANDSHAKE_EXTENSION,
        header,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------- server side

describe('server negotiation (RFC 7692 §5, §7.1)', () => {
  const defaults = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';
  const table: Array<[string, PerMessageDeflateOptions, string, string | null]> = [
    ['§7.1.1: defaults add both no_context_takeover parameters (memory-safe mode)', {}, 'permessage-deflate', defaults],
    ['§7.1.2.2: bare client_max_window_bits with the default 15 is not answered', {}, 'permessage-deflate; client_max_window_bits', defaults],
    ['§7.1.2.1: server_max_window_bits=10 offered → answered with 10', {}, 'permessage-deflate; server_max_window_bits=10', `${defaults}; server_max_window_bits=10`],
    ['§7.1.2.1: server_max_window_bits=14 offered, configured 12 → 12', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=14', `${defaults}; server_max_window_bits=12`],
    ['§7.1.2.1: server_max_window_bits=9 offered, configured 12 → 9', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=9', `${defaults}; server_max_window_bits=9`],
    ['§7.1.2.1: configured serverMaxWindowBits 12, not offered → answered anyway', { serverMaxWindowBits: 12 }, 'permessage-deflate', `${defaults}; server_max_window_bits=12`],
    ['§7.1.2.2: bare client_max_window_bits, configured 10 → 10', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits', `${defaults}; client_max_window_bits=10`],
    ['§7.1.2.2: client_max_window_bits=12 offered, default 15 → 12', {}, 'permessage-deflate; client_max_window_bits=12', `${defaults}; client_max_window_bits=12`],
    ['§7.1.2.2: client_max_window_bits=12 offered, configured 10 → 10', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=12', `${defaults}; client_max_window_bits=10`],
    ['§7.1.2.2: client_max_window_bits=9 offered, configured 10 → 9', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=9', `${defaults}; client_max_window_bits=9`],
    ['§7.1.2.2: never client_max_window_bits when not offered (configured 10)', { clientMaxWindowBits: 10 }, 'permessage-deflate', defaults],
    ['§7.1.1: takeover allowed, nothing offered → no parameter', TAKEOVER, 'permessage-deflate', 'permessage-deflate'],
    ['§7.1.1.1: takeover allowed, server_no_context_takeover offered → granted', TAKEOVER, 'permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'],
    ['§7.1.1.2: takeover allowed, client_no_context_takeover offered → acknowledged', TAKEOVER, 'permessage-deflate; client_no_context_takeover', 'permessage-deflate; client_no_context_takeover'],
    ['§7.1.1: only serverNoContextTakeover:false → client_no_context_takeover still added', { serverNoContextTakeover: false }, 'permessage-deflate', 'permessage-deflate; client_no_context_takeover'],
    ['§7.1: every parameter at once', TAKEOVER, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=13', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=13'],
    ['§5: the first acceptable offer wins (first has an unknown parameter)', {}, 'permessage-deflate; foo, permessage-deflate; server_max_window_bits=11', `${defaults}; server_max_window_bits=11`],
    ['§5: the first acceptable offer wins (both valid)', {}, 'permessage-deflate; server_max_window_bits=10, permessage-deflate', `${defaults}; server_max_window_bits=10`],
    ['§7.1: an invalid value declines that offer only', {}, 'permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits=08, permessage-deflate; client_max_window_bits=11', `${defaults}; client_max_window_bits=11`],
    ['§7.1: a duplicate parameter declines the offer; none left → no extension', {}, 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10', null],
    ['§7.1: a value on a flag declines the offer; none left → no extension', {}, 'permessage-deflate; client_no_context_takeover=1', null],
    ['§7.1: server_max_window_bits without value → no extension', {}, 'permessage-deflate; server_max_window_bits', null],
    ['§7.1: server_max_window_bits=08 → no extension', {}, 'permessage-deflate; server_max_window_bits=08', null],
    ['§7.1: server_max_window_bits=x → no extension', {}, 'permessage-deflate; server_max_window_bits=x', null],
    ['§7.1: client_max_window_bits=16 → no extension', {}, 'permessage-deflate; client_max_window_bits=16', null],
    ['§7.1: an unknown parameter → no extension', {}, 'permessage-deflate; x_webkit=1', null],
  ];
  for (const [rule, options, offer, expected] of table) {
    test(`RFC 7692 ${rule}`, () => {
      assert.deepEqual(paramSet(respond(options, offer)), paramSet(expected), `offer: ${offer}`);
    });
  }

  test('RFC 7692 §5: other extensions in the header are not this factory\'s business (only permessage-deflate offers are passed)', () => {
    const offers = parseExtensionHeader('x-foo; a=1, permessage-deflate, x-bar').filter((e) => e.name === 'permessage-deflate');
    const extension = serverPerMessageDeflate().accept(offers);
    assert.ok(extension !== null);
    extension.dispose();
  });

  test('decision: acceptOffer sees each valid offer, in order, parsed; false declines it', () => {
    const seen: DeflateOffer[] = [];
    const options: PerMessageDeflateOptions = {
      acceptOffer: (offer) => {
        seen.push(offer);
        return offer.serverMaxWindowBits !== undefined && offer.serverMaxWindowBits <= 12;
      },
    };
    const response = respond(
      options,
      'permessage-deflate; client_max_window_bits, permessage-deflate; foo, permessage-deflate; server_max_window_bits=12; client_no_context_takeover',
    );
    assert.deepEqual(paramSet(response), paramSet(`${defaults}; server_max_window_bits=12`));
    assert.deepEqual(seen, [
      { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: true },
      { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: undefined },
    ]);
    assert.equal(respond({ acceptOffer: () => false }, 'permessage-deflate'), null);
  });

  test('decision: window bits options outside 8-15 are refused when the server is configured', () => {
    for (const bad of [7, 16, 10.5]) {
      assert.throws(() => serverPerMessageDeflate({ serverMaxWindowBits: bad }), { name: 'InvalidOptionError', code: 'WSF_ERR_INVALID_OPTION', option: 'serverMaxWindowBits' });
      assert.throws(() => serverPerMessageDeflate({ clientMaxWindowBits: bad }), { name: 'InvalidOptionError', code: 'WSF_ERR_INVALID_OPTION', option: 'clientMaxWindowBits' });
    }
  });
});

// ---------------------------------------------------------------------------------------------- client side

describe('client negotiation (RFC 7692 §5, §7.1)', () => {
  test('RFC 7692 §7.1.2.2: the default offer is "permessage-deflate; client_max_window_bits"', () => {
    assert.equal(clientPerMessageDeflate().offer().map(formatExtension).join(', '), 'permessage-deflate; client_max_window_bits');
  });

  test('RFC 7692 §7.1: requested parameters appear in the offer', () => {
    const offer = clientPerMessageDeflate({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 })
      .offer()
      .map(formatExtension);
    assert.equal(offer.length, 1);
    assert.deepEqual(
      paramSet(offer[0]!),
      paramSet('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12'),
    );
  });

  const accepted: Array<[string, PerMessageDeflateOptions, string]> = [
    ['§7.1: no parameters', {}, 'permessage-deflate'],
    ['§7.1.1.1: server_no_context_takeover even if not asked for', {}, 'permessage-deflate; server_no_context_takeover'],
    ['§7.1.1.2: client_no_context_takeover', {}, 'permessage-deflate; client_no_context_takeover'],
    ['§7.1.2.1: server_max_window_bits even if not asked for', {}, 'permessage-deflate; server_max_window_bits=10'],
    ['§7.1.2.1: server_max_window_bits below the requested value', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=9'],
    ['§7.1.2.2: client_max_window_bits with a value (bare offer)', {}, 'permessage-deflate; client_max_window_bits=9'],
    ['§7.1.2.2: client_max_window_bits at the offered value', { clientMaxWindowBits: 11 }, 'permessage-deflate; client_max_window_bits=11'],
    ['§7.1.1.1: server_no_context_takeover asked for and granted', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
  ];
  for (const [rule, options, response] of accepted) {
    test(`RFC 7692 ${rule}: "${response}" is accepted`, () => {
      const extension = clientPerMessageDeflate(options).accept(parseExtensionHeader(response)[0]!);
      assert.equal(formatExtension(extension.agreed), response);
      extension.dispose();
    });
  }

  const refused: Array<[string, PerMessageDeflateOptions, string]> = [
    ['§7.1: an unknown parameter', {}, 'permessage-deflate; foo'],
    ['§7.1: a duplicated parameter', {}, 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['§7.1.2.2: client_max_window_bits without a value', {}, 'permessage-deflate; client_max_window_bits'],
    ['§7.1.2.2: client_max_window_bits above the offered value', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=11'],
    ['§7.1.2.1: server_max_window_bits above the requested value', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=11'],
    ['§7.1.2.1: server_max_window_bits missing though requested', { serverMaxWindowBits: 10 }, 'permessage-deflate'],
    ['§7.1.1.1: server_no_context_takeover missing though requested', { serverNoContextTakeover: true }, 'permessage-deflate'],
    ['§7.1.2.1: server_max_window_bits=16', {}, 'permessage-deflate; server_max_window_bits=16'],
    ['§7.1.2.1: server_max_window_bits=08', {}, 'permessage-deflate; server_max_window_bits=08'],
    ['§7.1: a value on server_no_context_takeover', {}, 'permessage-deflate; server_no_context_takeover=1'],
  ];
  for (const [rule, options, response] of refused) {
    test(`RFC 7692 ${rule}: "${response}" fails the handshake (WSF_ERR_HANDSHAKE_EXTENSION)`, () => {
      assert.throws(
        () => clientPerMessageDeflate(options).accept(parseExtensionHeader(response)[0]!),
        (error: unknown) => error instanceof WebSocketError && error.code === ErrorCode.HANDSHAKE_EXTENSION,
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------- sending

describe('sending compressed messages (RFC 7692 §6, §7.2.1)', () => {
  test('RFC 7692 §6.1/§7.2.1: a message at the threshold (1024 bytes) goes with RSV1, raw DEFLATE without the 00 00 ff ff tail', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const message = jsonText(1024);
    h.session.sendText(message);
    const [frame] = await framesOut(h, 1);
    assert.equal(frame!.opcode, OP.TEXT);
    assert.ok(frame!.fin);
    assert.ok(frame!.rsv1, 'RSV1 marks a compressed message');
    assert.ok(frame!.payload.length < 1024, `compressed: ${frame!.payload.length} bytes`);
    assert.ok(!frame!.payload.subarray(-4).equals(TRAILER), 'the tail 00 00 ff ff is removed');
    assert.equal(inflateMessage(frame!.payload).toString(), message);
  });

  test('RFC 7692 §6: a message below the threshold (1023 bytes) is sent plain (RSV1 clear)', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    h.session.sendText(jsonText(1023));
    h.session.sendBytes(Buffer.alloc(1023, 7), true);
    const frames = await framesOut(h, 2);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.rsv1, f.payload.length]),
      [
        [OP.TEXT, false, 1023],
        [OP.BINARY, false, 1023],
      ],
    );
    assert.equal(frames[0]!.payload.toString(), jsonText(1023));
  });

  test('RFC 7692 §6: binary at the threshold is compressed too', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const data = noisyBytes(4096, 1);
    h.session.sendBytes(data, true);
    const [frame] = await framesOut(h, 1);
    assert.equal(frame!.opcode, OP.BINARY);
    assert.ok(frame!.rsv1);
    assert.ok(inflateMessage(frame!.payload).equals(data));
  });

  test('decision: the threshold counts bytes: a text of 600 "é" (1200 bytes of UTF-8) is compressed', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const message = 'é'.repeat(600);
    assert.equal(Buffer.byteLength(message), 1200);
    h.session.sendText(message);
    const [frame] = await framesOut(h, 1);
    assert.ok(frame!.rsv1, `a 1200-byte text message is at or above the 1024-byte threshold (sent with ${frame!.payload.length} bytes, RSV1 ${frame!.rsv1})`);
    assert.equal(inflateMessage(frame!.payload).toString(), message);
  });

  test('decision: options.threshold moves the boundary (threshold 10: an 11-byte message is compressed, 9 bytes plain)', async (t) => {
    const h = serverSession(t, 'permessage-deflate', { threshold: 10 });
    h.session.sendText('aaaaaaaaaaa');
    h.session.sendText('aaaaaaaaa');
    const frames = await framesOut(h, 2);
    assert.deepEqual(frames.map((f) => f.rsv1), [true, false]);
    assert.equal(inflateMessage(frames[0]!.payload).toString(), 'aaaaaaaaaaa');
  });

  test('decision: compress=false sends a large message plain', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    h.session.sendText(jsonText(4096), false);
    h.session.sendBytes(Buffer.alloc(4096), true, false);
    const frames = await framesOut(h, 2);
    assert.deepEqual(frames.map((f) => f.rsv1), [false, false]);
  });

  test('RFC 7692 §6.1: control frames are never compressed (ping, pong, close of 125 bytes, threshold 0)', async (t) => {
    const h = serverSession(t, 'permessage-deflate', { threshold: 0 });
    h.session.ping(Buffer.alloc(125, 0x61));
    h.session.pong(Buffer.alloc(125, 0x62));
    h.session.close(1000, 'x'.repeat(123));
    const frames = await framesOut(h, 3);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.rsv1, f.payload.length]),
      [
        [OP.PING, false, 125],
        [OP.PONG, false, 125],
        [OP.CLOSE, false, 125],
      ],
    );
  });

  test('RFC 6455 §5.4 / RFC 7692 §6: messages keep their order while a compressed one is being encoded', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const big = jsonText(64 * 1024);
    h.session.sendText(big);
    h.session.sendText('small');
    h.session.sendBytes(Buffer.from(big), true);
    h.session.sendText('last');
    const frames = await framesOut(h, 4);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.rsv1]),
      [
        [OP.TEXT, true],
        [OP.TEXT, false],
        [OP.BINARY, true],
        [OP.TEXT, false],
      ],
    );
    assert.equal(inflateMessage(frames[0]!.payload).toString(), big);
    assert.equal(frames[1]!.payload.toString(), 'small');
    assert.equal(inflateMessage(frames[2]!.payload).toString(), big);
  });

  test('RFC 7692 §7.2.1: without context takeover, the same 2 KiB message twice compresses to the same bytes, each inflating alone', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const message = noisyBytes(2048, 2);
    h.session.sendBytes(message, true);
    h.session.sendBytes(message, true);
    const [a, b] = await framesOut(h, 2);
    assert.ok(a!.rsv1 && b!.rsv1);
    assert.equal(b!.payload.length, a!.payload.length);
    assert.ok(inflateMessage(a!.payload).equals(message));
    assert.ok(inflateMessage(b!.payload).equals(message), 'the second message inflates with an empty window');
  });

  test('RFC 7692 §7.1.1.1: with context takeover, the second identical 2 KiB message is much smaller and needs the first as window', async (t) => {
    const h = serverSession(t, 'permessage-deflate', TAKEOVER);
    const message = noisyBytes(2048, 3);
    h.session.sendBytes(message, true);
    h.session.sendBytes(message, true);
    const [a, b] = await framesOut(h, 2);
    assert.ok(a!.rsv1 && b!.rsv1);
    assert.ok(b!.payload.length * 10 < a!.payload.length, `second ${b!.payload.length} bytes vs first ${a!.payload.length}`);
    assert.ok(inflateMessage(a!.payload).equals(message));
    assert.ok(inflateMessage(b!.payload, 15, message).equals(message), 'the second inflates with the first as window');
  });

  test('RFC 7692 §7.1.2.1: server_max_window_bits=10 is honoured: what the server sends inflates with a 1 KiB window', async (t) => {
    const h = serverSession(t, 'permessage-deflate; server_max_window_bits=10');
    // A 2 KiB random block twice: a 32 KiB window would refer 2 KiB back, which a 1 KiB window cannot.
    const block = noisyBytes(2048, 4);
    const message = Buffer.concat([block, block]);
    h.session.sendBytes(message, true);
    const [frame] = await framesOut(h, 1);
    assert.ok(frame!.rsv1);
    assert.ok(inflateMessage(frame!.payload, 10).equals(message), 'inflates with windowBits 10');
    // The check can fail: the same message compressed with a 32 KiB window does not inflate with 1 KiB.
    assert.throws(() => inflateMessage(deflateMessage(message, 15), 10), /too far back/);
  });

  test('RFC 7692 §7.1.2.2: the client honours client_max_window_bits=10 from the response', async (t) => {
    const clientFactory = clientPerMessageDeflate();
    const extension = clientFactory.accept(parseExtensionHeader('permessage-deflate; client_max_window_bits=10')[0]!);
    t.after(() => extension.dispose());
    const h = new SessionHarness('client');
    h.session.setExtension(extension);
    const block = noisyBytes(2048, 5);
    const message = Buffer.concat([block, block]);
    h.session.sendBytes(message, true);
    const [frame] = await framesOut(h, 1);
    assert.ok(frame!.masked, 'RFC 6455 §5.3: client frames are masked');
    assert.ok(frame!.rsv1);
    assert.ok(inflateMessage(frame!.payload, 10).equals(message));
  });

  for (const takeover of [false, true]) {
    test(`RFC 7692 §7.2.1/§7.2.3.6: an empty message compressed${takeover ? ' under context takeover' : ''} is the byte 00, and a continued zlib stream decodes what follows`, async (t) => {
      const h = serverSession(t, 'permessage-deflate', { threshold: 0, ...(takeover ? TAKEOVER : {}) });
      const frames: WireFrame[] = [];
      for (const m of ['a', '', 'bbbb', '', 'end']) {
        h.session.sendText(m);
        frames.push(...(await framesOut(h, 1)));
      }
      assert.ok(frames.every((f) => f.rsv1), 'threshold 0: every message compressed');
      assert.deepEqual(
        frames.map((f) => f.payload.length > 0),
        [true, true, true, true, true],
        `§7.2.1 leaves at least the byte holding the flush block's header; payloads: ${frames.map((f) => f.payload.toString('hex') || '(empty)').join(' ')}`,
      );
      // What a receiver keeping its context does: one zlib stream over every payload + 00 00 ff ff.
      const stream = inflateRawSync(Buffer.concat(frames.flatMap((f) => [f.payload, TRAILER])), { finishFlush: constants.Z_SYNC_FLUSH });
      assert.equal(stream.toString(), 'abbbbend');
    });
  }

  test('RFC 7692 §7.2.3.6: sendStream of an empty source under context takeover sends a decodable empty message', async (t) => {
    const h = serverSession(t, 'permessage-deflate', { threshold: 0, ...TAKEOVER });
    h.session.sendText('first');
    const frames = await framesOut(h, 1);
    h.session.reserveStream(() => {});
    await new Promise<void>((resolve, reject) => h.session.sendCompressedFragment(Buffer.alloc(0), true, true, true, (e) => (e === null ? resolve() : reject(e))));
    h.session.sendText('after');
    frames.push(...(await framesOut(h, 2)));
    assert.deepEqual(frames.map((f) => [f.opcode, f.rsv1]), [
      [OP.TEXT, true],
      [OP.BINARY, true],
      [OP.TEXT, true],
    ]);
    assert.ok(frames[1]!.payload.length > 0, 'not an empty payload');
    const stream = inflateRawSync(Buffer.concat(frames.flatMap((f) => [f.payload, TRAILER])), { finishFlush: constants.Z_SYNC_FLUSH });
    assert.equal(stream.toString(), 'firstafter');
  });

  test('RFC 7692 §7.1.1.1: a server allowing takeover keeps no context when the client offered server_no_context_takeover', async (t) => {
    const h = serverSession(t, 'permessage-deflate; server_no_context_takeover', TAKEOVER);
    const message = noisyBytes(2048, 11);
    h.session.sendBytes(message, true);
    h.session.sendBytes(message, true);
    const [a, b] = await framesOut(h, 2);
    assert.equal(b!.payload.length, a!.payload.length);
    assert.ok(inflateMessage(b!.payload).equals(message));
  });

  test('RFC 7692 §7.1.1.2: a client that offered client_no_context_takeover keeps no context even if the response omits it', async (t) => {
    const extension = clientPerMessageDeflate({ clientNoContextTakeover: true }).accept(parseExtensionHeader('permessage-deflate')[0]!);
    t.after(() => extension.dispose());
    const h = new SessionHarness('client');
    h.session.setExtension(extension);
    const message = noisyBytes(2048, 12);
    h.session.sendBytes(message, true);
    h.session.sendBytes(message, true);
    const [a, b] = await framesOut(h, 2);
    assert.equal(b!.payload.length, a!.payload.length);
    assert.ok(inflateMessage(b!.payload).equals(message));
  });

  test('RFC 7692 §7.2.1: window bits 8 agreed → messages are sent uncompressed (zlib has no 256-byte raw window)', async (t) => {
    const h = serverSession(t, 'permessage-deflate; server_max_window_bits=8');
    h.session.sendText(jsonText(4096));
    const [frame] = await framesOut(h, 1);
    assert.ok(!frame!.rsv1);
    assert.equal(frame!.payload.toString(), jsonText(4096));
  });

  for (const takeover of [false, true]) {
    test(`RFC 7692 §6.1/§7.2.1: a message sent in fragments${takeover ? ' (context takeover)' : ''}: RSV1 on the first frame only, each non-final fragment ends with 00 00 ff ff, the last does not`, async (t) => {
      const h = serverSession(t, 'permessage-deflate', takeover ? TAKEOVER : {});
      const parts = [jsonText(3000), noisyBytes(3000, 6).toString('latin1'), jsonText(10)];
      h.session.reserveStream(() => {});
      // One fragment at a time, as WebSocket.sendStream does (each waits for the previous one's callback).
      for (let i = 0; i < parts.length; i++) {
        await new Promise<void>((resolve, reject) =>
          h.session.sendCompressedFragment(Buffer.from(parts[i]!), false, i === 0, i === parts.length - 1, (error) => (error === null ? resolve() : reject(error))),
        );
      }
      const frames = await framesOut(h, 3);
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.fin, f.rsv1]),
        [
          [OP.TEXT, false, true],
          [OP.CONTINUATION, false, false],
          [OP.CONTINUATION, true, false],
        ],
      );
      assert.ok(frames[0]!.payload.subarray(-4).equals(TRAILER));
      assert.ok(frames[1]!.payload.subarray(-4).equals(TRAILER));
      assert.ok(!frames[2]!.payload.subarray(-4).equals(TRAILER));
      const joined = Buffer.concat(frames.map((f) => f.payload));
      assert.equal(inflateMessage(joined).toString(), parts.join(''));
    });
  }
});

// ---------------------------------------------------------------------------------------------- receiving

describe('receiving compressed messages (RFC 7692 §6.2, §7.2.2, §7.2.3 examples)', () => {
  const examples: Array<[string, string[], string]> = [
    ['§7.2.3.1: "Hello" in one compressed frame', ['c1 07 f2 48 cd c9 c9 07 00'], 'Hello'],
    ['§7.2.3.1: "Hello" compressed in two fragments', ['41 03 f2 48 cd', '80 04 c9 c9 07 00'], 'Hello'],
    ['§7.2.3.3: a DEFLATE block with no compression', ['c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00'], 'Hello'],
    ['§7.2.3.5: two DEFLATE blocks in one message', ['c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00'], 'Hello'],
    ['§7.2.3.6: an empty message is a single 00 byte', ['c1 01 00'], ''],
  ];
  for (const [rule, frames, message] of examples) {
    test(`RFC 7692 ${rule}`, async (t) => {
      const h = serverSession(t, 'permessage-deflate');
      // The RFC's frames are unmasked server frames; a server receives them masked.
      for (const frame of frames) {
        const bytes = hexBytes(frame);
        h.feed(clientFrame({ opcode: bytes[0]! & 0x0f, fin: (bytes[0]! & 0x80) !== 0, rsv1: (bytes[0]! & 0x40) !== 0, payload: bytes.subarray(2) }));
      }
      await settle(h, 1);
      assert.deepEqual(h.errors, []);
      assert.equal(text(h, 0), message);
    });
  }

  test('RFC 7692 §7.2.3.2: the RFC\'s second "Hello" using the first as window (context takeover)', async (t) => {
    const extension = clientPerMessageDeflate().accept(parseExtensionHeader('permessage-deflate')[0]!);
    t.after(() => extension.dispose());
    const h = new SessionHarness('client');
    h.session.setExtension(extension);
    h.feed(hexBytes('c1 07 f2 48 cd c9 c9 07 00'));
    h.feed(hexBytes('c1 05 f2 00 11 00 00'));
    await settle(h, 2);
    assert.deepEqual(h.errors, []);
    assert.deepEqual([text(h, 0), text(h, 1)], ['Hello', 'Hello']);
  });

  test('RFC 7692 §6.2: a compressed message in many fragments (RSV1 on the first only) is inflated and delivered whole', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const message = jsonText(50_000);
    const payload = deflateMessage(message);
    const size = Math.ceil(payload.length / 7);
    for (let i = 0, at = 0; at < payload.length; i++, at += size) {
      h.feed(clientFrame({ opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, rsv1: i === 0, fin: at + size >= payload.length, payload: payload.subarray(at, at + size) }));
    }
    await settle(h, 1);
    assert.deepEqual(h.errors, []);
    assert.equal(h.messages.length, 1);
    assert.equal(text(h, 0), message);
  });

  test('RFC 7692 §6.2: an empty first fragment with RSV1, the data in continuations', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const payload = deflateMessage('spread over continuations');
    h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, fin: false, payload: Buffer.alloc(0) }));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: payload.subarray(0, 5) }));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, fin: true, payload: payload.subarray(5) }));
    await settle(h, 1);
    assert.deepEqual(h.errors, []);
    assert.equal(h.messages[0]!.isBinary, true);
    assert.equal(text(h, 0), 'spread over continuations');
  });

  test('RFC 7692 §6.1: compressed and plain messages mix on one connection; a ping between fragments is answered', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const payload = deflateMessage(jsonText(5000));
    h.feed(clientFrame({ opcode: OP.TEXT, payload: 'plain' }));
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, fin: false, payload: payload.subarray(0, 100) }));
    h.feed(clientFrame({ opcode: OP.PING, payload: 'p' }));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, payload: payload.subarray(100) }));
    h.feed(clientFrame({ opcode: OP.BINARY, payload: Buffer.from([1, 2, 3]) }));
    await settle(h, 3);
    assert.deepEqual(h.errors, []);
    assert.deepEqual(
      h.messages.map((m) => [m.isBinary, m.data.length]),
      [
        [false, 5],
        [false, 5000],
        [true, 3],
      ],
    );
    assert.ok(h.events.some((e) => e.type === 'ping'));
  });

  test('RFC 7692 §7.1.1.2: with client context takeover allowed, the server inflates messages that refer to earlier ones (zlib stream, sync flush between)', async (t) => {
    const h = serverSession(t, 'permessage-deflate', TAKEOVER);
    const peer = new TakeoverDeflater();
    t.after(() => peer.close());
    const messages = [noisyBytes(2048, 7).toString('latin1'), noisyBytes(2048, 7).toString('latin1'), jsonText(3000), jsonText(3000) + '!'];
    const sizes: number[] = [];
    for (const message of messages) {
      const payload = await peer.message(Buffer.from(message, 'latin1'));
      sizes.push(payload.length);
      h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload }));
    }
    await settle(h, messages.length);
    assert.deepEqual(h.errors, []);
    assert.deepEqual(h.messages.map((m) => m.data.toString('latin1')), messages);
    assert.ok(sizes[1]! * 10 < sizes[0]!, `the repeated message referred to the first: ${sizes.join(', ')} bytes`);
  });

  test('RFC 7692 §7.1.2.2: with client_max_window_bits=10 and context takeover, the server inflates a peer using a 1 KiB window', async (t) => {
    const h = serverSession(t, 'permessage-deflate; client_max_window_bits=10', TAKEOVER);
    const peer = new TakeoverDeflater(10);
    t.after(() => peer.close());
    const messages = [jsonText(4000), jsonText(4000), noisyBytes(900, 8).toString('latin1'), noisyBytes(900, 8).toString('latin1')];
    for (const message of messages) h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload: await peer.message(Buffer.from(message, 'latin1')) }));
    await settle(h, messages.length);
    assert.deepEqual(h.errors, []);
    assert.deepEqual(h.messages.map((m) => m.data.toString('latin1')), messages);
  });

  test('RFC 7692 §7.1.1.2: with client_no_context_takeover agreed, the server starts each message with an empty window (a message referring to the previous one fails with 1007)', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const peer = new TakeoverDeflater();
    t.after(() => peer.close());
    const message = noisyBytes(2048, 9);
    h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload: await peer.message(message) }));
    await settle(h, 1);
    h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload: await peer.message(message) }));
    await expectFailure(h, 1007, ErrorCode.INVALID_COMPRESSED_DATA);
    assert.equal(h.messages.length, 1);
    assert.ok(h.messages[0]!.data.equals(message));
  });

  test('RFC 7692 §7.1.1.1: a client whose server keeps no context inflates each message on its own', async (t) => {
    const extension = clientPerMessageDeflate().accept(parseExtensionHeader('permessage-deflate; server_no_context_takeover')[0]!);
    t.after(() => extension.dispose());
    const h = new SessionHarness('client');
    h.session.setExtension(extension);
    for (let i = 0; i < 4; i++) h.feed(serverFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage(`${jsonText(2000)}${i}`) }));
    await settle(h, 4);
    assert.deepEqual(h.errors, []);
    assert.deepEqual(h.messages.map((m) => m.data.toString().slice(-1)), ['0', '1', '2', '3']);
  });

  test('RFC 7692 §6 / RFC 6455 §5.2: a client session and a server session agree end to end (all parameter combinations)', async (t) => {
    const combos: Array<[PerMessageDeflateOptions, PerMessageDeflateOptions]> = [
      [{}, {}],
      [TAKEOVER, {}],
      [TAKEOVER, { serverNoContextTakeover: true }],
      [TAKEOVER, { clientNoContextTakeover: true }],
      [{ serverMaxWindowBits: 9, clientMaxWindowBits: 9 }, {}],
      [{ ...TAKEOVER, serverMaxWindowBits: 11 }, { clientMaxWindowBits: 12, serverMaxWindowBits: 13 }],
    ];
    for (const [serverOptions, clientOptions] of combos) {
      const { server, client, header } = negotiate(t, serverOptions, clientOptions);
      const s = new SessionHarness('server');
      const c = new SessionHarness('client');
      s.session.setExtension(server);
      c.session.setExtension(client);
      const messages = [jsonText(5000), jsonText(5000), noisyBytes(3000, 10).toString('latin1'), 'short', jsonText(70_000)];
      for (const m of messages) {
        c.session.sendText(m);
        s.session.sendText(m);
      }
      await waitUntil(() => c.wire.length > 0 && s.wire.length > 0, 3000, 'output');
      // Pipe each side's output to the other until both got every message.
      await waitUntil(
        () => {
          const fromClient = c.wire;
          const fromServer = s.wire;
          c.sent();
          s.sent();
          if (fromClient.length > 0) s.feed(fromClient);
          if (fromServer.length > 0) c.feed(fromServer);
          return (s.messages.length >= messages.length && c.messages.length >= messages.length) || s.errors.length + c.errors.length > 0;
        },
        5000,
        `messages both ways with ${header}`,
      );
      assert.deepEqual([...s.errors, ...c.errors], [], header);
      assert.deepEqual(s.messages.map((m) => m.data.toString()), messages, `server received, ${header}`);
      assert.deepEqual(c.messages.map((m) => m.data.toString()), messages, `client received, ${header}`);
    }
  });
});

describe('compressed data that is wrong (RFC 7692 §6.1, §8; RFC 6455 §7.4.1)', () => {
  test('RFC 7692 §6.1: RSV1 on a continuation frame of a compressed message → 1002', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const payload = deflateMessage(jsonText(2000));
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, fin: false, payload: payload.subarray(0, 10) }));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, rsv1: true, payload: payload.subarray(10) }));
    await expectFailure(h, 1002, ErrorCode.RESERVED_BITS);
    assert.equal(h.messages.length, 0);
  });

  test('RFC 7692 §6.1: RSV1 on a continuation frame of a plain message → 1002', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    h.feed(clientFrame({ opcode: OP.TEXT, fin: false, payload: 'plain ' }));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, rsv1: true, payload: deflateMessage('then compressed') }));
    await expectFailure(h, 1002, ErrorCode.RESERVED_BITS);
  });

  for (const [name, opcode] of [
    ['ping', OP.PING],
    ['pong', OP.PONG],
    ['close', OP.CLOSE],
  ] as const) {
    test(`RFC 7692 §6.1: RSV1 on a ${name} frame → 1002`, async (t) => {
      const h = serverSession(t, 'permessage-deflate');
      h.feed(clientFrame({ opcode, rsv1: true, payload: opcode === OP.CLOSE ? Buffer.from([0x03, 0xe8]) : 'x' }));
      await expectFailure(h, 1002, ErrorCode.RESERVED_BITS);
    });
  }

  test('RFC 7692 §6 / RFC 6455 §5.2: RSV1 when permessage-deflate was not negotiated → 1002', async () => {
    const h = new SessionHarness('server');
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage('Hello') }));
    await expectFailure(h, 1002, ErrorCode.RESERVED_BITS);
    const c = new SessionHarness('client');
    c.feed(serverFrame({ opcode: OP.BINARY, rsv1: true, payload: deflateMessage('Hello') }));
    await expectFailure(c, 1002, ErrorCode.RESERVED_BITS);
  });

  test('RFC 7692 §2 (RSV2/RSV3 stay reserved under permessage-deflate) → 1002', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, rsv2: true, payload: deflateMessage('Hello') }));
    await expectFailure(h, 1002, ErrorCode.RESERVED_BITS);
  });

  const corrupt: Array<[string, Buffer]> = [
    ['a reserved block type (BTYPE 11)', Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ['a stored block whose LEN and NLEN disagree', hexBytes('00 05 00 00 00 48 65 6c 6c 6f')],
    // Compressed with the message itself as preset dictionary: it refers to bytes before its start.
    ['a distance before the start of the data', deflateRawSync(Buffer.from(jsonText(3000)), { finishFlush: constants.Z_SYNC_FLUSH, dictionary: Buffer.from(jsonText(3000)) }).subarray(0, -4)],
  ];
  for (const [name, payload] of corrupt) {
    test(`RFC 7692 §8 / RFC 6455 §7.4.1: invalid compressed data (${name}) → 1007`, async (t) => {
      const h = serverSession(t, 'permessage-deflate');
      h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload }));
      await expectFailure(h, 1007, ErrorCode.INVALID_COMPRESSED_DATA);
      assert.equal(h.messages.length, 0);
    });
  }

  test('RFC 6455 §8.1: compressed text that inflates to invalid UTF-8 → 1007', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage(Buffer.concat([Buffer.from(jsonText(3000)), Buffer.from([0xc3, 0x28])])) }));
    await expectFailure(h, 1007, ErrorCode.INVALID_UTF8);
    assert.equal(h.messages.length, 0);
  });

  test('RFC 6455 §8.1: compressed text ending inside a code point (fragmented) → 1007', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const payload = deflateMessage(Buffer.from([0x61, 0xe2, 0x82]));
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, fin: false, payload: payload.subarray(0, 2) }));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, payload: payload.subarray(2) }));
    await expectFailure(h, 1007, ErrorCode.INVALID_UTF8);
  });

  test('RFC 6455 §5.6: compressed binary with bytes that are not UTF-8 is delivered as is', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    const data = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00]);
    h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload: deflateMessage(data) }));
    await settle(h, 1);
    assert.deepEqual(h.errors, []);
    assert.ok(h.messages[0]!.data.equals(data));
  });
});

describe('maxPayload counts inflated bytes (decision; RFC 6455 §10.4)', () => {
  test('decision: a compressed message inflating to exactly maxPayload is delivered; one byte more → 1009', async (t) => {
    const ok = serverSession(t, 'permessage-deflate', {}, { maxPayload: 10_000 });
    ok.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload: deflateMessage(Buffer.alloc(10_000)) }));
    await settle(ok, 1);
    assert.deepEqual(ok.errors, []);
    assert.equal(ok.messages[0]!.data.length, 10_000);

    const over = serverSession(t, 'permessage-deflate', {}, { maxPayload: 10_000 });
    const payload = deflateMessage(Buffer.alloc(10_001));
    assert.ok(payload.length < 100, 'the wire size is far below maxPayload');
    over.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload }));
    await expectFailure(over, 1009, ErrorCode.MESSAGE_TOO_BIG);
    assert.equal(over.messages.length, 0);
  });

  test('decision: a fragmented compressed message inflating past maxPayload → 1009', async (t) => {
    const h = serverSession(t, 'permessage-deflate', {}, { maxPayload: 64 * 1024 });
    const payload = deflateMessage(Buffer.from(jsonText(200_000)));
    const third = Math.ceil(payload.length / 3);
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, fin: false, payload: payload.subarray(0, third) }));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: payload.subarray(third, 2 * third) }));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, fin: true, payload: payload.subarray(2 * third) }));
    await expectFailure(h, 1009, ErrorCode.MESSAGE_TOO_BIG);
  });

  test('decision: an incompressible message of exactly maxPayload bytes is delivered, though its compressed form is a few bytes longer', async (t) => {
    const h = serverSession(t, 'permessage-deflate', {}, { maxPayload: 10_000 });
    const data = noisyBytes(10_000, 13);
    for (let i = 0; i < data.length; i++) data[i] = (data[i]! * 131 + i * 7) & 0xff;
    const payload = deflateMessage(data);
    assert.ok(payload.length > 10_000, `compressed ${payload.length} bytes (stored blocks)`);
    h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload }));
    await settle(h, 1);
    assert.deepEqual(h.errors, [], 'maxPayload counts inflated bytes; this message inflates to exactly maxPayload');
    assert.ok(h.messages[0]!.data.equals(data));
  });

  test('decision: with context takeover, maxPayload still bounds each inflated message → 1009', async (t) => {
    const h = serverSession(t, 'permessage-deflate', TAKEOVER, { maxPayload: 32 * 1024 });
    const peer = new TakeoverDeflater();
    t.after(() => peer.close());
    h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload: await peer.message(Buffer.alloc(30 * 1024, 1)) }));
    await settle(h, 1);
    h.feed(clientFrame({ opcode: OP.BINARY, rsv1: true, payload: await peer.message(Buffer.alloc(40 * 1024, 1)) }));
    await expectFailure(h, 1009, ErrorCode.MESSAGE_TOO_BIG);
    assert.equal(h.messages.length, 1);
  });

  test('decision: the client side applies maxPayload to inflated bytes too → 1009', async (t) => {
    const extension = clientPerMessageDeflate().accept(parseExtensionHeader('permessage-deflate')[0]!);
    t.after(() => extension.dispose());
    const h = new SessionHarness('client', { maxPayload: 1000 });
    h.session.setExtension(extension);
    h.feed(serverFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage('a'.repeat(5000)) }));
    await expectFailure(h, 1009, ErrorCode.MESSAGE_TOO_BIG);
  });
});

describe('shared zlib contexts (decision: memory-safe mode)', () => {
  test('decision: after 40 sessions exchanged compressed messages, the idle pooled contexts are at most the concurrency limit (10)', async (t) => {
    const sessions = Array.from({ length: 40 }, () => serverSession(t, 'permessage-deflate'));
    sessions.forEach((h, i) => {
      h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage(`${jsonText(3000)}${i}`) }));
      h.session.sendText(`${jsonText(3000)}${i}`);
    });
    await waitUntil(() => sessions.every((h) => h.messages.length === 1), 5000, 'every session got its message');
    await Promise.all(sessions.map((h) => framesOut(h, 1)));
    for (const h of sessions) h.session.transportClosed();
    const pooled = pooledContextCount();
    assert.ok(pooled.inflate <= 10, `inflate contexts pooled: ${pooled.inflate}`);
    assert.ok(pooled.deflate <= 10, `deflate contexts pooled: ${pooled.deflate}`);
  });
});

// Last in the file: a BFINAL message once left a broken context in the process-wide pool (CHANGELOG
// 0.1.0, RFC 7692 §7.2.3.4); each of these tests first and last empties the pool, so that a regression
// shows here and not in an unrelated test.
describe('DEFLATE blocks with BFINAL set (RFC 7692 §7.2.3.4)', () => {
  /** Take every idle pooled inflate context once (10 decodes at once), so a broken one is discarded. */
  async function drainInflatePool(): Promise<void> {
    const sessions = Array.from({ length: 10 }, () => {
      const extension = serverPerMessageDeflate().accept(parseExtensionHeader('permessage-deflate'))!;
      const h = new SessionHarness('server');
      h.session.setExtension(extension);
      h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage('drain') }));
      return { h, extension };
    });
    try {
      await waitUntil(() => sessions.every(({ h }) => h.messages.length + h.errors.length > 0), 3000, 'the pool drained');
    } finally {
      for (const { extension } of sessions) extension.dispose();
    }
  }
  beforeEach(drainInflatePool);
  after(drainInflatePool);

  test('RFC 7692 §7.2.3.4: the RFC\'s example, "Hello" in a DEFLATE block with BFINAL set to 1', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: hexBytes('f3 48 cd c9 c9 07 00 00') }));
    await settle(h, 1);
    assert.deepEqual(h.errors, []);
    assert.equal(text(h, 0), 'Hello');
  });

  test('RFC 7692 §7.2.3.4: after a message ending with a BFINAL block, the next messages still inflate (no context takeover)', async (t) => {
    const h = serverSession(t, 'permessage-deflate');
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: hexBytes('f3 48 cd c9 c9 07 00 00') }));
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: hexBytes('f2 48 cd c9 c9 07 00') }));
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: hexBytes('f2 48 05 00 00 00 ff ff ca c9 c9 07 00') }));
    await settle(h, 3);
    assert.deepEqual(h.errors, [], 'no failure after a valid BFINAL message');
    assert.deepEqual(h.messages.map((m) => m.data.toString()), ['Hello', 'Hello', 'Hello']);
  });

  test('RFC 7692 §7.2.3.4: a BFINAL message does not break later messages on other connections (shared zlib contexts)', async (t) => {
    const a = serverSession(t, 'permessage-deflate');
    a.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: hexBytes('f3 48 cd c9 c9 07 00 00') }));
    await settle(a, 1);
    const others: SessionHarness[] = [];
    for (let i = 0; i < 3; i++) {
      const b = serverSession(t, 'permessage-deflate');
      b.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: deflateMessage(`message ${i}`) }));
      await settle(b, 1);
      others.push(b);
    }
    assert.deepEqual(
      others.map((b) => (b.errors.length > 0 ? `failed ${b.errors[0]!.closeCode}` : b.messages[0]!.data.toString())),
      ['message 0', 'message 1', 'message 2'],
    );
  });

  test('RFC 7692 §7.2.3.4: with context takeover, a message after a BFINAL message is inflated correctly', async (t) => {
    const h = serverSession(t, 'permessage-deflate', TAKEOVER);
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: hexBytes('f3 48 cd c9 c9 07 00 00') }));
    h.feed(clientFrame({ opcode: OP.TEXT, rsv1: true, payload: hexBytes('f2 48 cd c9 c9 07 00') }));
    await settle(h, 2);
    assert.deepEqual(h.errors, []);
    assert.deepEqual(h.messages.map((m) => m.data.toString()), ['Hello', 'Hello']);
  });

});
