/**
 * The client's opening handshake without sockets (RFC 6455 §4.1): the offer made by
 * createClientHandshake, the request formatUpgradeRequest writes, and the checks of the server's
 * answer by checkHandshakeResponse / acceptExtensions (client requirements 1-6, §9.1).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  acceptExtensions,
  buildClientRequest,
  checkHandshakeResponse,
  type ClientExtensionFactory,
  clientPerMessageDeflate,
  createClientHandshake,
  ErrorCode,
  formatUpgradeRequest,
  type HttpResponseHead,
  parseExtensionHeader,
  parseRequestHead,
  parseResponseHead,
  validateUpgradeResponse,
} from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { acceptFor } from '../helpers/raw-peer.js';

guardProcess();

/** A response head parsed from its text lines (CRLF added). */
function response(...lines: string[]): HttpResponseHead {
  return parseResponseHead(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
}

/** A correct 101 for `key`, plus `extra` header lines. */
function switching(key: string, ...extra: string[]): HttpResponseHead {
  return response('HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(key)}`, ...extra);
}

describe('the offer (createClientHandshake, formatUpgradeRequest)', () => {
  test('RFC 6455 §4.1: by default a fresh 16-byte key and nothing else offered', () => {
    const a = createClientHandshake();
    const b = createClientHandshake();
    assert.equal(Buffer.from(a.key, 'base64').length, 16);
    assert.notEqual(a.key, b.key, 'a new key for every handshake');
    assert.deepEqual(
      { protocols: a.protocols, extensions: a.extensions, extensionOffer: a.extensionOffer, origin: a.origin, headers: a.headers },
      { protocols: [], extensions: [], extensionOffer: '', origin: undefined, headers: {} },
    );
  });

  test('RFC 6455 §4.1: the request carries the key, version 13, the subprotocols, the extension offer, Origin and extra headers', () => {
    const handshake = createClientHandshake({
      protocols: ['chat.v2', 'chat.v1'],
      extensions: [clientPerMessageDeflate()],
      origin: 'https://app.example.com',
      headers: { Authorization: 'Bearer t', Cookie: ['a=1', 'b=2'] },
    });
    assert.equal(handshake.extensionOffer, 'permessage-deflate; client_max_window_bits');
    assert.equal(handshake.origin, 'https://app.example.com');
    const request = formatUpgradeRequest(handshake, 'example.com:8080', '/chat?room=1');
    assert.equal(
      request,
      'GET /chat?room=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${handshake.key}\r\nSec-WebSocket-Version: 13\r\n` +
        'Sec-WebSocket-Protocol: chat.v2, chat.v1\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
        'Authorization: Bearer t\r\nCookie: a=1\r\nCookie: b=2\r\nOrigin: https://app.example.com\r\n\r\n',
    );
    // The server side reads back what was offered.
    const head = parseRequestHead(Buffer.from(request, 'latin1'));
    assert.equal(head.headers['sec-websocket-protocol'], 'chat.v2, chat.v1');
    assert.equal(head.headers['cookie'], 'a=1, b=2');
    assert.equal(head.headerCounts['cookie'], 2);
  });

  test('RFC 6455 §4.1: an empty extension offer writes no Sec-WebSocket-Extensions header', () => {
    const request = buildClientRequest({ host: 'h', path: '/', key: 'dGhlIHNhbXBsZSBub25jZQ==', protocols: [], extensions: '' });
    assert.doesNotMatch(request, /Sec-WebSocket-(Extensions|Protocol)/);
  });

  const invalid: Array<[string, Parameters<typeof createClientHandshake>[0]]> = [
    ['a subprotocol that is not a token', { protocols: ['chat v2'] }],
    ['an empty subprotocol', { protocols: [''] }],
    ['a subprotocol listed twice', { protocols: ['a', 'b', 'a'] }],
    ['a header value with CR LF (request splitting)', { headers: { 'X-A': 'v\r\nX-Injected: 1' } }],
    ['a header name that is not a token', { headers: { 'X A': 'v' } }],
    ['an Origin with a line break', { origin: 'https://a.example\nX: 1' }],
  ];
  for (const [name, options] of invalid) {
    test(`RFC 6455 §4.1 / RFC 9112 §2.2: ${name} throws WSF_ERR_INVALID_ARGUMENT before anything is sent`, () => {
      assert.throws(() => createClientHandshake(options), { code: ErrorCode.INVALID_ARGUMENT });
    });
  }
});

describe('checking the answer (checkHandshakeResponse)', () => {
  test('RFC 6455 §4.1: a 101 with the right accept, no subprotocol and no extension', () => {
    const handshake = createClientHandshake({ protocols: ['a'], extensions: [clientPerMessageDeflate()] });
    assert.deepEqual(checkHandshakeResponse(handshake, switching(handshake.key)), { protocol: undefined, extension: null });
  });

  test('RFC 6455 §4.1 (client requirement 6) and RFC 7692 §5: the selected subprotocol and the accepted permessage-deflate', () => {
    const handshake = createClientHandshake({ protocols: ['a', 'b'], extensions: [clientPerMessageDeflate()] });
    const result = checkHandshakeResponse(
      handshake,
      switching(handshake.key, 'Sec-WebSocket-Protocol: b', 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=12'),
    );
    assert.equal(result.protocol, 'b');
    assert.ok(result.extension !== null);
    assert.equal(result.extension.name, 'permessage-deflate');
    assert.deepEqual(result.extension.agreed, {
      name: 'permessage-deflate',
      params: [
        ['server_no_context_takeover', true],
        ['client_max_window_bits', '12'],
      ],
    });
    result.extension.dispose();
  });

  test('RFC 6455 §4.1 (requirement 1): a refusal names its status line; an empty body adds nothing', () => {
    const handshake = createClientHandshake();
    const refusal = response('HTTP/1.1 503 Service Unavailable', 'Retry-After: 1');
    assert.throws(() => checkHandshakeResponse(handshake, refusal, '  \n'), (error: Error & { code?: string }) => {
      assert.equal(error.code, ErrorCode.HANDSHAKE_STATUS);
      assert.equal(error.message, 'server answered "HTTP/1.1 503 Service Unavailable" instead of 101');
      return true;
    });
    assert.throws(() => checkHandshakeResponse(handshake, refusal, `${'x'.repeat(300)}`), (error: Error) => {
      assert.ok(error.message.endsWith(`: "${'x'.repeat(200)}"`), 'the body is quoted, at most 200 characters of it');
      return true;
    });
  });

  const missing: Array<[string, string[], string, RegExp]> = [
    ['no Upgrade header', ['Connection: Upgrade'], ErrorCode.HANDSHAKE_UPGRADE, /invalid Upgrade header in the response: null/],
    ['no Connection header', ['Upgrade: websocket'], ErrorCode.HANDSHAKE_UPGRADE, /invalid Connection header in the response: null/],
    ['no Sec-WebSocket-Accept', ['Upgrade: websocket', 'Connection: Upgrade'], ErrorCode.HANDSHAKE_ACCEPT, /invalid Sec-WebSocket-Accept: got null, expected "/],
  ];
  for (const [name, lines, code, message] of missing) {
    test(`RFC 6455 §4.1 (requirements 2-4): a 101 with ${name} fails with ${code}, naming what it got`, () => {
      const handshake = createClientHandshake();
      assert.throws(() => checkHandshakeResponse(handshake, response('HTTP/1.1 101 Switching Protocols', ...lines)), (error: Error & { code?: string }) => {
        assert.equal(error.code, code);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('RFC 6455 §4.1 (requirement 6): Sec-WebSocket-Protocol sent twice fails, even with an offered value', () => {
    const handshake = createClientHandshake({ protocols: ['a', 'b'] });
    assert.throws(() => checkHandshakeResponse(handshake, switching(handshake.key, 'Sec-WebSocket-Protocol: a', 'Sec-WebSocket-Protocol: a')), {
      code: ErrorCode.HANDSHAKE_SUBPROTOCOL,
      message: 'server selected subprotocol "a, a", not one of those offered (a, b)',
    });
  });

  test('RFC 6455 §4.1 (requirement 5): an extension that was not offered fails with WSF_ERR_HANDSHAKE_EXTENSION', () => {
    const handshake = createClientHandshake();
    assert.throws(() => checkHandshakeResponse(handshake, switching(handshake.key, 'Sec-WebSocket-Extensions: permessage-deflate')), {
      code: ErrorCode.HANDSHAKE_EXTENSION,
      message: 'server accepted extension "permessage-deflate" that was not offered',
    });
  });

  test('RFC 7692 §7.1: a permessage-deflate response that breaks the offer fails the handshake', () => {
    const handshake = createClientHandshake({ extensions: [clientPerMessageDeflate({ clientMaxWindowBits: 10 })] });
    assert.throws(() => checkHandshakeResponse(handshake, switching(handshake.key, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12')), {
      code: ErrorCode.HANDSHAKE_EXTENSION,
    });
  });
});

describe('accepting extensions (acceptExtensions, RFC 6455 §9.1)', () => {
  /** A client factory for a made-up extension that records what it is asked to accept. */
  function recordingFactory(name: string, accepted: string[]): ClientExtensionFactory {
    const inner = clientPerMessageDeflate();
    return {
      name,
      offer: () => [{ name, params: [] }],
      accept(element) {
        accepted.push(element.name);
        return inner.accept({ name: 'permessage-deflate', params: [] });
      },
    };
  }

  test('RFC 6455 §9.1: nothing accepted → no extension; each accepted element goes to the factory of its name', () => {
    assert.equal(acceptExtensions([clientPerMessageDeflate()], []), null);
    const accepted: string[] = [];
    const extension = acceptExtensions([recordingFactory('x-one', accepted), clientPerMessageDeflate()], parseExtensionHeader('x-one'));
    assert.deepEqual(accepted, ['x-one']);
    extension?.dispose();
  });

  test('RFC 6455 §9.1: the same extension accepted twice fails with WSF_ERR_HANDSHAKE_EXTENSION', () => {
    assert.throws(() => acceptExtensions([clientPerMessageDeflate()], parseExtensionHeader('permessage-deflate, permessage-deflate')), {
      code: ErrorCode.HANDSHAKE_EXTENSION,
      message: 'server accepted extension "permessage-deflate" twice',
    });
  });

  test('RFC 6455 §4.1: validateUpgradeResponse reports the accepted extensions as parsed, for the caller to check', () => {
    const key = createClientHandshake().key;
    assert.deepEqual(validateUpgradeResponse(switching(key, 'Sec-WebSocket-Extensions: x-a; p=1, x-b'), key, []).extensions, [
      { name: 'x-a', params: [['p', '1']] },
      { name: 'x-b', params: [] },
    ]);
  });
});
