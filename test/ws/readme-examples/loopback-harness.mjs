// Preloaded (node --import) before each ws README example, so the examples run unchanged
// (except for their import line) as tests:
// - every server listens on 127.0.0.1 on a free port, whatever port the example asks for,
//   and the port is printed as "LISTENING <port>" for the test to connect to;
// - the free `authenticate(request, next)` the authentication example leaves to the reader
//   accepts requests whose query has token=ok (as user "ada") and refuses the others;
// - intervals of 10 s or more (the heartbeat example's 30 s) run 100 times faster.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const callback = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
  this.once('listening', () => process.stdout.write(`LISTENING ${this.address().port}\n`));
  return callback === undefined ? listen.call(this, 0, '127.0.0.1') : listen.call(this, 0, '127.0.0.1', callback);
};

globalThis.authenticate = (request, next) => {
  const token = new URL(request.url, 'http://base.url').searchParams.get('token');
  setImmediate(() => (token === 'ok' ? next(null, 'ada') : next(new Error('bad token'))));
};

const setIntervalOriginal = globalThis.setInterval;
globalThis.setInterval = (callback, delay, ...rest) => setIntervalOriginal(callback, delay >= 10_000 ? delay / 100 : delay, ...rest);
