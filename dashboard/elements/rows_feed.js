// The rows transport, the browser half of RowsFeed (rows_feed.py), and the view's only use of
// NiceGUI's socket: rows come as their own socket event, beside NiceGUI's messages. Each row is
// handed on once, in order (the server's subscription sees to it): after a dropped socket the page
// says which entry it has last, and the server sends what came after it.

const SOCKET_POLL_MS = 10;
// socket.io waits up to 5 s between tries to reconnect, so a page came back up to 5 s after its
// restarted server; 2 s (each wait still spread by socket.io's jitter) keeps that short.
const RECONNECT_DELAY_MAX_MS = 2000;

// Call onRows(rows, history, older) with each batch sent over `feed` ({message}, RowsFeed.address),
// history being true for rows that were in the stream before this page came (or that it missed
// while its socket was down), older for rows older than any the page holds (to go above them);
// onResume({after, after_by_stream}) when the socket is back after a drop: the newest row's ID,
// and on a merged view the newest of each stream's by its index. On a merged view each row gets
// its stream's index as `_s` (from the message, or from the row's own `s`: merged history or older rows).
// Returns a function that stops listening.
export function listenForRows(feed, onRows, onResume) {
  const { message: name } = feed;
  let lastId = null;  // the newest row handed on (older rows go above it and never change it)
  const lastIds = {};  // the same, by stream index (0 on a page of one stream)
  let dropped = false;
  const onMessage = (message) => {
    const rows = message.rows;
    if (!rows.length) return;
    tagStreams(rows, message.stream);
    if (message.older) {
      onRows(rows, false, true);
      return;
    }
    lastId = rows[rows.length - 1].id;
    if (rows[0]._s === undefined || message.stream !== undefined) lastIds[rows[0]._s ?? 0] = lastId;
    else for (const row of rows) lastIds[row._s] = row.id;
    onRows(rows, Boolean(message.history), false);
  };
  const onDisconnect = () => { dropped = true; };
  const onConnect = () => {
    if (!dropped) return;
    dropped = false;
    onResume({ after: lastId, after_by_stream: { ...lastIds } });
  };
  let timer = null;
  const listen = () => {
    // The page creates its socket after its components are mounted: wait for it.
    if (!window.socket) {
      timer = setTimeout(listen, SOCKET_POLL_MS);
      return;
    }
    timer = null;
    window.socket.io.reconnectionDelayMax(RECONNECT_DELAY_MAX_MS);
    window.socket.on(name, onMessage);
    window.socket.on("disconnect", onDisconnect);
    window.socket.on("connect", onConnect);
  };
  listen();
  return () => {
    clearTimeout(timer);
    window.socket?.off(name, onMessage);
    window.socket?.off("disconnect", onDisconnect);
    window.socket?.off("connect", onConnect);
  };
}

// Where the socket the rows come over is: "connecting" (not made yet), "connected" or "reconnecting".
export function feedState() {
  const socket = window.socket;
  return socket === undefined ? "connecting" : socket.connected ? "connected" : "reconnecting";
}

// Mark each row with its stream's index: the message's, or the row's own (`s`, merged history or older rows).
function tagStreams(rows, stream) {
  if (stream !== undefined) for (const row of rows) row._s = stream;
  else if (rows[0].s !== undefined) for (const row of rows) row._s = row.s;
}
