// A chat with rooms, on topics: each room is a topic, `ws.subscribe` joins it, `ws.publish`
// sends a message to everyone else in the room, `wss.publish` makes announcements to the
// whole room. Each message is framed once for all its receivers. Run it from the repository root:
//   npm install && npm run build && node examples/chat.js
// Connect to ws://127.0.0.1:8080/chat?name=alice and send JSON:
//   {"join":"lobby"}   {"say":"hi","room":"lobby"}   {"leave":"lobby"}
// Everything the server sends is JSON too:
//   {"room":"lobby","joined":"bob","members":2}  {"room":"lobby","from":"bob","text":"hi"}
//   {"room":"lobby","left":"bob","members":1}    {"error":"..."}
import { WebSocketServer } from 'wsforge';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';

/**
 * What a connection carries as `ws.data`. Its rooms are kept here as well as in `ws.topics`
 * because a closed connection has already left its topics when the `close` handler runs.
 * @typedef {{ name: string, rooms: Set<string> }} Member
 */

/** @param {import('wsforge').WebSocket} ws */
const member = (ws) => /** @type {Member} */ (ws.data);

/** Topics are a flat namespace shared by the whole server: prefix the rooms. @param {string} room */
const topicOf = (room) => `room:${room}`;

const NAME = /^[\w-]{1,32}$/;

const wss = new WebSocketServer({
  path: '/chat',
  maxPayload: 64 * 1024, // chat lines are short: refuse bigger messages with 1009
  onHandshake(request) {
    const name = request.query.get('name') ?? '';
    if (!NAME.test(name)) return { status: 400, body: 'name: 1 to 32 letters, digits, _ or -' };
    /** @type {Member} */
    const data = { name, rooms: new Set() };
    return { data };
  },
  handlers: {
    message(ws, data) {
      const me = member(ws);
      /** @type {{ join?: unknown, leave?: unknown, say?: unknown, room?: unknown }} */
      let command;
      try {
        command = JSON.parse(String(data));
      } catch {
        ws.send(JSON.stringify({ error: 'send JSON' }));
        return;
      }
      if (typeof command.join === 'string' && NAME.test(command.join)) {
        const room = command.join;
        // subscribe() returns false when already in the room: no second announcement.
        if (!ws.subscribe(topicOf(room))) return;
        me.rooms.add(room);
        // wss.publish reaches every subscriber, the new member included.
        wss.publish(topicOf(room), JSON.stringify({ room, joined: me.name, members: wss.subscriberCount(topicOf(room)) }));
      } else if (typeof command.leave === 'string') {
        const room = command.leave;
        if (!ws.unsubscribe(topicOf(room))) return;
        me.rooms.delete(room);
        wss.publish(topicOf(room), JSON.stringify({ room, left: me.name, members: wss.subscriberCount(topicOf(room)) }));
      } else if (typeof command.say === 'string' && typeof command.room === 'string') {
        if (!ws.isSubscribed(topicOf(command.room))) {
          ws.send(JSON.stringify({ error: `join ${command.room} first` }));
          return;
        }
        // ws.publish reaches everyone in the room but the sender.
        ws.publish(topicOf(command.room), JSON.stringify({ room: command.room, from: me.name, text: command.say }));
      } else {
        ws.send(JSON.stringify({ error: 'unknown command' }));
      }
    },
    close(ws) {
      // The connection has left its topics already: tell the rooms it was in.
      const me = member(ws);
      for (const room of me.rooms) {
        wss.publish(topicOf(room), JSON.stringify({ room, left: me.name, members: wss.subscriberCount(topicOf(room)) }));
      }
    },
  },
});

// Ctrl-C or SIGTERM: every WebSocket is closed with 1001 (going away), then the process exits.
// Installed before listening, so a signal that comes right after the "listening" line is handled.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    await wss.close();
    process.exit(0);
  });
}

const { port: boundPort } = await wss.listen({ port, host });
console.log(`listening on http://${host}:${boundPort}/ (WebSocket: ws://${host}:${boundPort}/chat?name=you)`);
