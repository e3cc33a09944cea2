// `ws` (npm) with the fan-out through Redis that a ws user writes by hand: every message a client sends
// is PUBLISHed to one Redis channel, and a Redis subscriber sends every message of that channel to every
// client of this server (a loop over wss.clients), the sender included. Buffers throughout (node-redis
// buffer mode), sent as text frames as the loadgen's messages are text.
//
// usage: node ws-redis-server.mjs --redis URL [--host 127.0.0.1] [--port 0]
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { WebSocketServer } from 'ws';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    redis: { type: 'string' },
  },
});
if (args.redis === undefined) throw new Error('--redis URL is required');
const CHANNEL = 'bench';
const publisher = createClient({ url: args.redis });
const subscriber = publisher.duplicate();
publisher.on('error', (error) => console.error(`redis: ${error.message}`));
subscriber.on('error', (error) => console.error(`redis: ${error.message}`));
await Promise.all([publisher.connect(), subscriber.connect()]);

await subscriber.subscribe(
  CHANNEL,
  (message) => {
    for (const client of wss.clients) client.send(message, { binary: false });
  },
  true,
);
const wss = new WebSocketServer({ host: args.host, port: Number(args.port), perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data) => {
    publisher.publish(CHANNEL, data).catch(() => {});
  });
});
wss.on('listening', () => console.log(`listening on ws://${args.host}:${wss.address().port}`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
