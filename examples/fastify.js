// Fastify and wsforge on one port, with `handleUpgrade`: the way to hand wsforge the upgrades of
// any framework's HTTP server (here `app.server`), and to close both together through Fastify's
// preClose hook. Run it from the repository root:
//   npm install && npm run build && node examples/fastify.js
import Fastify from 'fastify';
import { WebSocketServer } from 'wsforge';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';

const wss = new WebSocketServer({
  path: '/echo',
  handlers: {
    message(ws, data) {
      ws.send(data);
    },
  },
});

const app = Fastify();
app.get('/health', async () => ({ ok: true, connections: wss.clients.size }));

// node:http emits 'upgrade' for WebSocket handshakes; Fastify's routes never see them.
// handleUpgrade resolves with the open connection, or null when the handshake was refused
// (wsforge has then written the HTTP error, e.g. 404 for another path, and closed the socket).
app.server.on('upgrade', (request, socket, head) => {
  void wss.handleUpgrade(request, socket, head).then((ws) => {
    if (ws !== null) console.log(`WebSocket from ${ws.remoteAddress ?? 'unknown'}`);
  });
});
// app.close() (on a signal, below) closes every WebSocket with 1001 first: in preClose, because
// the HTTP server counts upgraded sockets as its connections and does not finish closing while
// one is open (an onClose hook would run only after that).
app.addHook('preClose', async () => {
  await wss.close();
});

// Ctrl-C or SIGTERM: every WebSocket is closed with 1001 (going away), then the process exits.
// Installed before listening, so a signal that comes right after the "listening" line is handled.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    await app.close();
    process.exit(0);
  });
}

await app.listen({ port, host });
const address = app.server.address();
const boundPort = typeof address === 'object' && address !== null ? address.port : port;
console.log(`listening on http://${host}:${boundPort}/ (WebSocket: ws://${host}:${boundPort}/echo)`);
