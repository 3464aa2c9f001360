// Links to one line: the page's address with `at=<entry id>` (keeping its other parameters: the
// filters), and the address without it once the reader has left the line for the live stream.

const LINK_PARAMETERS = ["at", "since"];

// The page's address without `at` and `since`.
export function withoutLineLink(href) {
  const url = new URL(href);
  for (const name of LINK_PARAMETERS) url.searchParams.delete(name);
  url.hash = "";
  return url.toString();
}

// The address that opens this page at the entry `id`, with the lines around it.
export function lineLink(href, id) {
  const url = new URL(withoutLineLink(href));
  url.searchParams.set("at", id);
  return url.toString();
}
