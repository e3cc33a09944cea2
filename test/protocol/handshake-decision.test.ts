/**
 * The server's handshake decision (decideHandshake), transport-neutral and without sockets:
 * admission in its documented order (server closing 503, path 404, origin 403, connection limit
 * 503, then the hook), the hook's answers (sync and async, failures as 500 with `failure`), the
 * subprotocol (RFC 6455 §4.2.2) and the extension (RFC 6455 §9.1, RFC 7692 §5).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decideHandshake,
  ErrorCode,
  type ExtensionParams,
  type HandshakeAcceptance,
  type HandshakeOutcome,
  type HandshakePolicy,
  HandshakeRejection,
  type HandshakeRequest,
  parseExtensionHeader,
  serverPerMessageDeflate,
  type ServerExtensionFactory,
  type ServerLoad,
  WebSocketError,
} from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

interface RequestOverrides {
  transport?: 'http/1.1' | 'h2';
  url?: string;
  origin?: string;
  protocols?: string[];
  extensions?: string;
}

/** A request as node/'s responders build it (HTTP/1.1 upgrade unless `transport: 'h2'`). */
function handshakeRequest(overrides: RequestOverrides = {}): HandshakeRequest {
  const url = overrides.url ?? '/chat';
  const parsed = new URL(url, 'http://localhost');
  const headers: Record<string, string> = { host: 'localhost' };
  if (overrides.origin !== undefined) headers['origin'] = overrides.origin;
  return {
    transport: overrides.transport ?? 'http/1.1',
    method: overrides.transport === 'h2' ? 'CONNECT' : 'GET',
    url,
    path: parsed.pathname,
    query: parsed.searchParams,
    headers,
    origin: overrides.origin,
    remoteAddress: '127.0.0.1',
    protocols: overrides.protocols ?? [],
    extensions: overrides.extensions === undefined ? [] : parseExtensionHeader(overrides.extensions),
  };
}

function policy(overrides: Partial<HandshakePolicy> = {}): HandshakePolicy {
  return {
    paths: null,
    origins: null,
    maxConnections: 1000,
    onHandshake: undefined,
    protocols: undefined,
    handleProtocols: undefined,
    extensions: [],
    ...overrides,
  };
}

const IDLE: ServerLoad = { connections: 1, closing: false };

/** The outcome of a decision that must not need a promise. */
function decideNow(request: HandshakeRequest, rules: HandshakePolicy, load: ServerLoad = IDLE): HandshakeOutcome {
  const outcome = decideHandshake(request, rules, load);
  assert.ok(!(outcome instanceof Promise), 'decided synchronously');
  return outcome;
}

function accepted(outcome: HandshakeOutcome): HandshakeAcceptance {
  if (outcome instanceof HandshakeRejection) assert.fail(`refused with ${outcome.status} ${outcome.reason}`);
  assert.equal(outcome.accepted, true);
  return outcome;
}

function refused(outcome: HandshakeOutcome, status: number): HandshakeRejection {
  assert.ok(outcome instanceof HandshakeRejection, 'a refusal');
  assert.equal(outcome.accepted, false);
  assert.equal(outcome.status, status, `status (reason: ${outcome.reason})`);
  return outcome;
}

/** A 500 whose cause, for the server's error listeners, says `failure`. */
function internalError(outcome: HandshakeOutcome, failure: RegExp): Error {
  const rejection = refused(outcome, 500);
  assert.equal(rejection.reason, 'internal error', 'the peer is told nothing more');
  assert.ok(rejection.failure instanceof Error, 'failure is set');
  assert.match(rejection.failure.message, failure);
  return rejection.failure;
}

describe('admission, in its documented order (503 closing, 404 path, 403 origin, 503 limit, then the hook)', () => {
  test('decision: a server shutting down answers 503 before looking at the path or calling the hook', () => {
    let calls = 0;
    const rules = policy({ paths: new Set(['/chat']), onHandshake: () => void calls++ });
    const rejection = refused(decideNow(handshakeRequest({ url: '/elsewhere' }), rules, { connections: 1, closing: true }), 503);
    assert.equal(rejection.reason, 'server shutting down');
    assert.equal(calls, 0);
  });

  test('decision: a path not served → 404 naming at most 100 characters of it; the query is not part of the path', () => {
    const rules = policy({ paths: new Set(['/chat']) });
    const long = `/${'x'.repeat(300)}`;
    assert.equal(refused(decideNow(handshakeRequest({ url: long }), rules), 404).reason, `no WebSocket endpoint at ${long.slice(0, 100)}`);
    accepted(decideNow(handshakeRequest({ url: '/chat?room=1' }), rules));
    accepted(decideNow(handshakeRequest({ url: '/anything' }), policy({ paths: null })));
  });

  test('decision: Origin is compared case-insensitively with the allowed list; another → 403; none (not a browser) passes', () => {
    const rules = policy({ origins: new Set(['https://app.example.com']) });
    accepted(decideNow(handshakeRequest({ origin: 'https://APP.example.com' }), rules));
    assert.equal(refused(decideNow(handshakeRequest({ origin: 'https://evil.example' }), rules), 403).reason, 'origin not allowed');
    accepted(decideNow(handshakeRequest(), rules));
  });

  test('decision: maxConnections counts this connection: at the limit it passes, one over → 503 with Retry-After: 1', () => {
    const rules = policy({ maxConnections: 2 });
    accepted(decideNow(handshakeRequest(), rules, { connections: 2, closing: false }));
    const rejection = refused(decideNow(handshakeRequest(), rules, { connections: 3, closing: false }), 503);
    assert.equal(rejection.reason, 'too many connections');
    assert.deepEqual(rejection.headers, { 'Retry-After': '1' });
  });

  test('decision: each check wins over the later ones (404 before 403 before 503 before the hook)', () => {
    let calls = 0;
    const rules = policy({ paths: new Set(['/chat']), origins: new Set(['https://a.example']), maxConnections: 1, onHandshake: () => void calls++ });
    const full: ServerLoad = { connections: 5, closing: false };
    refused(decideNow(handshakeRequest({ url: '/x', origin: 'https://b.example' }), rules, full), 404);
    refused(decideNow(handshakeRequest({ origin: 'https://b.example' }), rules, full), 403);
    refused(decideNow(handshakeRequest({ origin: 'https://a.example' }), rules, full), 503);
    assert.equal(calls, 0, 'the hook is not asked about a request already refused');
    accepted(decideNow(handshakeRequest({ origin: 'https://a.example' }), rules));
    assert.equal(calls, 1);
  });

  test('decision: the same policy decides an HTTP/2 extended CONNECT (RFC 8441) and the hook sees its transport', () => {
    const seen: string[] = [];
    const rules = policy({ paths: new Set(['/chat']), onHandshake: (request) => void seen.push(`${request.transport} ${request.method}`) });
    accepted(decideNow(handshakeRequest({ transport: 'h2' }), rules));
    refused(decideNow(handshakeRequest({ transport: 'h2', url: '/other' }), rules), 404);
    assert.deepEqual(seen, ['h2 CONNECT']);
  });
});

describe('the handshake hook (docs/API.md "The handshake hook")', () => {
  test('decision: without a hook, or when it returns undefined or true, the handshake is accepted with nothing added', () => {
    for (const hook of [undefined, () => undefined, () => true]) {
      const acceptance = accepted(decideNow(handshakeRequest(), policy({ onHandshake: hook })));
      assert.deepEqual(
        { ...acceptance },
        { accepted: true, protocol: undefined, extension: null, extensionHeader: undefined, headers: undefined, data: undefined },
      );
    }
  });

  test('decision: false refuses with 403', () => {
    assert.equal(refused(decideNow(handshakeRequest(), policy({ onHandshake: () => false })), 403).reason, 'forbidden');
  });

  test('decision: { data, headers } accepts, carrying the data for ws.data and the checked response headers', () => {
    const data = { user: 'ada' };
    const headers = { 'Set-Cookie': ['a=1', 'b=2'], 'X-Served-By': 'test' };
    const acceptance = accepted(decideNow(handshakeRequest(), policy({ onHandshake: () => ({ data, headers }) })));
    assert.equal(acceptance.data, data);
    assert.deepEqual(acceptance.headers, headers);
  });

  test('decision: { status, body, headers } refuses with that status, the body as the reason, list values joined', () => {
    const rejection = refused(
      decideNow(
        handshakeRequest(),
        policy({ onHandshake: () => ({ status: 401, body: 'token expired', headers: { 'WWW-Authenticate': 'Bearer', 'X-List': ['a', 'b'] } }) }),
      ),
      401,
    );
    assert.equal(rejection.reason, 'token expired');
    assert.deepEqual(rejection.headers, { 'WWW-Authenticate': 'Bearer', 'X-List': 'a, b' });
    assert.equal(rejection.failure, undefined, 'a refusal the application chose is not a failure');
    const bare = refused(decideNow(handshakeRequest(), policy({ onHandshake: () => ({ status: 429 }) })), 429);
    assert.equal(bare.reason, '');
    assert.deepEqual(bare.headers, {});
  });

  for (const status of [200, 399, 600, 401.5, Number.NaN]) {
    test(`decision: a refusal with status ${status} (not 400-599) is the application's bug → 500 with the cause in failure`, () => {
      internalError(decideNow(handshakeRequest(), policy({ onHandshake: () => ({ status }) })), new RegExp(`returned status ${status}; use 400-599`));
    });
  }

  test('RFC 9112 §2.2: hook headers that would split the response (CR/LF in a value, a name that is not a token) → 500', () => {
    const splitting = internalError(
      decideNow(handshakeRequest(), policy({ onHandshake: () => ({ status: 401, headers: { 'WWW-Authenticate': 'Bearer\r\nSet-Cookie: x=1' } }) })),
      /invalid value for header WWW-Authenticate/,
    );
    assert.equal((splitting as WebSocketError).code, ErrorCode.INVALID_ARGUMENT);
    internalError(decideNow(handshakeRequest(), policy({ onHandshake: () => ({ headers: { 'Bad Name': 'x' } }) })), /invalid header name "Bad Name"/);
  });

  test('decision: a hook that throws → 500, with what it threw as failure (an Error as is, anything else wrapped)', () => {
    const thrown = new Error('database down');
    const failure = internalError(
      decideNow(
        handshakeRequest(),
        policy({
          onHandshake: () => {
            throw thrown;
          },
        }),
      ),
      /database down/,
    );
    assert.equal(failure, thrown);
    internalError(
      decideNow(
        handshakeRequest(),
        policy({
          onHandshake: () => {
            throw 'not an Error';
          },
        }),
      ),
      /^not an Error$/,
    );
  });

  test('decision: an async hook makes the decision a promise, settled with what the hook resolves to', async () => {
    const data = { user: 'grace' };
    const pending = decideHandshake(handshakeRequest(), policy({ onHandshake: async () => ({ data }) }), IDLE);
    assert.ok(pending instanceof Promise);
    assert.equal(accepted(await pending).data, data);
    assert.equal(refused(await decideHandshake(handshakeRequest(), policy({ onHandshake: async () => false }), IDLE), 403).reason, 'forbidden');
    const refusal = refused(await decideHandshake(handshakeRequest(), policy({ onHandshake: async () => ({ status: 403, body: 'banned' }) }), IDLE), 403);
    assert.equal(refusal.reason, 'banned');
  });

  test('decision: an async hook that rejects → 500 with the rejection as failure', async () => {
    const reason = new Error('token service timed out');
    const failure = internalError(
      await decideHandshake(handshakeRequest(), policy({ onHandshake: () => Promise.reject(reason) }), IDLE),
      /token service timed out/,
    );
    assert.equal(failure, reason);
    internalError(await decideHandshake(handshakeRequest(), policy({ onHandshake: () => Promise.reject(404) }), IDLE), /^404$/);
  });
});

describe('subprotocol selection (RFC 6455 §4.2.2)', () => {
  test('RFC 6455 §4.2.2: with `protocols`, the first of the server\'s list that the client offered is selected', () => {
    const rules = policy({ protocols: ['chat.v2', 'chat.v1'] });
    assert.equal(accepted(decideNow(handshakeRequest({ protocols: ['chat.v1', 'chat.v2'] }), rules)).protocol, 'chat.v2');
    assert.equal(accepted(decideNow(handshakeRequest({ protocols: ['chat.v1'] }), rules)).protocol, 'chat.v1');
    assert.equal(accepted(decideNow(handshakeRequest({ protocols: ['mqtt'] }), rules)).protocol, undefined, 'none in common: none selected');
    assert.equal(accepted(decideNow(handshakeRequest(), rules)).protocol, undefined);
  });

  test('RFC 6455 §4.2.2: handleProtocols chooses (before `protocols`), seeing the offer and the request; not asked when nothing was offered', () => {
    const calls: Array<[readonly string[], string]> = [];
    const rules = policy({
      protocols: ['a'],
      handleProtocols: (offered, request) => {
        calls.push([offered, request.path]);
        return offered.at(-1);
      },
    });
    assert.equal(accepted(decideNow(handshakeRequest({ protocols: ['a', 'b'] }), rules)).protocol, 'b');
    assert.equal(accepted(decideNow(handshakeRequest(), rules)).protocol, undefined);
    assert.deepEqual(calls, [[['a', 'b'], '/chat']]);
    const none = policy({ handleProtocols: () => undefined });
    assert.equal(accepted(decideNow(handshakeRequest({ protocols: ['a'] }), none)).protocol, undefined);
  });

  test('RFC 6455 §4.2.2: a chooser that selects a subprotocol the client did not offer → 500 (never sent to the client)', () => {
    internalError(
      decideNow(handshakeRequest({ protocols: ['a'] }), policy({ handleProtocols: () => 'z' })),
      /selected subprotocol "z" was not offered by the client/,
    );
  });

  test('decision: a chooser that throws → 500 with the cause', () => {
    const thrown = new Error('chooser bug');
    const rules = policy({
      handleProtocols: () => {
        throw thrown;
      },
    });
    assert.equal(internalError(decideNow(handshakeRequest({ protocols: ['a'] }), rules), /chooser bug/), thrown);
  });

  test('RFC 6455 §4.2.2: the hook\'s `protocol` wins over the chooser, and must have been offered too', () => {
    let chooserCalls = 0;
    const chooser = () => {
      chooserCalls++;
      return 'a';
    };
    const hookChoice = policy({ onHandshake: () => ({ protocol: 'b' }), handleProtocols: chooser });
    assert.equal(accepted(decideNow(handshakeRequest({ protocols: ['a', 'b'] }), hookChoice)).protocol, 'b');
    assert.equal(chooserCalls, 0);
    internalError(decideNow(handshakeRequest({ protocols: ['a'] }), hookChoice), /selected subprotocol "b" was not offered/);
    internalError(decideNow(handshakeRequest(), hookChoice), /selected subprotocol "b" was not offered/);
  });
});

describe('extension negotiation (RFC 6455 §9.1, RFC 7692 §5)', () => {
  /** A factory for another extension name that records what it is asked and declines. */
  function decliningFactory(name: string, asked: string[]): ServerExtensionFactory {
    return {
      name,
      accept(offers: readonly ExtensionParams[]) {
        asked.push(`${name}: ${offers.length} offer(s)`);
        return null;
      },
    };
  }

  test('RFC 7692 §5: permessage-deflate offered and served → the extension, and its response header', () => {
    const acceptance = accepted(
      decideNow(handshakeRequest({ extensions: 'permessage-deflate; client_max_window_bits' }), policy({ extensions: [serverPerMessageDeflate()] })),
    );
    assert.ok(acceptance.extension !== null);
    assert.equal(acceptance.extension.name, 'permessage-deflate');
    assert.equal(acceptance.extensionHeader, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    acceptance.extension.dispose();
  });

  test('RFC 6455 §9.1: factories are tried in order, each with the offers of its own name only; the first that accepts wins', () => {
    const asked: string[] = [];
    const rules = policy({ extensions: [decliningFactory('x-unused', asked), decliningFactory('x-first', asked), serverPerMessageDeflate()] });
    const acceptance = accepted(decideNow(handshakeRequest({ extensions: 'x-first; a=1, x-first; a=2, permessage-deflate' }), rules));
    assert.deepEqual(asked, ['x-first: 2 offer(s)'], 'a factory whose extension was not offered is not asked');
    assert.equal(acceptance.extension?.name, 'permessage-deflate');
    acceptance.extension?.dispose();
  });

  test('RFC 6455 §9.1: when every factory declines, the connection is accepted without an extension', () => {
    const asked: string[] = [];
    const acceptance = accepted(decideNow(handshakeRequest({ extensions: 'x-first' }), policy({ extensions: [decliningFactory('x-first', asked)] })));
    assert.equal(acceptance.extension, null);
    assert.equal(acceptance.extensionHeader, undefined);
    assert.deepEqual(asked, ['x-first: 1 offer(s)']);
  });

  test('decision: offers are ignored when the server has no extension, and factories are not asked when nothing is offered', () => {
    assert.equal(accepted(decideNow(handshakeRequest({ extensions: 'permessage-deflate' }), policy())).extension, null);
    const asked: string[] = [];
    assert.equal(accepted(decideNow(handshakeRequest(), policy({ extensions: [decliningFactory('x-first', asked)] }))).extension, null);
    assert.deepEqual(asked, []);
  });

  test('RFC 6455 §9.1: a factory that finds an offer malformed (it throws) → 400 with its reason', () => {
    const strict: ServerExtensionFactory = {
      name: 'x-strict',
      accept() {
        throw new WebSocketError(ErrorCode.HANDSHAKE_EXTENSION, 'x-strict: parameter "level" appears twice');
      },
    };
    const rejection = refused(decideNow(handshakeRequest({ extensions: 'x-strict; level=1; level=2' }), policy({ extensions: [strict] })), 400);
    assert.equal(rejection.reason, 'x-strict: parameter "level" appears twice');
  });
});
