// Links to one line: the stream's read-only address with `at=<entry id>` (keeping the page's other
// parameters: the filters), and the page's address without it once the reader has left the line
// for the live stream.

const LINK_PARAMETERS = ["at", "since"];

// The page's address without `at` and `since`.
export function withoutLineLink(href) {
  const url = new URL(href);
  for (const name of LINK_PARAMETERS) url.searchParams.delete(name);
  url.hash = "";
  return url.toString();
}

// The address that opens the stream at `path` (its read-only address: a link is for sharing, and
// must not hand on the key that writes) at the entry `id`, with the lines around it.
export function lineLink(href, path, id) {
  const url = new URL(withoutLineLink(href));
  url.pathname = path;
  url.searchParams.set("at", id);
  return url.toString();
}
