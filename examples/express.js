// Express and wsforge on one port: Express answers the HTTP requests, wsforge takes the
// WebSocket upgrades of the same http.Server (`wss.attach`). Run it from the repository root:
//   npm install && npm run build && node examples/express.js
// then open a WebSocket to ws://127.0.0.1:8080/echo, or GET http://127.0.0.1:8080/health.
import express from 'express';
import { WebSocketServer } from 'wsforge';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';

// Only /echo is a WebSocket endpoint: an upgrade to any other path gets 404 from wsforge.
// `handlers` are one set of functions for all connections (no closure per connection).
const wss = new WebSocketServer({
  path: '/echo',
  handlers: {
    // Text arrives as a string and goes back as text; binary arrives as a Buffer and goes back as binary.
    message(ws, data) {
      ws.send(data);
    },
  },
});

const app = express();
app.get('/health', (_request, response) => {
  response.json({ ok: true, connections: wss.clients.size });
});

const server = app.listen(port, host, () => {
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`listening on http://${host}:${boundPort}/ (WebSocket: ws://${host}:${boundPort}/echo)`);
});
// Express never sees the upgrades: node:http hands them to wsforge ('upgrade' event).
wss.attach(server);

// Ctrl-C or SIGTERM: every WebSocket is closed with 1001 (going away), then the HTTP server stops.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    await wss.close();
    server.close(() => process.exit(0));
  });
}
