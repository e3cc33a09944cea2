/**
 * Programs a user of the installed package would write, as source text for files in the consumer
 * project: the same program in CommonJS (`require`) and in ESM (`import`), so both module systems
 * are exercised from outside the repository.
 */

export type ModuleSystem = 'cjs' | 'esm';

function imports(system: ModuleSystem, names: string, from: string): string {
  return system === 'cjs' ? `const { ${names} } = require('${from}');` : `import { ${names} } from '${from}';`;
}

/** The RFC 6455 §1.3 example: this key must be answered with this accept value. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/**
 * Loads the three entry points, echoes one message between a server and `connect()`, and one
 * through the WHATWG client; prints one JSON line with what it saw.
 */
export function echoProgram(system: ModuleSystem): string {
  return `${imports(system, 'WebSocketServer, connect', 'wsforge')}
${imports(system, 'computeAcceptKey', 'wsforge/protocol')}
${imports(system, 'WebSocket', 'wsforge/whatwg')}

async function main() {
  const wss = new WebSocketServer({ handlers: { message(ws, data) { ws.send(data); } } });
  const { port } = await wss.listen({ port: 0, host: '127.0.0.1' });
  const client = await connect('ws://127.0.0.1:' + port + '/');
  const received = new Promise((resolve) => client.once('message', resolve));
  client.send('over connect()');
  const echoed = await received;
  client.close();

  const browser = new WebSocket('ws://127.0.0.1:' + port + '/');
  browser.onopen = () => browser.send('over the WHATWG client');
  const browserEchoed = await new Promise((resolve) => { browser.onmessage = (event) => resolve(event.data); });
  browser.close();

  await wss.close();
  console.log(JSON.stringify({ echoed, browserEchoed, accept: computeAcceptKey('${SAMPLE_KEY}') }));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;
}

/**
 * A server whose message handler throws; its error handler prints the thrown error's stack as
 * one JSON line, so the test can read where each frame points.
 */
export function throwingHandlerProgram(system: ModuleSystem): string {
  return `${imports(system, 'WebSocketServer, connect', 'wsforge')}

async function main() {
  let reported;
  const stackPrinted = new Promise((resolve) => { reported = resolve; });
  const wss = new WebSocketServer({
    handlers: {
      message() { throw new Error('thrown by the application'); },
      error(ws, error) { reported(error.cause instanceof Error ? error.cause.stack : String(error.cause)); },
    },
  });
  const { port } = await wss.listen({ port: 0, host: '127.0.0.1' });
  const client = await connect('ws://127.0.0.1:' + port + '/');
  client.send('make the handler throw');
  const stack = await stackPrinted;
  client.close();
  await wss.close();
  console.log(JSON.stringify({ stack }));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;
}
