"""Viewer under load: a stream at 2,000 lines/s for 60 s into one real Chromium tab.

Measures what the person at the tab would feel, from inside the page:
- frame gaps (time between animation frames; 16.7 ms is smooth, long gaps are jank),
- input lag (a timer set every 100 ms: how late it fires),
- JS heap and DOM rows every 10 s (bounded memory: it levels off once the row cap is reached),
- every line accounted for (the tab's received count equals what was sent).

It runs twice: the page as it opens (the volume strip on), and the page with every per-row feature
on as well (three highlight rules, one of them a regular expression, and two columns from fields).

Run from the repository root:  .venv/bin/python -m bench.viewer_load [--rate 2000] [--seconds 60]
Writes docs/viewer-load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from pathlib import Path

import httpx

from harness.servers import chromium, running_app, wait_for_viewers

REPORT = Path(__file__).parent.parent / "docs" / "viewer-load.md"
BATCHES_PER_SECOND = 20
SAMPLE_EVERY_S = 10
# The two pages measured: as it opens, and with highlight rules and columns from fields (the URL's query).
PAGES = [("the page as it opens", ""),
         ("three highlight rules and two columns", "hl=red:re:line%20%5Cd*7%20&hl=blue:svc-3&hl=green:WARNING"
                                                    "&col=status&col=user.id")]

PROBE = """
() => {
  window.__frames = []; window.__lags = [];
  let last = performance.now();
  const frame = (now) => { window.__frames.push(now - last); last = now; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  let expected = performance.now() + 100;
  const tick = () => { const now = performance.now(); window.__lags.push(now - expected);
                       expected = now + 100; setTimeout(tick, 100); };
  setTimeout(tick, 100);
}
"""
SAMPLE = """
() => { if (window.gc) window.gc(); return ({heap: performance.memory ? performance.memory.usedJSHeapSize : null,
        rows: document.querySelectorAll('.bl-row').length,
        received: document.querySelector('.bl-count').textContent,
        shown: document.querySelector('.bl-shown').textContent}); }
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def run(rate: int, seconds: int, max_rows: int, query: str) -> tuple[int, float, list[float], list[float],
                                                                  list[tuple[str, dict]]]:
    per_batch = rate // BATCHES_PER_SECOND
    # --rate may be above what one stream takes by default: this measures the tab, not the limits.
    with running_app("--max-rows", str(max_rows), "--history", "0", "--stream-entries-per-second", "0",
                     "--stream-bytes-per-second", "0") as app:
        stream = str(uuid.uuid4())
        measuring = ["--enable-precise-memory-info", "--js-flags=--expose-gc"]
        async with httpx.AsyncClient(timeout=10) as http, chromium(*measuring) as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(f"{app.url}/{stream}" + (f"?{query}" if query else ""))
            await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
            await wait_for_viewers(app.url, lambda count: count >= 1, timeout_s=10)
            await page.evaluate(PROBE)
            samples = [("start", await page.evaluate(SAMPLE))]
            sent = 0
            started = time.monotonic()
            batches = seconds * BATCHES_PER_SECOND
            for batch_number in range(batches):
                body = [{"message": f"line {sent + i} " + "x" * 60, "level": ("INFO", "DEBUG", "WARNING")[i % 3],
                         "program": f"svc-{i % 7}", "fields": {"status": 200 + i % 3, "user": {"id": i % 97}}}
                        for i in range(per_batch)]
                response = await http.post(f"{app.url}/live/{stream}", json=body)
                assert response.status_code == 204, response.text
                sent += per_batch
                done = batch_number + 1
                if done % (SAMPLE_EVERY_S * BATCHES_PER_SECOND) == 0 and done < batches:
                    samples.append((f"{done // BATCHES_PER_SECOND} s", await page.evaluate(SAMPLE)))
                delay = started + (batch_number + 1) / BATCHES_PER_SECOND - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elapsed = time.monotonic() - started
            try:
                await page.wait_for_function(f"document.querySelector('.bl-count').textContent === "
                                             f"'{sent:,} lines'", timeout=15_000)
            except Exception:
                print("the tab did not count every line:", await page.evaluate(SAMPLE))
            samples.append(("end", await page.evaluate(SAMPLE)))
            frames = await page.evaluate("window.__frames")
            lags = await page.evaluate("window.__lags")
    return sent, elapsed, frames, lags, samples


def report(title: str, query: str, sent: int, elapsed: float, frames: list[float],
           lags: list[float], samples: list[tuple[str, dict]]) -> str:
    lines = [
        f"## {title[0].upper()}{title[1:]}",
        "",
        (f"Its address's query: `?{query}`." if query else "The page's defaults, no query.")
        + f" {sent:,} lines sent in {elapsed:.1f} s.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| lines the tab counted | {samples[-1][1]['received']} (sent {sent:,}) |",
        f"| frame gap p50 / p99 / max | {statistics.median(frames):.1f} / {percentile(frames, 0.99):.1f} / "
        f"{max(frames):.1f} ms |",
        f"| frames over 50 ms | {sum(gap > 50 for gap in frames)} of {len(frames)} |",
        f"| timer lag p50 / p99 / max | {statistics.median(lags):.1f} / {percentile(lags, 0.99):.1f} / "
        f"{max(lags):.1f} ms |",
        "",
        "| when | JS heap (after a forced GC) | rows in the DOM | rows held |",
        "|---|---|---|---|",
    ]
    for when, sample in samples:
        heap = f"{sample['heap'] / 1e6:.1f} MB" if sample["heap"] else "n/a"
        lines.append(f"| {when} | {heap} | {sample['rows']} | {sample['shown']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=2000, help="lines per second (default 2000)")
    parser.add_argument("--seconds", type=int, default=60, help="how long (default 60)")
    parser.add_argument("--max-rows", type=int, default=10_000, help="the viewer's row cap (default 10000)")
    args = parser.parse_args()
    parts = ["# Viewer under load", "",
             f"One Chromium tab (Debian's, headless) following a stream at {args.rate:,} lines/s for {args.seconds} s "
             f"(in {BATCHES_PER_SECOND} POSTs/s, each line with two fields), row cap {args.max_rows:,}, on each of "
             "two pages. Made by `.venv/bin/python -m bench.viewer_load`; figures from this machine (2 cores), "
             "not a promise.",
             ""]
    for title, query in PAGES:
        parts.append(report(title, query, *asyncio.run(run(args.rate, args.seconds, args.max_rows, query))))
    text = "\n".join(parts)
    REPORT.write_text(text)
    print(text)
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
