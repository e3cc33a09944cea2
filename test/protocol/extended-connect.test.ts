/** The opening handshake over HTTP/2 (RFC 8441 §4-5), server and client side, without sockets. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildErrorResponse,
  buildExtendedConnectRefusal,
  buildExtendedConnectRequest,
  buildExtendedConnectResponse,
  checkExtendedConnectResponse,
  clientPerMessageDeflate,
  createClientHandshake,
  HandshakeRejection,
  parseRequestHead,
  readExtendedConnectResponse,
  readHttp2HeaderList,
  validateExtendedConnect,
  validateUpgradeRequest,
  WebSocketError,
  type HeaderMap,
} from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { upgradeRequest } from '../helpers/raw-peer.js';

guardProcess();

/** The header list Chromium sends for `new WebSocket('wss://example.com/chat?room=1')` over HTTP/2. */
function connectFields(changes: Record<string, string | null> = {}): HeaderMap {
  const fields: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':authority': 'example.com',
    ':path': '/chat?room=1',
    'sec-websocket-version': '13',
    origin: 'https://example.com',
  };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) delete fields[name];
    else fields[name] = value;
  }
  return fields;
}

function refusal(fields: HeaderMap): HandshakeRejection {
  try {
    validateExtendedConnect(fields);
  } catch (error) {
    assert.ok(error instanceof HandshakeRejection, `expected a HandshakeRejection, got ${String(error)}`);
    return error;
  }
  assert.fail(`request was accepted: ${JSON.stringify(fields)}`);
}

function thrownBy(fn: () => unknown): WebSocketError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof WebSocketError, `expected a WebSocketError, got ${String(error)}`);
    return error;
  }
  assert.fail('no error was thrown');
}

describe('server: the extended CONNECT request (RFC 8441 §4-5)', () => {
  test('RFC 8441 §5: a well-formed request passes; regular fields without pseudo-headers, Host from :authority', () => {
    const result = validateExtendedConnect(
      connectFields({ 'sec-websocket-protocol': 'chat, superchat', 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' }),
    );
    assert.equal(result.scheme, 'https');
    assert.equal(result.authority, 'example.com');
    assert.equal(result.target, '/chat?room=1');
    assert.deepEqual({ ...result.headers }, {
      'sec-websocket-version': '13',
      origin: 'https://example.com',
      'sec-websocket-protocol': 'chat, superchat',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      host: 'example.com',
    });
    assert.deepEqual(result.protocols, ['chat', 'superchat']);
    assert.deepEqual(result.extensions, [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }]);
  });

  test('RFC 8441 §5: cleartext HTTP/2 (:scheme http) passes; a Host equal to :authority is kept', () => {
    const result = validateExtendedConnect(connectFields({ ':scheme': 'http', host: 'Example.com' }));
    assert.equal(result.scheme, 'http');
    assert.equal(result.headers['host'], 'Example.com');
  });

  const bad: Array<[string, Record<string, string | null>, number]> = [
    ['GET (not CONNECT)', { ':method': 'GET', ':protocol': null }, 405],
    ['POST', { ':method': 'POST' }, 405],
    ['CONNECT without :protocol (a tunnel)', { ':protocol': null }, 501],
    [':protocol other than websocket', { ':protocol': 'webtransport' }, 501],
    ['missing :scheme', { ':scheme': null }, 400],
    [':scheme ftp', { ':scheme': 'ftp' }, 400],
    ['missing :path', { ':path': null }, 400],
    [':path "*"', { ':path': '*' }, 400],
    ['missing :authority', { ':authority': null }, 400],
    ['Host differs from :authority', { host: 'other.example' }, 400],
    ['Sec-WebSocket-Key present', { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }, 400],
    ['missing Sec-WebSocket-Version', { 'sec-websocket-version': null }, 426],
    ['Sec-WebSocket-Version 8', { 'sec-websocket-version': '8' }, 426],
    ['malformed subprotocol list', { 'sec-websocket-protocol': 'chat, , bad proto' }, 400],
    ['duplicated subprotocol', { 'sec-websocket-protocol': 'chat, chat' }, 400],
    ['malformed extensions', { 'sec-websocket-extensions': 'permessage-deflate; =' }, 400],
  ];
  for (const [name, changes, status] of bad) {
    test(`RFC 8441 §4-5: ${name} → ${status}`, () => {
      assert.equal(refusal(connectFields(changes)).status, status);
    });
  }

  test('RFC 9110 §15.5.6: 405 says Allow: CONNECT; RFC 6455 §4.2.2: 426 says Sec-WebSocket-Version: 13', () => {
    assert.equal(refusal(connectFields({ ':method': 'GET' })).headers['Allow'], 'CONNECT');
    assert.equal(refusal(connectFields({ 'sec-websocket-version': '12' })).headers['Sec-WebSocket-Version'], '13');
  });

  test('decision: what both transports check is refused with the same status and reason over HTTP/1.1 and HTTP/2', () => {
    const cases: Array<[string, string]> = [
      ['sec-websocket-version', '8'],
      ['sec-websocket-protocol', 'a/b'],
      ['sec-websocket-protocol', 'chat, chat'],
      ['sec-websocket-extensions', 'foo; a="b'],
    ];
    for (const [name, value] of cases) {
      const h2 = refusal(connectFields({ [name]: value }));
      let h1: HandshakeRejection | null = null;
      const head = upgradeRequest(name === 'sec-websocket-version' ? { version: value } : { extra: [`${name}: ${value}`] });
      try {
        validateUpgradeRequest(parseRequestHead(Buffer.from(head, 'latin1')));
      } catch (error) {
        h1 = error as HandshakeRejection;
      }
      assert.ok(h1 instanceof HandshakeRejection, `HTTP/1.1 accepted ${name}: ${value}`);
      assert.deepEqual([h2.status, h2.reason], [h1.status, h1.reason], `${name}: ${value}`);
    }
  });

  test('RFC 9113 §8.2.3: a received header list: repeated fields joined with ", ", Cookie pieces with "; ", counted', () => {
    const { headers, headerCounts } = readHttp2HeaderList([':method', 'CONNECT', 'x-a', '1', 'cookie', 'a=1', 'x-a', '2', 'cookie', 'b=2']);
    assert.equal(headers['x-a'], '1, 2');
    assert.equal(headers['cookie'], 'a=1; b=2');
    assert.equal(headers[':method'], 'CONNECT');
    assert.deepEqual([headerCounts['x-a'], headerCounts['cookie'], headerCounts[':method']], [2, 2, 1]);
  });
});

describe('server: the responses (RFC 8441 §5)', () => {
  test('RFC 8441 §5: acceptance is :status 200 with the subprotocol and extensions, no Sec-WebSocket-Accept', () => {
    assert.deepEqual(buildExtendedConnectResponse('chat', 'permessage-deflate; server_no_context_takeover', { 'X-Extra': 'yes', 'Set-Cookie': ['a=1', 'b=2'] }), {
      ':status': 200,
      'sec-websocket-protocol': 'chat',
      'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover',
      'x-extra': 'yes',
      'set-cookie': ['a=1', 'b=2'],
    });
    assert.deepEqual(buildExtendedConnectResponse(), { ':status': 200 });
  });

  test('RFC 9113 §8.2.2: connection-specific fields an application adds are left out over HTTP/2', () => {
    const headers = buildExtendedConnectResponse(undefined, undefined, { Connection: 'close', Upgrade: 'websocket', 'Keep-Alive': '5', 'Transfer-Encoding': 'chunked', 'X-Kept': '1' });
    assert.deepEqual(headers, { ':status': 200, 'x-kept': '1' });
  });

  test('header injection: an invalid field name or value is refused (WSF_ERR_INVALID_ARGUMENT), pseudo-headers included', () => {
    assert.equal(thrownBy(() => buildExtendedConnectResponse(undefined, undefined, { 'X-Bad': 'a\r\nb' })).code, 'WSF_ERR_INVALID_ARGUMENT');
    assert.equal(thrownBy(() => buildExtendedConnectResponse(undefined, undefined, { ':status': '101' })).code, 'WSF_ERR_INVALID_ARGUMENT');
  });

  test('decision: a refusal has the status, plain-text body and extra fields of the HTTP/1.1 one, without Connection: close', () => {
    const { headers, body } = buildExtendedConnectRefusal(401, 'login first', { 'WWW-Authenticate': 'Bearer', Connection: 'close' });
    assert.deepEqual(headers, { ':status': 401, 'content-type': 'text/plain; charset=utf-8', 'content-length': 12, 'www-authenticate': 'Bearer' });
    assert.equal(body, 'login first\n');
    assert.equal(buildErrorResponse(401, 'login first').split('\r\n\r\n')[1], body, 'the same body as over HTTP/1.1');
    assert.deepEqual(buildExtendedConnectRefusal(403, ''), { headers: { ':status': 403, 'content-type': 'text/plain; charset=utf-8', 'content-length': 0 }, body: '' });
  });
});

describe('client: the extended CONNECT and its response (RFC 8441 §4-5)', () => {
  test('RFC 8441 §5: the request has :protocol websocket, the target, version 13, the offers, no Sec-WebSocket-Key', () => {
    const handshake = createClientHandshake({
      protocols: ['chat', 'superchat'],
      extensions: [clientPerMessageDeflate()],
      origin: 'https://example.com',
      headers: { Authorization: 'Bearer x', 'X-Many': ['1', '2'], Host: 'ignored', Connection: 'keep-alive' },
    });
    assert.deepEqual(buildExtendedConnectRequest(handshake, 'example.com:8443', '/chat?room=1'), {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':authority': 'example.com:8443',
      ':path': '/chat?room=1',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'chat, superchat',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      authorization: 'Bearer x',
      'x-many': ['1', '2'],
      origin: 'https://example.com',
    });
  });

  test('RFC 8441 §5: the response header list reads as a head: :status, reason phrase, regular fields', () => {
    const response = readExtendedConnectResponse([':status', '200', 'sec-websocket-protocol', 'chat', 'x-a', '1', 'x-a', '2']);
    assert.deepEqual(
      { ...response, headers: { ...response.headers }, headerCounts: { ...response.headerCounts } },
      { httpVersion: '2', status: 200, statusText: 'OK', headers: { 'sec-websocket-protocol': 'chat', 'x-a': '1, 2' }, headerCounts: { 'sec-websocket-protocol': 1, 'x-a': 2 } },
    );
    assert.equal(readExtendedConnectResponse([':status', '403']).statusText, 'Forbidden');
  });

  test('RFC 8441 §5 with RFC 6455 §4.1: a 200 settles the chosen subprotocol and the accepted extension', () => {
    const handshake = createClientHandshake({ protocols: ['chat'], extensions: [clientPerMessageDeflate()] });
    const result = checkExtendedConnectResponse(
      handshake,
      readExtendedConnectResponse([':status', '200', 'sec-websocket-protocol', 'chat', 'sec-websocket-extensions', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover']),
    );
    assert.equal(result.protocol, 'chat');
    assert.equal(result.extension?.name, 'permessage-deflate');
    result.extension?.dispose();
    assert.deepEqual(checkExtendedConnectResponse(handshake, readExtendedConnectResponse([':status', '200'])), { protocol: undefined, extension: null });
  });

  const badResponses: Array<[string, string[], string]> = [
    [':status 403', [':status', '403'], 'WSF_ERR_HANDSHAKE_STATUS'],
    [':status 101 (no such thing in HTTP/2)', [':status', '101'], 'WSF_ERR_HANDSHAKE_STATUS'],
    [':status 302', [':status', '302'], 'WSF_ERR_HANDSHAKE_STATUS'],
    ['a subprotocol that was not offered', [':status', '200', 'sec-websocket-protocol', 'other'], 'WSF_ERR_HANDSHAKE_SUBPROTOCOL'],
    ['two subprotocol fields', [':status', '200', 'sec-websocket-protocol', 'chat', 'sec-websocket-protocol', 'chat'], 'WSF_ERR_HANDSHAKE_SUBPROTOCOL'],
    ['an extension that was not offered', [':status', '200', 'sec-websocket-extensions', 'x-other'], 'WSF_ERR_HANDSHAKE_EXTENSION'],
    ['a malformed extension header', [':status', '200', 'sec-websocket-extensions', 'permessage-deflate; ='], 'WSF_ERR_HANDSHAKE_EXTENSION'],
  ];
  for (const [name, raw, code] of badResponses) {
    test(`RFC 8441 §5: ${name} → ${code}`, () => {
      const handshake = createClientHandshake({ protocols: ['chat'], extensions: [clientPerMessageDeflate()] });
      assert.equal(thrownBy(() => checkExtendedConnectResponse(handshake, readExtendedConnectResponse(raw))).code, code);
    });
  }

  test('WSF_ERR_HANDSHAKE_STATUS names the status and the start of the body', () => {
    const error = thrownBy(() => checkExtendedConnectResponse(createClientHandshake(), readExtendedConnectResponse([':status', '401']), 'login first\n'));
    assert.equal(error.message, 'server answered ":status 401 Unauthorized" to the extended CONNECT instead of 200: "login first"');
  });
});
