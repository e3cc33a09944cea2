// Reference echo server on the ws package, with the same contract as `wsforge serve --mode echo`:
// prints `listening on ws://HOST:PORT` when ready. Used to validate the conformance driver.
import { WS_LIMITS } from './ws-limits.js';
import { WebSocketServer } from 'ws';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '0'));

// --deflate: accept permessage-deflate with ws's defaults (for the compression cases, 12 and 13).
const wss = new WebSocketServer({ host, port, ...WS_LIMITS, perMessageDeflate: args.includes('--deflate') });
wss.on('connection', (ws) => {
  ws.on('error', () => {
    /* the connection is closed by ws itself */
  });
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => {
  const addr = wss.address();
  if (typeof addr === 'object' && addr !== null) console.log(`listening on ws://${host}:${addr.port}`);
});
const stop = (): void => {
  for (const c of wss.clients) c.close(1001);
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
