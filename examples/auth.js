// Authentication at the handshake with `onHandshake`: the client proves who it is before the
// connection exists, and a refusal is a plain HTTP answer (401 with WWW-Authenticate, RFC 6750 §3),
// so no unauthenticated WebSocket is ever opened. Run it from the repository root:
//   npm install && npm run build && node examples/auth.js
// It prints a token for "alice" to try.
//
// The token is "<user>.<signature>", the signature an HMAC-SHA256 of the user name with the
// server's secret: the server checks it without a session store. Browsers cannot set headers on
// a WebSocket, so the token may come in the query (?token=...) as well as in an
// `Authorization: Bearer ...` header (other clients). Tokens in URLs end up in access logs:
// prefer short-lived ones there.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer } from 'wsforge';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const secret = process.env.AUTH_SECRET ?? randomBytes(32).toString('hex');
const REALM = 'Bearer realm="wsforge example"';

/** @param {string} user */
function signatureOf(user) {
  return createHmac('sha256', secret).update(user).digest('base64url');
}

/** @param {string} user */
function tokenFor(user) {
  return `${user}.${signatureOf(user)}`;
}

/**
 * The user a token names, or null when its signature is wrong.
 * @param {string} token
 */
function userOf(token) {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return null;
  const user = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(signatureOf(user));
  // Compared in constant time, so the signature cannot be guessed byte by byte from timings.
  return given.length === expected.length && timingSafeEqual(given, expected) ? user : null;
}

/** @typedef {{ user: string }} Session what `onHandshake` attaches to the connection as `ws.data` */

const wss = new WebSocketServer({
  onHandshake(request) {
    const header = request.headers['authorization'];
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : request.query.get('token');
    // RFC 6750 §3: 401 with a WWW-Authenticate challenge; error="invalid_token" when one was given.
    if (token === null || token === '') {
      return { status: 401, headers: { 'WWW-Authenticate': REALM }, body: 'a token is required' };
    }
    const user = userOf(token);
    if (user === null) {
      return { status: 401, headers: { 'WWW-Authenticate': `${REALM}, error="invalid_token"` }, body: 'invalid token' };
    }
    /** @type {Session} */
    const session = { user };
    return { data: session }; // accepted: available as ws.data on the connection
  },
  handlers: {
    open(ws) {
      const { user } = /** @type {Session} */ (ws.data);
      ws.send(`hello, ${user}`);
    },
    message(ws, data) {
      const { user } = /** @type {Session} */ (ws.data);
      ws.send(`${user} said: ${String(data)}`);
    },
  },
});

// Ctrl-C or SIGTERM: every WebSocket is closed with 1001 (going away), then the process exits.
// Installed before listening, so a signal that comes right after the "listening" line is handled.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    await wss.close();
    process.exit(0);
  });
}

const { port: boundPort } = await wss.listen({ port, host });
console.log(`listening on http://${host}:${boundPort}/`);
console.log(`try: ws://${host}:${boundPort}/?token=${tokenFor('alice')}`);
