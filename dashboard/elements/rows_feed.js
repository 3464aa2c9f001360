// The rows transport, the browser half of RowsFeed (rows_feed.py), and the view's only use of
// NiceGUI's socket: rows come as their own socket message, beside NiceGUI's, and each batch is
// handed on once, in order, also across a reconnect.

const SOCKET_POLL_MS = 10;

// Call onRows(rows, history, older) with each batch sent to `feed` ({message, id}, RowsFeed.address),
// history being true for rows that were in the stream before this page came, older for rows older
// than any the page holds (to go above them); returns a function that stops listening.
export function listenForRows(feed, onRows) {
  const { message: name, id } = feed;
  const decoder = new TextDecoder();
  const onMessage = (message) => {
    if (message.feed !== id) return;
    // NiceGUI numbers its messages and replays the unacknowledged ones after a reconnect:
    // skip what was already handled, and count this one as handled, as its own handlers do.
    if (message._id !== undefined) {
      if (message._id < window.nextMessageId) return;
      window.nextMessageId = message._id + 1;
    }
    onRows(JSON.parse(decoder.decode(message.rows)), Boolean(message.history), Boolean(message.older));
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
  };
  listen();
  return () => {
    clearTimeout(timer);
    window.socket?.off(name, onMessage);
  };
}

// Where the socket the rows come over is: "connecting" (not made yet), "connected" or "reconnecting".
export function feedState() {
  const socket = window.socket;
  return socket === undefined ? "connecting" : socket.connected ? "connected" : "reconnecting";
}
