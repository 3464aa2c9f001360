// The browser half of LogView: holds the rows, draws them, keeps the newest in view.
// Log text is data: every value is set with textContent, never parsed as HTML.

const CONNECTION_POLL_MS = 250;
const STICK_TO_BOTTOM_PX = 24;

function pad(number, width) {
  return String(number).padStart(width, "0");
}

function formatTime(date) {
  return `${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}.${pad(date.getMilliseconds(), 3)}`;
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

function renderRow(entry) {
  const row = document.createElement("div");
  row.className = "bl-row";
  row.dataset.id = entry.id;
  row.dataset.level = entry.level;
  const moment = new Date(entry.ts * 1000);
  const time = span("bl-time", formatTime(moment));
  time.title = moment.toISOString();
  row.append(time, span(`bl-level bl-level-${entry.level.toLowerCase()}`, entry.level), span("bl-program", entry.program));
  const message = span("bl-message", entry.message);
  if (entry.fields) message.append(span("bl-fields", " " + JSON.stringify(entry.fields)));
  row.append(message);
  return row;
}

export default {
  template: `
    <div class="bl-log">
      <div class="bl-status">
        <span ref="state" class="bl-state" data-state="connecting">connecting…</span>
        <span ref="count" class="bl-count">0 lines</span>
      </div>
      <div ref="scroller" class="bl-scroller">
        <div ref="empty" class="bl-empty">Waiting for the first line…</div>
        <div ref="rows" class="bl-rows"></div>
      </div>
    </div>`,
  props: {
    maxRows: { type: Number, default: 10000 },
  },
  mounted() {
    this.received = 0;
    this.connectionTimer = setInterval(() => this.showConnection(), CONNECTION_POLL_MS);
    this.showConnection();
  },
  unmounted() {
    clearInterval(this.connectionTimer);
  },
  methods: {
    append(entries) {
      const scroller = this.$refs.scroller;
      const following = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STICK_TO_BOTTOM_PX;
      const fragment = document.createDocumentFragment();
      for (const entry of entries) fragment.append(renderRow(entry));
      const rows = this.$refs.rows;
      rows.append(fragment);
      for (let excess = rows.childElementCount - this.maxRows; excess > 0; excess--) rows.firstElementChild.remove();
      this.received += entries.length;
      this.$refs.count.textContent = `${this.received.toLocaleString()} line${this.received === 1 ? "" : "s"}`;
      this.$refs.empty.hidden = true;
      if (following) scroller.scrollTop = scroller.scrollHeight;
      this.showConnection();
    },
    showConnection() {
      const socket = window.socket;
      const state = socket === undefined ? "connecting" : socket.connected ? "connected" : "reconnecting";
      const label = this.$refs.state;
      if (label.dataset.state === state) return;
      label.dataset.state = state;
      label.textContent = state === "connecting" ? "connecting…" : state;
    },
  },
};
