"""The `bunnylogs` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command; return the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "pipe":
        return _pipe(args)
    if args.command == "tail":
        return _tail(args)
    parser.error(f"unknown command {args.command!r}")
    return 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bunnylogs", description="Self-hosted live log streaming.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the BunnyLogs server",
                                description="Run the server. Every flag can also be set as BUNNYLOGS_<FLAG>.")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--redis-url", help="Redis URL, e.g. redis://localhost:6379/0 (default: in-process bus)")
    serve.add_argument("--role", choices=["all", "ingest", "ui"],
                       help="serve ingest and pages (all, default), or only one of them (needs --redis-url)")
    serve.add_argument("--workers", type=int,
                       help="with --role ingest: worker processes sharing the port (default 1)")
    serve.add_argument("--history", type=int, help="entries a new viewer gets (default 500)")
    serve.add_argument("--max-rows", type=int, help="rows each browser keeps (default 10000)")
    serve.add_argument("--max-stream-length", type=int, help="entries kept per stream (default 10000)")
    serve.add_argument("--memory-budget-mb", type=int,
                       help="memory bus: MiB all streams may take together (default 1024); beyond it the largest "
                            "streams lose their oldest lines, each down to the same size")
    serve.add_argument("--max-streams", type=int, help="memory bus: streams kept at once (default 100000)")
    serve.add_argument("--public-url", help="base URL to show in snippets, e.g. https://logs.example.com")
    serve.add_argument("--client-install", metavar="REQUIREMENT",
                       help="what the snippets tell users to pip install for the client "
                            "(default: where this server was installed from)")
    serve.add_argument("--sse-keepalive-seconds", type=float,
                       help="how often an idle event stream (GET /live/<uuid>) gets a keep-alive comment (default 15)")
    serve.add_argument("--send-timeout-seconds", type=float,
                       help="a client (an event stream's reader, or any answer's) that takes nothing for this long "
                            "while it has something to take is cut off (default 30)")
    serve.add_argument("--page-connect-seconds", type=float,
                       help="a page whose socket has not connected this long after its request is let go, with its "
                            "viewer places (default 30; keep it above socket.io's 20 s connect timeout)")
    serve.add_argument("--page-reconnect-seconds", type=float,
                       help="a page whose socket dropped is kept this long, to be sent what it missed if it "
                            "reconnects; then its viewer places are given back (default 10, at most 60)")
    serve.add_argument("--header-timeout-seconds", type=float,
                       help="a request's headers must all arrive within this long of connecting (default 10)")
    serve.add_argument("--body-timeout-seconds", type=float,
                       help="a request's body must all arrive within this long of its headers (default 30)")
    serve.add_argument("--idle-timeout-seconds", type=float,
                       help="close a kept-alive connection after this long without a request (default 5)")
    serve.add_argument("--max-connections", type=int,
                       help="open connections at most; at the cap a new one closes the longest-waiting idle one "
                            "(default 4000, or the open-file limit minus 100 if lower)")
    serve.add_argument("--max-connections-per-client", type=int,
                       help="open connections from one address at most; beyond, a new one is closed at once "
                            "(default 256; 0: no cap; off with --trust-x-forwarded-for)")
    _add_limit_flags(serve)
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    _add_client_commands(commands)
    return parser


def _add_limit_flags(serve: argparse.ArgumentParser) -> None:
    """The limits of `serve` (the README's "Limits"); 0 turns one off."""
    limits = serve.add_argument_group("limits", "answered 429 with Retry-After; 0 turns a limit off")
    limits.add_argument("--stream-entries-per-second", type=int, metavar="N",
                        help="entries one stream takes per second (default 5000)")
    limits.add_argument("--stream-bytes-per-second", type=int, metavar="N",
                        help="request bytes one stream takes per second (default 10000000)")
    limits.add_argument("--client-requests-per-second", type=int, metavar="N",
                        help="requests to /live one client sends per second (default 200)")
    limits.add_argument("--burst-seconds", type=int, metavar="S",
                        help="the per-second limits are averages over this many seconds (default 5)")
    limits.add_argument("--client-streams-per-hour", type=int, metavar="N",
                        help="distinct streams one client sends to per hour (default 1000)")
    limits.add_argument("--viewers-per-stream", type=int, metavar="N",
                        help="open pages and event streams per stream, in each process (default 1000)")
    limits.add_argument("--viewers-per-client", type=int, metavar="N",
                        help="open pages and event streams per client, in each process (default 200)")
    limits.add_argument("--levels-per-stream", type=int, metavar="N",
                        help="custom level names per stream; later ones become OTHER (default 30)")
    limits.add_argument("--programs-per-stream", type=int, metavar="N",
                        help="program names per stream; later ones become 'other' (default 500)")
    limits.add_argument("--trust-x-forwarded-for", action="store_true", default=None,
                        help="take the client's address from the last X-Forwarded-For address (only behind "
                             "a proxy that sets it)")


def _add_client_commands(commands: argparse._SubParsersAction) -> None:
    pipe = commands.add_parser(
        "pipe", help="send standard input to a stream, one entry per line",
        description="Send each line of standard input to a stream, e.g. `tail -f app.log | bunnylogs pipe URL`. "
                    "Exits once everything is sent after end of input.")
    pipe.add_argument("url", type=_sending_url, help="the stream: http://host:port/live/<uuid> (or its page URL)")
    pipe.add_argument("--level", type=_level, default="INFO", help="level of every line (default INFO)")
    pipe.add_argument("--program", default="pipe", help="program name of every line (default pipe)")
    pipe.add_argument("--tee", action="store_true", help="also copy the input to standard output")
    pipe.add_argument("--wait", type=_wait_seconds, default=30.0, metavar="SECONDS",
                      help="after end of input, how long to keep trying to deliver (default 30)")

    tail = commands.add_parser(
        "tail", help="print a stream's entries as they arrive",
        description="Print the last lines of a stream, then each new one. Reconnects by itself and resumes "
                    "without a gap or a repeated line.")
    tail.add_argument("url", type=_stream_url,
                      help="the stream: http://host:port/live/<uuid> (or its page URL, or its read-only link)")
    tail.add_argument("--level", type=_threshold,
                      help="show only this level and above: a name (e.g. warning, warn, trace) or a number 0-50")
    tail.add_argument("--grep", metavar="RE", help="show only entries whose message matches this regular expression")
    tail.add_argument("-i", "--ignore-case", action="store_true", help="match --grep without regard to case")
    tail.add_argument("--json", action="store_true", help="print each entry as one line of JSON")
    tail.add_argument("-n", "--lines", type=_history_lines, default=10, metavar="N",
                      help="how many earlier entries to print first, 0 to 1000 (default 10)")
    tail.add_argument("--since", metavar="TIME",
                      help="print every stored entry from this time on (ISO 8601, or ago: 30s, 15m, 2h, 1d), "
                           "then follow; -n does not apply")
    tail.add_argument("--until", metavar="TIME",
                      help="print the stored entries before this time (ISO 8601, or ago: 15m) and exit")


def _history_lines(text: str) -> int:
    if not text.isdigit() or int(text) > 1000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1000")
    return int(text)


def _stream_url(text: str) -> str:
    from .client.urls import BadStreamUrl, stream_url

    try:
        return stream_url(text)
    except BadStreamUrl as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _sending_url(text: str) -> str:
    from .client.urls import BadStreamUrl, sending_url

    try:
        return sending_url(text, keep_query=False)
    except BadStreamUrl as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _level(text: str) -> str:
    """A level as users type it (`warn`, `Error`, `40`, `trace`), as its canonical name."""
    from .protocol import InvalidLevel, canonical_level

    try:
        return canonical_level(text)
    except InvalidLevel as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _threshold(text: str) -> int:
    """A minimum level as users type it (`warn`, `40`), as the lowest rank to show."""
    from .protocol import InvalidLevel, level_threshold

    try:
        return level_threshold(text)
    except InvalidLevel as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# The longest --wait: a day (longer waits overflowed the clock's arithmetic).
_LONGEST_WAIT_S = 86_400.0


def _wait_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= seconds <= _LONGEST_WAIT_S:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds from 0 to {_LONGEST_WAIT_S:,.0f}")
    return seconds


def _pipe(args: argparse.Namespace) -> int:
    from .client.pipe import pipe

    return pipe(args.url, level=args.level, program=args.program, tee=args.tee, wait_seconds=args.wait)


def _tail(args: argparse.Namespace) -> int:
    import re
    import time

    from .client.tail import tail
    from .time_bounds import InvalidMoment, parse_moment

    try:
        pattern = re.compile(args.grep, re.IGNORECASE if args.ignore_case else 0) if args.grep else None
    except re.error as error:
        print(f"bunnylogs tail: --grep {args.grep!r} is not a regular expression: {error}", file=sys.stderr)
        return 2
    now = time.time()  # once: "15m" means the same moment on every page
    bounds: dict[str, float | None] = {}
    for name in ("since", "until"):
        text = getattr(args, name)
        try:
            bounds[name] = None if text is None else parse_moment(text, now=now)
        except InvalidMoment as error:
            print(f"bunnylogs tail: --{name} {error}", file=sys.stderr)
            return 2
    since, until = bounds["since"], bounds["until"]
    if since is not None and until is not None and since >= until:
        print("bunnylogs tail: --since must be earlier than --until", file=sys.stderr)
        return 2
    return tail(args.url, min_rank=args.level, pattern=pattern, as_json=args.json, history=args.lines,
                since=since, until=until)


def _serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .settings import Settings

    overrides = {key: value for key, value in vars(args).items() if key != "command" and value is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "settings"
            print(f"bunnylogs serve: {where}: {problem['msg']}", file=sys.stderr)
        return 2
    if settings.redis_url:
        from .bus.redis_streams import check_reachable
        from .stream import BusUnavailable

        try:
            check_reachable(settings.redis_url)
        except BusUnavailable as error:
            print(f"bunnylogs serve: {error}", file=sys.stderr)
            return 1
    if settings.workers > 1:
        from .workers import run_workers

        return run_workers(settings)
    from .server import run_server

    run_server(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
