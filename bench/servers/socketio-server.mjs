// socket.io broadcast server for the benchmark: every 'publish' event goes to every connected socket
// (io.emit), WebSocket transport only. --engine ws is socket.io's default engine (the `ws` package, with
// its native bufferutil); --engine wsforge passes wsforge/ws as `wsEngine` (dist/, run `npm run build`).
//
// usage: node socketio-server.mjs [--host 127.0.0.1] [--port 0] --engine ws|wsforge
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    engine: { type: 'string', default: 'ws' },
    // accepted for the runner's uniform command line; this server only broadcasts
    mode: { type: 'string', default: 'broadcast' },
  },
});
if (args.engine !== 'ws' && args.engine !== 'wsforge') throw new Error(`unknown --engine ${args.engine}`);

const options = { transports: ['websocket'], serveClient: false };
if (args.engine === 'wsforge') {
  const entry = new URL('../../dist/ws/index.js', import.meta.url);
  if (!existsSync(entry)) {
    console.error('socketio-server: dist/ws/index.js not found; run `npm run build` first');
    process.exit(3);
  }
  options.wsEngine = (await import(entry.href)).WebSocketServer;
}
console.error(`socketio-server: engine ${args.engine}`);

const http = createServer();
const io = new Server(http, options);
io.on('connection', (socket) => {
  socket.on('publish', (data) => io.emit('m', data));
});
http.listen(Number(args.port), args.host, () => {
  console.log(`listening on ws://${args.host}:${http.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
