// `ws` (npm) echo / broadcast server for the benchmark, configured as its users run it in production:
// native bufferutil and utf-8-validate when they load, permessage-deflate off unless --deflate.
//
// usage: node ws-server.mjs [--host 127.0.0.1] [--port 0] [--mode echo|broadcast] [--deflate [--no-takeover]]
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'echo' },
    deflate: { type: 'boolean', default: false },
    // with --deflate: ws's default is context takeover both ways; --no-takeover turns it off both ways
    'no-takeover': { type: 'boolean', default: false },
    takeover: { type: 'boolean', default: false },
  },
});
if (args.mode !== 'echo' && args.mode !== 'broadcast') throw new Error(`unknown --mode ${args.mode}`);

// ws loads these optional native modules itself; report whether they are there (stderr, for the record).
const require = createRequire(import.meta.url);
const natives = ['bufferutil', 'utf-8-validate'].map((name) => {
  try {
    require(name);
    return `${name}: native`;
  } catch {
    return `${name}: missing (JS fallback)`;
  }
});
console.error(`ws-server: ${natives.join(', ')}; permessage-deflate ${args.deflate ? 'on' : 'off'}`);

const wss = new WebSocketServer({
  host: args.host,
  port: Number(args.port),
  perMessageDeflate: !args.deflate
    ? false
    : args['no-takeover']
      ? { serverNoContextTakeover: true, clientNoContextTakeover: true }
      : true,
});

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
