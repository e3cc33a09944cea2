/**
 * The page `wsforge serve` shows at `/`: it connects back to the server it came from,
 * sends what you type (as text or binary), shows what arrives, and can close with a code.
 * Element ids are stable: the browser interop test drives them.
 */
export function demoPage(mode: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsforge demo</title>
<style>
  :root { color-scheme: light dark; --accent: #2f6fde; }
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 760px; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .sub { color: #777; margin-top: 0; }
  #status { display: inline-block; padding: .15rem .6rem; border-radius: 1rem; background: #8884; font-weight: 600; }
  #status.open { background: #1a7f3755; }
  #status.closed { background: #b3261e44; }
  form, .row { display: flex; gap: .5rem; margin: .8rem 0; flex-wrap: wrap; }
  input { flex: 1; min-width: 8rem; padding: .45rem .6rem; font: inherit; }
  input.short { flex: 0 0 6rem; }
  button { padding: .45rem .9rem; font: inherit; border: 0; border-radius: .35rem; background: var(--accent); color: white; cursor: pointer; }
  button.secondary { background: #666; }
  button:disabled { opacity: .5; cursor: default; }
  #log { list-style: none; padding: 0; margin: 1rem 0; border: 1px solid #8885; border-radius: .4rem; min-height: 8rem; max-height: 50vh; overflow: auto; font: 13px/1.5 ui-monospace, monospace; }
  #log li { padding: .25rem .6rem; border-bottom: 1px solid #8882; white-space: pre-wrap; word-break: break-all; }
  #log li.out { color: var(--accent); }
  #log li.in { color: #1a7f37; }
  #log li.event { color: #888; }
</style>
</head>
<body>
<h1>wsforge</h1>
<p class="sub">Server mode: <b id="mode">${mode}</b>. This page connects back over WebSocket to the server that served it.</p>
<p>Status: <span id="status">connecting</span> <span id="url"></span></p>
<form id="send-form">
  <input id="message" autocomplete="off" placeholder="Type a message" autofocus>
  <button id="send" type="submit" disabled>Send text</button>
  <button id="send-binary" type="button" disabled>Send binary</button>
</form>
<div class="row">
  <input id="close-code" class="short" value="1000" aria-label="close code">
  <input id="close-reason" placeholder="close reason" aria-label="close reason">
  <button id="close" type="button" class="secondary" disabled>Close</button>
  <button id="reconnect" type="button" class="secondary" disabled>Reconnect</button>
</div>
<ul id="log"></ul>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const log = (cls, text) => {
    const li = document.createElement('li');
    li.className = cls;
    li.textContent = text;
    $('log').appendChild(li);
    li.scrollIntoView({ block: 'nearest' });
  };
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  let ws;
  const setStatus = (text, cls) => { $('status').textContent = text; $('status').className = cls; };
  const setOpen = (open) => {
    for (const id of ['send', 'send-binary', 'close']) $(id).disabled = !open;
    $('reconnect').disabled = open;
  };
  function open() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
    $('url').textContent = url;
    ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    setStatus('connecting', '');
    ws.onopen = () => { setStatus('open', 'open'); setOpen(true); log('event', 'connected'); };
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') log('in', '< text: ' + event.data);
      else log('in', '< binary (' + event.data.byteLength + ' bytes): ' + hex(new Uint8Array(event.data)));
    };
    ws.onclose = (event) => {
      setStatus('closed', 'closed');
      setOpen(false);
      log('event', 'closed: code ' + event.code + (event.reason ? ', reason "' + event.reason + '"' : '') + (event.wasClean ? ' (clean)' : ' (not clean)'));
    };
    ws.onerror = () => log('event', 'error');
  }
  $('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('message').value;
    ws.send(text);
    log('out', '> text: ' + text);
    $('message').value = '';
  });
  $('send-binary').addEventListener('click', () => {
    const bytes = new TextEncoder().encode($('message').value);
    ws.send(bytes);
    log('out', '> binary (' + bytes.length + ' bytes): ' + hex(bytes));
    $('message').value = '';
  });
  $('close').addEventListener('click', () => {
    const code = Number($('close-code').value);
    const reason = $('close-reason').value;
    try { ws.close(code, reason); log('event', 'closing with ' + code); }
    catch (error) { log('event', 'cannot close: ' + error.message); }
  });
  $('reconnect').addEventListener('click', open);
  open();
})();
</script>
</body>
</html>
`;
}
