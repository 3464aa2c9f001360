"""The bus's lean Redis connection against a real redis-server: replies in order, redis-py's errors,
logging in, picking the database, timing out, and coming back after Redis restarts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
from redis.connection import parse_url
from redis.exceptions import (
    AuthenticationError,
    DataError,
    NoScriptError,
    OutOfMemoryError,
    ResponseError,
)
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)

from dashboard.bus.redis_channel import Address, RedisChannel, supports
from harness.servers import RedisServer, free_port, running, running_redis


def channel_to(url: str, timeout_s: float = 5.0) -> RedisChannel:
    return RedisChannel(url, timeout_s=timeout_s, connect_timeout_s=2.0)


def new_key() -> str:
    return f"bunnylogs:test:{uuid.uuid4()}"


async def test_replies_come_back_in_order_also_when_sent_together(redis_url: str) -> None:
    channel = channel_to(redis_url)
    key = new_key()
    try:
        assert await channel.call("SET", key, b"\x00binary\r\n") == b"OK"
        assert await channel.call("GET", key) == b"\x00binary\r\n"
        counter = new_key()
        assert await channel.call_each(("INCR", counter), ("INCRBY", counter, 10), ("GET", counter)) == [1, 11, b"11"]
        big = b"x" * 3_000_000  # a reply that arrives in many reads
        await channel.call("SET", key, big)
        assert await channel.call("GET", key) == big
        assert await asyncio.gather(*(channel.call("ECHO", str(n)) for n in range(50))) == \
            [str(n).encode() for n in range(50)]
    finally:
        channel.close()


async def test_error_replies_are_redis_py_exceptions_and_the_replies_stay_in_step(redis_url: str) -> None:
    channel = channel_to(redis_url)
    key = new_key()
    try:
        with pytest.raises(NoScriptError):
            await channel.call("EVALSHA", "0" * 40, 0)
        await channel.call("SET", key, "text")
        with pytest.raises(ResponseError, match="not an integer"):
            await channel.call_each(("GET", key), ("INCR", key), ("ECHO", "after"))
        assert await channel.call("ECHO", "next") == b"next"  # the failed one's neighbours were read too
    finally:
        channel.close()


async def test_a_full_redis_is_out_of_memory_error() -> None:
    with running_redis() as server:
        channel = channel_to(server.url)
        admin = redis.Redis.from_url(server.url)
        try:
            admin.config_set("maxmemory-policy", "noeviction")
            admin.config_set("maxmemory", 1)
            with pytest.raises(OutOfMemoryError):
                await channel.call("SET", new_key(), "v")
        finally:
            admin.config_set("maxmemory", 0)
            admin.close()
            channel.close()


async def test_it_logs_in_as_the_urls_user_and_uses_its_database() -> None:
    with running_redis() as server:
        admin = redis.Redis.from_url(server.url)
        admin.execute_command("ACL", "SETUSER", "bunnylogs", "on", ">s3cret/%", "~bunnylogs:*", "&*", "+@all")
        channel = channel_to(f"redis://bunnylogs:s3cret%2F%25@127.0.0.1:{server.port}/3")
        wrong = channel_to(f"redis://bunnylogs:wrong@127.0.0.1:{server.port}/3")
        key = new_key()
        try:
            await channel.call("SET", key, "in three")
            assert redis.Redis(port=server.port, db=3).get(key) == b"in three"
            assert admin.get(key) is None  # not in database 0
            with pytest.raises(AuthenticationError):
                await wrong.call("PING")
        finally:
            admin.close()
            channel.close()
            wrong.close()


async def test_a_silent_redis_times_out_and_the_next_command_gets_a_new_connection(redis_url: str) -> None:
    channel = channel_to(redis_url, timeout_s=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            await channel.call("BLPOP", new_key(), 5)  # blocks the connection for 5 s
        assert time.monotonic() - started < 2
        assert await channel.call("PING") is not None
    finally:
        channel.close()


async def test_it_connects_again_after_redis_restarts_and_says_when_it_cannot() -> None:
    port = free_port()
    channel = channel_to(f"redis://127.0.0.1:{port}/0")
    try:
        with running_redis(port):
            assert await channel.call("PING") == b"PONG"
        with pytest.raises(RedisConnectionError):
            await channel.call("PING")  # on the connection the server closed, or a new one that nobody takes
        with pytest.raises(RedisConnectionError, match="cannot connect"):
            await channel.call("PING")
        with running_redis(port):
            assert await channel.call("PING") == b"PONG"
            await asyncio.sleep(0.1)  # the connection is up and idle: a restart closes it
        with running_redis(port):
            await asyncio.sleep(0.1)  # time to see the old connection close
            assert await channel.call("PING") == b"PONG"
    finally:
        channel.close()


async def test_a_closed_channel_fails_what_waits_on_it(redis_url: str) -> None:
    channel = channel_to(redis_url)
    waiting = asyncio.ensure_future(channel.call("BLPOP", new_key(), 5))
    await asyncio.sleep(0.1)
    channel.close()
    with pytest.raises(RedisConnectionError):
        await waiting


@pytest.mark.parametrize(("url", "spoken"), [
    ("redis://localhost", True),
    ("redis://localhost:6380/2", True),
    ("redis://user:pass@10.0.0.5:6379/0", True),
    ("redis://:pass@10.0.0.5", True),
    ("rediss://redis.example.com:6380/0", True),
    ("redis://localhost:6379/0?health_check_interval=10", False),  # redis-py's own options: left to it
    ("unix:///run/redis.sock", False),
    ("redis+sentinel://localhost", False),
])
def test_which_urls_it_speaks(url: str, spoken: bool) -> None:
    assert supports(url) is spoken


class TlsRedisServer(RedisServer):
    """A redis-server that speaks only TLS, with a certificate for `localhost`."""

    name = "redis-server (TLS)"

    def __init__(self, certificate: Path, key: Path) -> None:
        super().__init__()
        self.certificate, self.key = certificate, key

    @property
    def url(self) -> str:
        return f"rediss://localhost:{self.port}/0"

    def command(self) -> list[str]:
        plain = super().command()
        return [plain[0], "--port", "0", "--tls-port", str(self.port), *plain[3:], "--tls-cert-file",
                str(self.certificate), "--tls-key-file", str(self.key), "--tls-ca-cert-file", str(self.certificate),
                "--tls-auth-clients", "no"]

    def is_ready(self) -> bool:
        context = ssl.create_default_context(cafile=str(self.certificate))
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn, \
                context.wrap_socket(conn, server_hostname="localhost") as tls:
            tls.sendall(b"PING\r\n")
            return tls.recv(16).startswith(b"+PONG")
        return False


async def test_rediss_is_tls_checked_against_the_systems_trusted_certificates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    certificate, key = tmp_path / "redis.crt", tmp_path / "redis.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    with running(TlsRedisServer(certificate, key)) as server:
        untrusted = channel_to(server.url)
        with pytest.raises(RedisConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusted.call("PING")
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # as if the system trusted it
        trusted = channel_to(server.url)
        try:
            assert await trusted.call("PING") == b"PONG"
        finally:
            trusted.close()


@pytest.mark.parametrize("url", [
    "redis://localhost", "redis://:@127.0.0.1:7000/0", "redis://user@127.0.0.1", "redis://:pw@127.0.0.1/2",
    "redis://bunny%20logs:p%40ss%3Aw%2Frd@10.0.0.5:6380/3", "redis://[::1]:7001", "rediss://cache.example.com/1",
])
def test_it_reads_a_url_as_redis_py_does(url: str) -> None:
    theirs = parse_url(url)
    ours = Address(url)
    assert (ours.host, ours.port, ours.database, ours.username, ours.password) == \
        (theirs["host"], theirs.get("port", 6379), theirs.get("db", 0), theirs.get("username"), theirs.get("password"))


async def test_a_command_that_cannot_be_packed_fails_alone_and_the_replies_stay_in_step(redis_url: str) -> None:
    channel = channel_to(redis_url, timeout_s=2.0)
    try:
        with pytest.raises(DataError):
            await channel.call("ECHO", "\udcff")  # a lone surrogate: no UTF-8 for it
        with pytest.raises(DataError):
            await channel.call_each(("ECHO", "fine"), ("SET", new_key(), None))  # type: ignore[arg-type]
        started = time.monotonic()
        assert await channel.call("ECHO", "next") == b"next"
        assert time.monotonic() - started < 1
    finally:
        channel.close()


async def test_a_closed_channel_stays_closed(redis_url: str) -> None:
    channel = channel_to(redis_url)
    assert await channel.call("PING") == b"PONG"
    channel.close()
    with pytest.raises(RedisConnectionError, match="closed"):
        await channel.call("PING")
