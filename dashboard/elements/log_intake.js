// New rows' way into the view: each batch from the feed is counted (rate, lines kept, column keys),
// held by the row model, and drawn at once, unless the draws since the last frame took
// DRAW_MS_PER_FRAME: then it waits for the next frame with whatever else comes. So a quiet or busy
// stream's rows go in at once, and a flood costs a bounded share of each frame. (A bound of 16 draws,
// the rule before, held back part of each frame's rows at 1,000 lines/s, when a draw takes under
// 0.1 ms.) A hidden tab draws nothing until it is shown again; while paused, rows are held, not drawn.
// A plain object, not the view's Vue component: each read or write of one of the component's own
// properties goes through Vue's proxy, and this runs for every line.

// Draw time between two frames, in ms, past which rows that come wait for the next frame: about a
// third of a 60 Hz frame, which leaves the frame's own style, layout and paint room.
export const DRAW_MS_PER_FRAME = 6;

export class RowIntake {
  // The view's parts: logRows (LogRows), list (VirtualList), statusBar, older (OlderLines), strip
  // (VolumeStrip) and columns (ColumnBar).
  constructor({ logRows, list, statusBar, older, strip, columns }) {
    this.logRows = logRows;
    this.list = list;
    this.statusBar = statusBar;
    this.older = older;
    this.strip = strip;
    this.columns = columns;
    this.frame = null;
    this.drawMsSinceFrame = 0;
    this.frameCounted = false;  // a frame is asked for to start the count of draw time afresh
  }

  stop() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
  }

  // Rows from the feed, live or `history` (the rate counts live lines only: the history would show
  // an idle stream as a busy one).
  append(entries, history) {
    if (!history) this.statusBar.arrived(entries);
    this.older.arrived(entries);
    this.columns.note(entries);
    this.logRows.arrive(entries);
    this.schedule();
  }

  // Draw what waits: now, or with the next frame once this frame's draw time is spent.
  schedule() {
    if (this.frame !== null) return;
    if (document.hidden) return;
    if (this.drawMsSinceFrame < DRAW_MS_PER_FRAME) this.flush();
    else this.frame = requestAnimationFrame(() => { this.frame = null; this.flush(); });
  }

  flush() {
    if (!this.frameCounted) {
      this.frameCounted = true;
      requestAnimationFrame(() => { this.drawMsSinceFrame = 0; this.frameCounted = false; });
    }
    const started = performance.now();
    try {
      this.draw();
    } finally {
      this.drawMsSinceFrame += performance.now() - started;
    }
  }

  draw() {
    const { logRows, statusBar } = this;
    if (logRows.paused) {
      logRows.hold();
      statusBar.request();
      return;
    }
    const dropped = logRows.admit();
    if (dropped === null) return;
    this.list.droppedAbove(logRows.shownDropped);
    this.list.forget(dropped);
    if (dropped.length) this.older.dropped();
    this.strip.admitted(dropped);
    this.list.render();
    statusBar.request();
  }
}
