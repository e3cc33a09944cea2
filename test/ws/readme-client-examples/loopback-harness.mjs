// Preloaded (node --import) before each ws README client example, so the examples run
// unchanged (except for their import line) as tests, on loopback only:
// - the hosts of the README's addresses (www.host.com, websocket-echo.com) are the test's ws
//   server: ws://127.0.0.1:$WS_EXAMPLE_PORT (URL parsing is rewritten for those two hosts, and
//   wss: becomes ws: there, since the test server has no certificate for them);
// - timers of 10 s or more (the heartbeat client's 31 s) run 100 times faster.
const port = process.env.WS_EXAMPLE_PORT;
if (port === undefined) throw new Error('WS_EXAMPLE_PORT is not set');

const README_HOST = /^wss?:\/\/(www\.host\.com|websocket-echo\.com)(?=[/:?]|$)/;
const OriginalURL = globalThis.URL;
globalThis.URL = class LoopbackURL extends OriginalURL {
  constructor(input, base) {
    super(typeof input === 'string' ? input.replace(README_HOST, `ws://127.0.0.1:${port}`) : input, base);
  }
};

const setTimeoutOriginal = globalThis.setTimeout;
globalThis.setTimeout = (callback, delay, ...rest) => setTimeoutOriginal(callback, delay >= 10_000 ? delay / 100 : delay, ...rest);
