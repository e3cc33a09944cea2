// Every core: `cluster()` from wsforge/cluster runs worker processes that serve one port, and a
// publish in one worker reaches the subscribers in every worker (through the primary, over IPC).
// This file runs twice over: in the process you start (the primary, which forks the workers)
// and in each worker (where `serve` runs). Run it from the repository root:
//   npm install && npm run build && node examples/cluster.js     # WORKERS=auto: one per CPU
// Every client is greeted with the number of the worker serving it; a message sent by one client
// is delivered to all the others, whichever worker serves them.
// NOT RUNNABLE YET: the wsforge/cluster entry point is still to land; this is written against its API.
import { WebSocketServer } from 'wsforge';
import { cluster } from 'wsforge/cluster';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const workers = process.env.WORKERS === 'auto' ? 'auto' : Number(process.env.WORKERS ?? 2);

const running = await cluster({
  workers,
  port,
  host,
  // In each worker: a server whose publishes go through `pubsub` to the other workers.
  async serve({ id, pubsub, listen }) {
    const wss = new WebSocketServer({
      pubsub,
      handlers: {
        open(ws) {
          ws.subscribe('everyone');
          ws.send(JSON.stringify({ worker: id, pid: process.pid }));
        },
        message(ws, data, isBinary) {
          // Every subscriber but the sender, in this worker and in the others.
          ws.publish('everyone', data, { binary: isBinary });
        },
      },
    });
    // `listen` holds the shared port and, where the kernel spreads connections (reusePort), that option.
    await wss.listen(listen);
    return wss;
  },
});

if (running.role === 'primary') {
  // SIGINT and SIGTERM are handled by cluster(): every worker closes its clients with 1001, then the primary exits 0.
  running.on('exit', (id, code, signal, restartIn) => {
    if (restartIn !== null) console.log(`worker ${id} exited (${signal ?? code}); restarting it in ${restartIn} ms`);
  });
  // Emitted when a worker serves: from here on, for the restarted ones.
  running.on('online', (id, pid) => console.log(`worker ${id} is back (pid ${pid})`));
  console.log(`listening on http://${host}:${running.port}/ with ${running.size} workers (${running.distribution})`);
}
