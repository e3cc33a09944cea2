// wsforge/ws echo / broadcast server for the benchmark: the ws 8 API on wsforge's engine, written the way
// ws users write a server (bench/servers/ws-server.mjs with only the import changed): a 'connection'
// listener that adds 'message' listeners, a loop over wss.clients to broadcast. Uses the compiled package
// in dist/ (run `npm run build` first).
//
// usage: node wsforge-ws-server.mjs [--host 127.0.0.1] [--port 0] [--mode echo|broadcast]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'echo' },
  },
});
if (args.mode !== 'echo' && args.mode !== 'broadcast') throw new Error(`unknown --mode ${args.mode}`);

const entry = new URL('../../dist/ws/index.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('wsforge-ws-server: dist/ws/index.js not found; run `npm run build` first');
  process.exit(3);
}
const { WebSocketServer } = await import(entry.href);

const wss = new WebSocketServer({ host: args.host, port: Number(args.port) });

if (args.mode === 'echo') {
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
} else {
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      for (const client of wss.clients) client.send(data, { binary: isBinary });
    });
  });
}

wss.on('listening', () => {
  const { port } = wss.address();
  console.log(`listening on ws://${args.host}:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
