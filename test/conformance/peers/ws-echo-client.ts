// Reference echo client on the ws package, with the contract of `wsforge connect <url> --echo`: sends every
// message back with the same type, exits 0 when the server closes with 1000. Bounded: exits 2 after 120 s.
import { WS_LIMITS } from './ws-limits.js';
import { WebSocket } from 'ws';

// ws-echo-client <url> [--deflate]: ws offers permessage-deflate by default, so --deflate changes nothing.
const url = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (url === undefined) {
  console.error('usage: ws-echo-client <url> [--deflate]');
  process.exit(64);
}
const ws = new WebSocket(url, { ...WS_LIMITS, perMessageDeflate: true });
ws.on('error', (err) => console.error(`error: ${err.message}`));
ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
ws.on('close', (code) => process.exit(code === 1000 ? 0 : 1));
setTimeout(() => process.exit(2), 120_000).unref();
