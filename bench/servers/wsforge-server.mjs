// wsforge echo / broadcast server for the benchmark, written against the public API (docs/API.md) and the
// compiled package in dist/ (run `npm run build` first).
//
// usage: node wsforge-server.mjs [--host 127.0.0.1] [--port 0] [--mode echo|broadcast] [--deflate [--takeover]] [--listeners]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'echo' },
    deflate: { type: 'boolean', default: false },
    // with --deflate: wsforge's default is no context takeover both ways; --takeover turns it on both ways
    takeover: { type: 'boolean', default: false },
    'no-takeover': { type: 'boolean', default: false },
    // per-connection listeners (as ws users write it) instead of server-wide handlers
    listeners: { type: 'boolean', default: false },
  },
});
if (args.mode !== 'echo' && args.mode !== 'broadcast') throw new Error(`unknown --mode ${args.mode}`);

const entry = new URL('../../dist/index.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('wsforge-server: dist/index.js not found; run `npm run build` first');
  process.exit(3);
}
const { WebSocketServer } = await import(entry.href);

// Written the way the README recommends for servers: server-wide `handlers` (no closure and no
// listener table per connection); --listeners writes it with per-connection listeners instead.
// Text arrives as a string, binary as a Buffer, so send() keeps the type.
function onMessage(ws, data) {
  if (args.mode === 'echo') ws.send(data);
  else if (frameOnce) wss.broadcast(data);
  else for (const client of wss.clients) client.send(data);
}
const wss = new WebSocketServer({
  ...(args.listeners ? {} : { handlers: { message: onMessage } }),
  ...(args.deflate
    ? { perMessageDeflate: args.takeover ? { serverNoContextTakeover: false, clientNoContextTakeover: false } : true }
    : {}),
});
const frameOnce = typeof wss.broadcast === 'function';
console.error(
  `wsforge-server: permessage-deflate ${args.deflate ? 'on' : 'off'}` +
    (args.mode === 'broadcast' ? `; broadcast via ${frameOnce ? 'wss.broadcast()' : 'a loop over wss.clients'}` : ''),
);

if (args.listeners) {
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data) => onMessage(ws, data));
  });
}

const { port } = await wss.listen({ port: Number(args.port), host: args.host });
console.log(`listening on ws://${args.host}:${port}`);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
