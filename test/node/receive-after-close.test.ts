/**
 * `receiveAfterClose`: data messages that arrive after our close frame, before the peer's close,
 * are delivered instead of dropped (RFC 6455 §1.4: a peer discards data only after *receiving*
 * a close). The peer here is a hand-written server on a real loopback socket.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { connect, type ConnectOptions } from '../../src/index.js';
import { startFakeServer, switchingProtocols } from '../helpers/fake-server.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';
import { closePayload, OP, serverFrame } from '../helpers/wire-frames.js';

guardProcess();

async function clientPair(t: TestContext, options: ConnectOptions) {
  const fake = await startFakeServer();
  t.after(() => fake.close());
  const connecting = connect(`ws://127.0.0.1:${fake.port}/`, { closeTimeout: 2000, ...options });
  const peer = await fake.nextPeer();
  peer.write(switchingProtocols(await peer.readHead()));
  peer.startFrames();
  const ws = await withTimeout(connecting, 2000, 'connect()');
  t.after(() => ws.terminate());
  const messages: Array<[string | Buffer, boolean]> = [];
  ws.on('message', (data, isBinary) => messages.push([data, isBinary]));
  const closed = nextEvent<[number, string]>(ws, 'close', 5000);
  closed.catch(() => {});
  return { peer, ws, messages, closed };
}

/** After the client's close: a text, a binary, a fragmented text and a ping; then the server's close. */
async function lateTrafficThenClose(peer: Awaited<ReturnType<typeof clientPair>>['peer']): Promise<void> {
  assert.equal((await peer.nextClose()).code, 1000);
  peer.write(serverFrame({ opcode: OP.TEXT, payload: 'late reply' }));
  peer.write(serverFrame({ opcode: OP.BINARY, payload: Buffer.from([1, 2, 3]) }));
  peer.write(serverFrame({ opcode: OP.TEXT, fin: false, payload: 'frag' }));
  peer.write(serverFrame({ opcode: OP.CONTINUATION, payload: 'mented' }));
  peer.write(serverFrame({ opcode: OP.PING, payload: 'no answer' }));
  peer.write(serverFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
  peer.socket.end();
}

describe('receiveAfterClose (client side)', () => {
  test('receiveAfterClose: true → messages sent by the server before it saw our close are delivered; the close is still clean', async (t) => {
    const { peer, ws, messages, closed } = await clientPair(t, { receiveAfterClose: true });
    ws.close(1000);
    await lateTrafficThenClose(peer);
    assert.deepEqual(await closed, [1000, '']);
    assert.equal(ws.wasClean, true);
    assert.deepEqual(messages, [
      ['late reply', false],
      [Buffer.from([1, 2, 3]), true],
      ['fragmented', false],
    ]);
    assert.deepEqual(
      peer.takeFrames().filter((f) => f.opcode === OP.PONG),
      [],
      'RFC 6455 §5.5.1: nothing but the close is sent after our close frame (the ping is not answered)',
    );
  });

  test('default (receiveAfterClose off) → the same late messages are dropped', async (t) => {
    const { peer, ws, messages, closed } = await clientPair(t, {});
    ws.close(1000);
    await lateTrafficThenClose(peer);
    assert.deepEqual(await closed, [1000, '']);
    assert.deepEqual(messages, []);
  });
});
