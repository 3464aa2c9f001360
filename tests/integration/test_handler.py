"""BunnyLogsHandler against real servers: order, tracebacks, fields, outages, a full queue, exit."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from dashboard.client import BunnyLogsHandler
from harness.servers import AppProcess, free_port, running_app, running_redis


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app() as app:
        yield app


def read_all(base_url: str, stream: str) -> list[dict]:
    """Every entry the server keeps for `stream`, oldest first, paging through /entries."""
    found: list[dict] = []
    after = "0"
    while True:
        with urllib.request.urlopen(f"{base_url}/live/{stream}/entries?after={after}&limit=1000", timeout=5) as reply:
            page = json.load(reply)
        if not page["entries"]:
            return found
        found.extend(page["entries"])
        after = page["next_after"]


def wait_for_entries(base_url: str, stream: str, count: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = read_all(base_url, stream)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def new_logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test.{uuid.uuid4().hex[:8]}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger


def test_lines_arrive_in_order_with_timestamps_tracebacks_and_fields(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    handler = BunnyLogsHandler(f"{server.url}/live/{stream}", program="billing")
    logger = new_logger(handler)
    started = time.time()
    for i in range(1200):  # more than two batches
        logger.info("line %d", i)
    try:
        raise ValueError("card declined")
    except ValueError:
        logger.exception("charge failed", extra={"order": {"id": 42, "items": ["a", "b"]}, "amount": 9.5})
    logger.warning("done")
    assert handler.flush(10)
    handler.close()
    got = read_all(server.url, stream)
    assert [e["message"] for e in got[:1200]] == [f"line {i}" for i in range(1200)]
    assert all(started - 1 < e["ts"] <= time.time() for e in got)
    assert [e["ts"] for e in got] == sorted(e["ts"] for e in got)
    failure = got[1200]
    assert failure["level"] == "ERROR" and failure["program"] == "billing"
    assert failure["message"].startswith("charge failed\nTraceback (most recent call last):")
    assert failure["message"].rstrip().endswith("ValueError: card declined")
    assert failure["fields"]["order"] == {"id": 42, "items": ["a", "b"]} and failure["fields"]["amount"] == 9.5
    assert failure["fields"]["logger"] == logger.name
    assert (got[-1]["message"], got[-1]["level"]) == ("done", "WARNING")
    assert handler.lost == handler.rejected == 0


def test_a_server_restart_while_logging_loses_nothing(redis_url: str) -> None:
    stream = str(uuid.uuid4())
    app = AppProcess("--redis-url", redis_url).start()
    try:
        handler = BunnyLogsHandler(f"{app.url}/live/{stream}", program="restart", report_problems=False)
        logger = new_logger(handler)
        sent = 0

        def log_for(seconds: float) -> None:
            nonlocal sent
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                logger.info("n=%d", sent)
                sent += 1
                time.sleep(0.002)

        log_for(0.5)
        app.stop()
        log_for(1.5)  # nobody is listening now
        app.start()
        log_for(0.5)
        assert handler.flush(15), "the handler did not deliver its queue after the server came back"
        handler.close()
        got = read_all(app.url, stream)
    finally:
        app.stop()
    assert sent < 10_000, "the test must stay within the queue bound"
    assert [e["message"] for e in got] == [f"n={i}" for i in range(sent)]


def test_503_is_retried_until_the_bus_is_back() -> None:
    stream = str(uuid.uuid4())
    with running_redis() as redis, running_app("--role", "ingest", "--redis-url", redis.url) as ingest:
        redis.stop()
        handler = BunnyLogsHandler(f"{ingest.url}/live/{stream}", report_problems=False)
        logger = new_logger(handler)
        for i in range(20):
            logger.info("during the outage %d", i)
        deadline = time.monotonic() + 10
        while handler.sender.retries < 2:  # ingest answers 503 while Redis is away
            assert time.monotonic() < deadline, "the handler did not retry"
            time.sleep(0.05)
        redis.start()  # on the same port
        assert handler.flush(15)
        got = read_all(ingest.url, stream)
    handler.close()
    assert [e["message"] for e in got] == [f"during the outage {i}" for i in range(20)]


def test_an_unreachable_server_never_slows_logging(capsys: pytest.CaptureFixture[str]) -> None:
    # A server that accepts connections and never answers: the worst case for a blocking client.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(100)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/live/{uuid.uuid4()}"
    handler = BunnyLogsHandler(url, timeout=3.0, capacity=1000, report_problems=False)
    logger = new_logger(handler)
    worst = 0.0
    until = time.monotonic() + 4.0
    count = 0
    while time.monotonic() < until:
        started = time.perf_counter()
        logger.info("while the server hangs %d", count)
        worst = max(worst, time.perf_counter() - started)
        count += 1
        if count % 100 == 0:
            time.sleep(0.01)
    with capsys.disabled():
        print(f"\n[handler] {count} calls to logger.info while the server hung; worst call {worst * 1000:.2f} ms")
    handler.close()
    silent.close()
    # The sender waits up to 3 s on the silent socket; no logging call may wait on it.
    assert worst < 1.0
    assert handler.lost > 0, "the queue is bounded: beyond 1,000 the oldest entries go"


def test_after_an_outage_one_warning_says_how_many_were_lost() -> None:
    port = free_port()
    stream = str(uuid.uuid4())
    handler = BunnyLogsHandler(f"http://127.0.0.1:{port}/live/{stream}", batch_size=50, capacity=100,
                               report_problems=False)
    logger = new_logger(handler)
    for i in range(250):
        logger.info("queued %d", i)
    assert handler.lost >= 100  # 250 logged, 100 queued, up to 50 in flight
    with running_app(port=port) as app:
        assert handler.flush(15)
        got = wait_for_entries(app.url, stream, 101)
    handler.close()
    warnings = [e for e in got if e["level"] == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0]["fields"]["bunnylogs_lost"] == handler.lost
    assert f"dropped {handler.lost:,} log entries" in warnings[0]["message"]
    kept = [e["message"] for e in got if e["level"] == "INFO"]
    assert kept == [f"queued {i}" for i in range(250 - len(kept), 250)], "the newest are kept, in order"


def test_a_record_with_megabytes_in_its_fields_is_stored_with_them_cut(server: AppProcess) -> None:
    """An `extra=` value of 2 MB made the entry larger than any body: refused (413), the line was lost."""
    stream = str(uuid.uuid4())
    handler = BunnyLogsHandler(f"{server.url}/live/{stream}")
    logger = new_logger(handler)
    for i in range(5):
        logger.info("line %d", i, extra={"blob": "a" * 2_000_000} if i == 1 else {})
    assert handler.flush(10)
    handler.close()
    got = read_all(server.url, stream)
    assert [e["message"] for e in got] == [f"line {i}" for i in range(5)]
    assert got[1]["fields"]["blob"].startswith("aaaa") and got[1]["fields"]["blob"].endswith(" characters]")
    assert handler.lost == handler.rejected == 0


def test_entries_the_server_refuses_are_dropped_and_counted(server: AppProcess,
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    # A path prefix is kept (a proxy may serve BunnyLogs under one); this server has none, so 404.
    handler = BunnyLogsHandler(f"{server.url}/no-such-prefix/live/{uuid.uuid4()}")
    logger = new_logger(handler)
    for i in range(3):
        logger.info("to nowhere %d", i)
    assert handler.flush(5)
    handler.close()
    assert handler.rejected == 3
    assert "refused log entries with 404" in capfd.readouterr().err


def test_the_page_url_and_an_upper_case_uuid_work_as_the_handler_url(server: AppProcess) -> None:
    stream = uuid.uuid4()
    page_url = f"{server.url}/{str(stream).upper()}"  # as the address bar shows it, after macOS uuidgen
    handler = BunnyLogsHandler(page_url, program="pasted")
    logger = new_logger(handler)
    logger.info("from the page URL")
    assert handler.flush(10)
    handler.close()
    assert [e["message"] for e in wait_for_entries(server.url, str(stream), 1)] == ["from the page URL"]
    assert handler.rejected == 0


def test_a_url_that_names_no_stream_is_refused_when_the_handler_is_made() -> None:
    with pytest.raises(ValueError, match="does not name a stream"):
        BunnyLogsHandler("http://127.0.0.1:8000/live/not-a-stream")


EXIT_SCRIPT = textwrap.dedent("""
    import logging, sys
    from dashboard.client import BunnyLogsHandler
    logging.basicConfig(level=logging.INFO, handlers=[BunnyLogsHandler(sys.argv[1], program="script")])
    for i in range(int(sys.argv[2])):
        logging.info("last words %d", i)
""")


def test_a_script_that_logs_then_exits_loses_nothing(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    result = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, f"{server.url}/live/{stream}", "700"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    got = read_all(server.url, stream)
    assert [e["message"] for e in got] == [f"last words {i}" for i in range(700)]


def test_exit_with_the_server_down_waits_only_the_bounded_time() -> None:
    url = f"http://127.0.0.1:{free_port()}/live/{uuid.uuid4()}"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, url, "10"], capture_output=True, text=True,
                            timeout=30)
    took = time.monotonic() - started
    assert result.returncode == 0
    assert "10 log entries were not sent before closing" in result.stderr
    assert took < 10, f"exit took {took:.1f} s; the handler may hold it for about 2 s"


def test_close_after_a_flush_that_ran_out_of_time_does_not_wait_again() -> None:
    # logging's exit calls flush() and then close(): together they must stay within exit_timeout.
    handler = BunnyLogsHandler(f"http://127.0.0.1:{free_port()}/live/{uuid.uuid4()}", exit_timeout=3.0,
                               report_problems=False)
    new_logger(handler).info("never delivered")
    assert handler.flush() is False
    started = time.monotonic()
    handler.close()
    assert time.monotonic() - started < 1.5


def test_a_burst_from_one_thread_is_stored_whole_in_order_in_few_requests() -> None:
    # The default limits: a stream takes 5,000 entries/s averaged over 5 s, a client 200 requests/s.
    records = 25_000
    with running_app("--max-stream-length", str(records)) as app:
        stream = str(uuid.uuid4())
        logger = logging.getLogger(f"burst.{stream}")
        logger.propagate = False
        handler = BunnyLogsHandler(f"{app.url}/live/{stream}", report_problems=False)
        logger.addHandler(handler)
        try:
            for number in range(records):
                logger.warning("burst %d", number)
            assert handler.flush(60)
        finally:
            logger.removeHandler(handler)
            handler.close()
        assert handler.lost == 0 and handler.rejected == 0
        assert [entry["message"] for entry in read_all(app.url, stream)] == [f"burst {n}" for n in range(records)]
        assert handler.sender.batches_sent <= records // 500
