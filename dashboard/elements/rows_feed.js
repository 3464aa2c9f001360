// The rows transport, the browser half of RowsFeed (rows_feed.py), and the view's only use of
// NiceGUI's socket: rows come as their own socket event, beside NiceGUI's messages. Each row is
// handed on once, in order: after a dropped socket the page says which entry it has last, and the
// server sends what came after it.

const SOCKET_POLL_MS = 10;

// An entry ID "<ms>-<seq>" as a pair of numbers, for ordering.
function entryOrder(id) {
  const dash = id.indexOf("-");
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

function isAfter(order, last) {
  return last === null || order[0] > last[0] || (order[0] === last[0] && order[1] > last[1]);
}

// Call onRows(rows, history) with each batch sent over `feed` ({message}, RowsFeed.address), history
// being true for rows that were in the stream before this page came (or that it missed while its
// socket was down); onResume(lastId) when the socket is back after a drop. Returns a function that
// stops listening.
export function listenForRows(feed, onRows, onResume) {
  const { message: name } = feed;
  let lastId = null;
  let lastOrder = null;
  let dropped = false;
  const onMessage = (message) => {
    const rows = message.rows;
    let fresh = rows;
    // Rows at or before the last one handled (sent twice around a reconnect) are skipped.
    if (lastOrder !== null && rows.length && !isAfter(entryOrder(rows[0].id), lastOrder)) {
      fresh = rows.filter((row) => isAfter(entryOrder(row.id), lastOrder));
    }
    if (!fresh.length) return;
    lastId = fresh[fresh.length - 1].id;
    lastOrder = entryOrder(lastId);
    onRows(fresh, Boolean(message.history));
  };
  const onDisconnect = () => { dropped = true; };
  const onConnect = () => {
    if (!dropped) return;
    dropped = false;
    onResume(lastId);
  };
  let timer = null;
  const listen = () => {
    // The page creates its socket after its components are mounted: wait for it.
    if (!window.socket) {
      timer = setTimeout(listen, SOCKET_POLL_MS);
      return;
    }
    timer = null;
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
