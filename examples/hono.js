// Hono (on @hono/node-server) and wsforge on one port, and HTTP talking to WebSockets:
// POST /broadcast sends its body to every connected WebSocket client, framed once
// (`wss.broadcast`). Run it from the repository root:
//   npm install && npm run build && node examples/hono.js
// then connect to ws://127.0.0.1:8080/live and: curl -d 'hello' http://127.0.0.1:8080/broadcast
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { WebSocketServer } from 'wsforge';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';

// Clients here only listen; `open` greets each one.
const wss = new WebSocketServer({
  path: '/live',
  handlers: {
    open(ws) {
      ws.send(JSON.stringify({ connected: wss.clients.size }));
    },
  },
});

const app = new Hono();
app.post('/broadcast', async (c) => {
  const text = await c.req.text();
  // The frame is built once and the same bytes are written to every client.
  const delivered = wss.broadcast(text);
  return c.json({ delivered });
});

const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
  console.log(`listening on http://${host}:${info.port}/ (WebSocket: ws://${host}:${info.port}/live)`);
});
// serve() returns the node:http server (an HTTP/2 one only with the http2 options):
// wsforge serves its upgrades.
wss.attach(/** @type {import('node:http').Server} */ (server));

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    await wss.close();
    server.close(() => process.exit(0));
  });
}
