// The rows transport, the browser half of RowsFeed (rows_feed.py), and the view's only use of
// NiceGUI's socket: rows come as their own socket event, beside NiceGUI's messages. Each row is
// handed on once, in order (the server's subscription sees to it): after a dropped socket the page
// says which entry it has last, and the server sends what came after it.

const SOCKET_POLL_MS = 10;

// Call onRows(rows, history, older) with each batch sent over `feed` ({message}, RowsFeed.address),
// history being true for rows that were in the stream before this page came (or that it missed
// while its socket was down), older for rows older than any the page holds (to go above them);
// onResume(lastId) when the socket is back after a drop. Returns a function that stops listening.
export function listenForRows(feed, onRows, onResume) {
  const { message: name } = feed;
  let lastId = null;  // the newest row handed on (older rows go above it and never change it)
  let dropped = false;
  const onMessage = (message) => {
    const rows = message.rows;
    if (!rows.length) return;
    if (message.older) {
      onRows(rows, false, true);
      return;
    }
    lastId = rows[rows.length - 1].id;
    onRows(rows, Boolean(message.history), false);
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
