// Links to one line: the stream's read-only address with `at=<entry id>` (keeping the page's other
// parameters: the filters), and the page's address without it once the reader has left the line
// for the live stream.

const LINK_PARAMETERS = ["at", "since"];
// What only a merged view reads: a link to a line opens in the line's own stream, without it.
const MERGED_PARAMETERS = ["hide_stream"];
// What a page reads from its address (pages/view_filter.py): the filters and display options.
const VIEW_PARAMETERS = ["q", "re", "not", "hide", "program", "utc", "hl", "col", "strip", ...MERGED_PARAMETERS];

// The page's address without `at` and `since`.
export function withoutLineLink(href) {
  const url = new URL(href);
  for (const name of LINK_PARAMETERS) url.searchParams.delete(name);
  url.hash = "";
  return url.toString();
}

// The address that opens the stream at `path` (its read-only address: a link is for sharing, and
// must not hand on the key that writes) at the entry `id`, with the lines around it. On a merged
// view `path` is the view's read-only address and `stream` the entry's stream (its index in it):
// the link opens the line in that stream's own read-only page.
export function lineLink(href, path, id, stream) {
  const url = new URL(withoutLineLink(href));
  url.pathname = stream === undefined ? path : `/${path.slice(1).split("+")[stream]}`;
  // Only what the page reads goes on: anything else the address carried is not the link's to share.
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (!VIEW_PARAMETERS.includes(name) || (stream !== undefined && MERGED_PARAMETERS.includes(name))) {
      url.searchParams.delete(name);
    }
  }
  url.searchParams.set("at", id);
  return url.toString();
}
