// A CommonJS program written for ws, with `require('ws')` changed to `require('wsforge/ws')`:
// it checks what require() gives and runs an echo server; a `ws` client, then wsforge/ws's own, talk to it. Prints
// one JSON line with what it saw (test/ws/require.test.ts runs it).
'use strict';

const WebSocket = require('wsforge/ws');
const { WebSocketServer, createWebSocketStream } = require('wsforge/ws');
const Client = require('ws');

const shape = {
  isClass: typeof WebSocket === 'function' && WebSocket.name === 'WebSocket',
  selfReference: WebSocket.WebSocket === WebSocket,
  server: typeof WebSocket.WebSocketServer === 'function' && WebSocket.Server === WebSocket.WebSocketServer && WebSocketServer === WebSocket.Server,
  stream: typeof createWebSocketStream === 'function' && WebSocket.createWebSocketStream === createWebSocketStream,
  constants: [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
};

const wss = new WebSocket.Server({ port: 0, host: '127.0.0.1' }, () => {
  const client = new Client(`ws://127.0.0.1:${wss.address().port}`);
  client.on('open', () => client.send('ping from cjs'));
  client.on('message', (data, isBinary) => {
    client.close();
    // The client of require('wsforge/ws') too, as require('ws')'s is used.
    const own = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
    own.on('open', () => own.send('from the wsforge client'));
    own.on('message', (ownData) => {
      own.close();
      wss.close();
      process.stdout.write(JSON.stringify({ ...shape, echo: data.toString(), isBinary, clientEcho: ownData.toString() }) + '\n');
    });
  });
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
setTimeout(() => {
  process.stderr.write('require-ws.cjs: no echo within 5 s\n');
  process.exit(1);
}, 5000).unref();
