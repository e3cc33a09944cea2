// wsforge server for the scaling workloads (bench/scale.ts), on the public API in dist/: echo, or publish
// (every client subscribes to the topic "bench"; a message a client sends is published to it, the sender
// included, as broadcast mode does), on one process or a wsforge/cluster of workers, optionally sharing
// publishes through Redis (wsforge/redis).
//
// usage: node wsforge-scale-server.mjs [--host 127.0.0.1] [--port 0] [--mode echo|publish] [--workers N]
//          [--worker-ports] [--redis URL]
//   --worker-ports  each worker listens on a port of its own instead of the shared one and prints
//                   "worker <id> listening on ws://HOST:PORT", so a load generator can put clients on a
//                   chosen worker (cross-worker latency); the processes and the publish path are the same.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'echo' },
    workers: { type: 'string', default: '1' },
    'worker-ports': { type: 'boolean', default: false },
    redis: { type: 'string' },
  },
});
if (args.mode !== 'echo' && args.mode !== 'publish') throw new Error(`unknown --mode ${args.mode}`);
const dist = new URL('../../dist/', import.meta.url);
if (!existsSync(new URL('index.js', dist))) {
  console.error('wsforge-scale-server: dist/index.js not found; run `npm run build` first');
  process.exit(3);
}
const { WebSocketServer } = await import(new URL('index.js', dist).href);
const TOPIC = 'bench';
const OWN_PORT = Symbol('own port');

async function startServer(listen, shared) {
  let pubsub = shared;
  if (args.redis !== undefined) {
    const { redisPubSub } = await import(new URL('redis/index.js', dist).href);
    pubsub = redisPubSub({ url: args.redis });
  }
  const wss = new WebSocketServer({
    ...(pubsub === undefined ? {} : { pubsub }),
    handlers:
      args.mode === 'echo'
        ? { message: (ws, data) => ws.send(data) }
        : { open: (ws) => ws.subscribe(TOPIC), message: (ws, data, isBinary) => wss.publish(TOPIC, data, { binary: isBinary }) },
  });
  if (listen === OWN_PORT) {
    // A socket of this worker's own (exclusive: not shared through the node:cluster primary), served
    // through node:http's upgrade event; after the handshake the connection is the same.
    const http = createServer();
    wss.attach(http);
    await new Promise((resolve) => http.listen({ port: 0, host: args.host, exclusive: true }, resolve));
    wss.address = () => http.address();
  } else {
    await wss.listen(listen);
  }
  if (pubsub !== undefined && typeof pubsub.whenReady === 'function') await pubsub.whenReady();
  return wss;
}

const workers = Number(args.workers);
if (workers === 1) {
  const wss = await startServer({ port: Number(args.port), host: args.host });
  console.log(`listening on ws://${args.host}:${wss.address().port}`);
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
} else {
  const { cluster } = await import(new URL('cluster/index.js', dist).href);
  const run = await cluster({
    workers,
    port: Number(args.port),
    host: args.host,
    shutdownTimeout: 2000,
    async serve({ id, listen, pubsub }) {
      const wss = await startServer(args['worker-ports'] ? OWN_PORT : listen, pubsub);
      if (args['worker-ports']) console.log(`worker ${id} listening on ws://${args.host}:${wss.address().port}`);
      return wss;
    },
  });
  if (run.role === 'primary') {
    console.error(`wsforge-scale-server: ${run.size} workers, distribution ${run.distribution}`);
    console.log(`listening on ws://${args.host}:${run.port}`);
  }
}
