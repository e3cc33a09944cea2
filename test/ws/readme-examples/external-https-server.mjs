import { createServer } from 'https';
import { readFileSync } from 'fs';
import { WebSocketServer } from 'wsforge/ws';

const server = createServer({
  cert: readFileSync('test/fixtures/test-only-localhost.cert.pem'),
  key: readFileSync('test/fixtures/test-only-localhost.key.pem')
});
const wss = new WebSocketServer({ server });

wss.on('connection', function connection(ws) {
  ws.on('error', console.error);

  ws.on('message', function message(data) {
    console.log('received: %s', data);
  });

  ws.send('something');
});

server.listen(8080);
