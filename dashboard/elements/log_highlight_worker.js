// The highlight matcher, in a worker of its own (log_highlight.js starts it): a pattern from a link
// that backtracks for seconds on a long line costs this thread, which the page ends after a moment,
// never the page's. It takes patterns already compiled and checked by the page, and answers, for
// each row's text, the ranges to mark and the row's colour. Data only: no markup is made here.

// At most this many marks per pattern and row: a pattern like "." on a 4 KiB line makes no 4,000.
const MAX_MARKS_PER_PATTERN = 100;

// [{pattern, cls, rule}]: cls is the mark's class index (a palette colour, or the filter's match), rule
// the rule's position (-1 for the filter), earlier ones winning where marks overlap.
let patterns = [];
let generation = 0;

self.onmessage = ({ data }) => {
  if (data.type === "patterns") {
    generation = data.generation;
    patterns = data.patterns.map(({ source, flags, cls, rule }) => ({ pattern: new RegExp(source, flags), cls, rule }));
  } else if (data.type === "match" && data.generation === generation) {
    self.postMessage({ type: "marks", generation, results: match(data.items) });
  }
};

// items: [[serial, text]] → [[serial, colour or -1, [start, end, cls, start, end, cls, …]]].
function match(items) {
  const found = items.map(() => []);  // per item: [start, end, cls, rule] of every pattern, in pattern order
  for (const { pattern, cls, rule } of patterns) {
    self.postMessage({ type: "running", generation, rule });  // whom to blame if this thread stops answering
    items.forEach(([, text], index) => collect(pattern, text, cls, rule, found[index]));
  }
  return items.map(([serial, text], index) => [serial, rowColour(found[index]), merge(found[index], text.length)]);
}

function collect(pattern, text, cls, rule, into) {
  pattern.lastIndex = 0;
  for (let count = 0, match; count < MAX_MARKS_PER_PATTERN && (match = pattern.exec(text)) !== null; count++) {
    if (match[0].length === 0) {
      pattern.lastIndex++;  // an empty match marks nothing; step past it
      continue;
    }
    into.push([match.index, match.index + match[0].length, cls, rule]);
  }
}

// The colour of the first rule (not the filter) that matched, or -1.
function rowColour(ranges) {
  const ruled = ranges.filter(([, , , rule]) => rule >= 0);
  if (!ruled.length) return -1;
  return ruled.reduce((first, range) => (range[3] < first[3] ? range : first))[2];
}

// The ranges as marks that do not overlap: each character takes the first pattern's that covers it.
function merge(ranges, length) {
  if (!ranges.length) return [];
  const owner = new Int16Array(length).fill(-1);
  for (const [start, end, cls] of ranges) {
    for (let i = start; i < end; i++) if (owner[i] < 0) owner[i] = cls;
  }
  const marks = [];
  for (let i = 0; i < length;) {
    const cls = owner[i];
    let end = i + 1;
    while (end < length && owner[end] === cls) end++;
    if (cls >= 0) marks.push(i, end, cls);
    i = end;
  }
  return marks;
}
