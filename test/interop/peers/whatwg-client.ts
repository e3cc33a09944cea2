// Runs the WHATWG scenario with the runtime's global WebSocket (Node 22+), in a child process
// started by undici.test.ts under Node 24. Usage: node whatwg-client.js URL
// Prints one JSON line: the scenario result (or {"error"} when there is no global WebSocket).
import { runWhatwgScenario, type WhatwgWebSocketConstructor } from '../whatwg-scenario.js';

const url = process.argv[2];
const WebSocketClass = (globalThis as { WebSocket?: WhatwgWebSocketConstructor }).WebSocket;
if (url === undefined) {
  console.log(JSON.stringify({ error: 'usage: whatwg-client.js URL' }));
  process.exit(2);
} else if (WebSocketClass === undefined) {
  console.log(JSON.stringify({ error: `no global WebSocket in Node ${process.version}` }));
  process.exit(1);
} else {
  const result = await runWhatwgScenario(WebSocketClass, url, `node ${process.version} global WebSocket`);
  console.log(JSON.stringify(result));
  process.exit(result.error === null ? 0 : 1);
}
