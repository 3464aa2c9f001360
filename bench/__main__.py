"""`python -m bench` (or `./dev bench`): every benchmark in one run; prints a table, writes docs/benchmarks.md."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from .report import as_markdown, as_text, draw_chart
from .suite import QUICK, Durations, run_suite

DOCS = Path(__file__).parent.parent / "docs"
NOTES = Path(__file__).parent / "notes.md"


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, to try the harness (not for the record)")
    parser.add_argument("--bus", action="append", choices=["memory", "redis"],
                        help="measure only this bus (repeatable; default: both)")
    args = parser.parse_args()
    durations = QUICK if args.quick else Durations()
    suite = asyncio.run(run_suite(durations, args.bus or ["memory", "redis"], say=lambda text: print(f"· {text}")))
    print()
    print(as_text(suite))
    if args.quick or args.bus:
        print("\n(quick or partial run: docs/benchmarks.md left as it was)")
        return
    chart = DOCS / "benchmarks.png"
    draw_chart(suite, chart)
    (DOCS / "benchmarks.md").write_text(as_markdown(suite, "./dev bench", chart, NOTES.read_text()))
    print(f"\nwrote {DOCS / 'benchmarks.md'} and {chart}")


if __name__ == "__main__":
    main()
