// Links to one line: the page's address with `at=<entry id>` (keeping its other parameters: the
// filters), and the address without it once the reader has left the line for the live stream.

const LINK_PARAMETERS = ["at", "since"];
// What only a merged view reads: a link to a line opens in the line's own stream, without it.
const MERGED_PARAMETERS = ["hide_stream"];

// The page's address without `at` and `since`.
export function withoutLineLink(href) {
  const url = new URL(href);
  for (const name of LINK_PARAMETERS) url.searchParams.delete(name);
  url.hash = "";
  return url.toString();
}

// The address that opens this page at the entry `id`, with the lines around it; on a merged view,
// the page of the entry's own stream (`stream`, its index in the page's address), as its key is given there.
export function lineLink(href, id, stream) {
  const url = new URL(withoutLineLink(href));
  if (stream !== undefined) {
    url.pathname = `/${url.pathname.slice(1).split("+")[stream]}`;
    for (const name of MERGED_PARAMETERS) url.searchParams.delete(name);
  }
  url.searchParams.set("at", id);
  return url.toString();
}
