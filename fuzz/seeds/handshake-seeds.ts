/** Seeds of the handshake targets: settings bytes (see targets/request-handshake.ts and targets/response-handshake.ts), then an HTTP head. */

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function head(lines: string[]): string {
  return lines.map((line) => `${line}\r\n`).join('') + '\r\n';
}

function request(settings: number, headerSize: number, lines: string[]): Buffer {
  return Buffer.concat([Buffer.from([settings, headerSize]), Buffer.from(head(lines), 'latin1')]);
}

const BASIC = ['GET /chat HTTP/1.1', 'Host: example.com', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'];
const PATHS = 1;
const ORIGINS = 2;
const PROTOCOLS = 4;
const DEFLATE = 8;
const HOOK = 16;
const CLOSING = 32;
const FULL = 64;
const CHOOSER = 128;

export function requestSeeds(): Record<string, Buffer> {
  return {
    'rfc-6455-example': request(0, 0, ['GET /chat HTTP/1.1', 'Host: server.example.com', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Origin: http://example.com', 'Sec-WebSocket-Protocol: chat, superchat', 'Sec-WebSocket-Version: 13']),
    'all-policies-accept': request(PATHS | ORIGINS | PROTOCOLS | DEFLATE | HOOK, 0, [...BASIC, 'Origin: https://app.example', 'Sec-WebSocket-Protocol: chat.v1, chat.v2', 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate']),
    'chooser-and-hook-pick': request(PROTOCOLS | HOOK | CHOOSER, 0, ['GET /chat?pick HTTP/1.1', ...BASIC.slice(1), 'Sec-WebSocket-Protocol: a, chat.v2']),
    'hook-deny': request(HOOK, 0, ['GET /chat?deny HTTP/1.1', ...BASIC.slice(1)]),
    'hook-throws': request(HOOK, 0, ['GET /x?throw HTTP/1.1', ...BASIC.slice(1)]),
    'closing-and-full': request(CLOSING | FULL, 0, BASIC),
    'wrong-path-origin': request(PATHS | ORIGINS, 0, ['GET /other HTTP/1.1', ...BASIC.slice(1), 'Origin: https://evil.example']),
    'deflate-offers-invalid-then-valid': request(DEFLATE, 0, [...BASIC, 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits="12"; server_no_context_takeover']),
    'deflate-duplicate-param': request(DEFLATE, 0, [...BASIC, 'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_no_context_takeover, x-other; a=b']),
    'plain-http': request(0, 0, ['GET / HTTP/1.1', 'Host: a']),
    'version-8': request(0, 0, [...BASIC.slice(0, 5), 'Sec-WebSocket-Version: 8']),
    'http-1-0-post': request(0, 0, ['POST /chat HTTP/1.0', ...BASIC.slice(1)]),
    'folded-and-repeated': request(0, 0, [...BASIC, ' folded', 'Host: again']),
    'too-large-for-128': request(0, 2, [...BASIC, `Cookie: ${'c'.repeat(100)}`]),
    'incomplete-head': Buffer.concat([Buffer.from([0, 0]), Buffer.from('GET /chat HTTP/1.1\r\nHost: a\r\n', 'latin1')]),
    'lowercase-and-spaces': request(0, 0, ['GET /chat?x=1 HTTP/1.1', 'host:example.com', 'upgrade:  WebSocket ', 'connection: keep-alive, upgrade', `sec-websocket-key:\t${KEY}`, 'sec-websocket-version: 13']),
  };
}

/** A response as a server sends it; @ACCEPT@ stands for the right Sec-WebSocket-Accept. */
function response(settings: number, lines: string[], body = ''): Buffer {
  return Buffer.concat([Buffer.from([settings]), Buffer.from(head(lines) + body, 'latin1')]);
}

const SWITCHING = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: @ACCEPT@'];

export function responseSeeds(): Record<string, Buffer> {
  return {
    'accepted': response(0, SWITCHING),
    'accepted-subprotocol': response(1, [...SWITCHING, 'Sec-WebSocket-Protocol: chat']),
    'accepted-second-subprotocol': response(2, [...SWITCHING, 'Sec-WebSocket-Protocol: b']),
    'accepted-deflate': response(4, [...SWITCHING, 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover']),
    'accepted-deflate-window-bits': response(4 | (2 << 3), [...SWITCHING, 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; client_max_window_bits=9']),
    'deflate-not-offered': response(0, [...SWITCHING, 'Sec-WebSocket-Extensions: permessage-deflate']),
    'deflate-twice': response(4, [...SWITCHING, 'Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate']),
    'deflate-bits-16': response(4, [...SWITCHING, 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16']),
    'wrong-accept': response(0, [...SWITCHING.slice(0, 3), 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=']),
    'protocol-not-offered': response(0, [...SWITCHING, 'Sec-WebSocket-Protocol: chat']),
    'refused-401-chunked': response(0, ['HTTP/1.1 401 Unauthorized', 'Transfer-Encoding: chunked', 'WWW-Authenticate: Bearer'], '5\r\nhello\r\n0\r\n\r\n'),
    'refused-426': response(0, ['HTTP/1.1 426 Upgrade Required', 'Sec-WebSocket-Version: 13', 'Content-Length: 0']),
    'http-1-0-no-reason': response(0, ['HTTP/1.0 101', 'Upgrade: websocket', 'Connection: upgrade', 'Sec-WebSocket-Accept: @ACCEPT@']),
    'bare-lf': Buffer.concat([Buffer.from([0]), Buffer.from('HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\r\n\r\n', 'latin1')]),
  };
}
