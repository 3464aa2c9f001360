"""The `bunnylogs` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command; return the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
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
    serve.add_argument("--history", type=int, help="entries a new viewer gets (default 500)")
    serve.add_argument("--max-rows", type=int, help="rows each browser keeps (default 10000)")
    serve.add_argument("--max-stream-length", type=int, help="entries kept per stream (default 10000)")
    serve.add_argument("--public-url", help="base URL to show in snippets, e.g. https://logs.example.com")
    serve.add_argument("--sse-keepalive-seconds", type=float,
                       help="how often an idle event stream (GET /live/<uuid>) gets a keep-alive comment (default 15)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    return parser


def _serve(args: argparse.Namespace) -> int:
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
        from .bus_redis import check_reachable
        from .stream import BusUnavailable

        try:
            check_reachable(settings.redis_url)
        except BusUnavailable as error:
            print(f"bunnylogs serve: {error}", file=sys.stderr)
            return 1
    from .app import run_server

    run_server(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
