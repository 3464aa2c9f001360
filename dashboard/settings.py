"""All configuration in one typed object, read from `BUNNYLOGS_*` variables and CLI flags."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Role = Literal["all", "ingest", "ui"]


class Settings(BaseSettings):
    """How this BunnyLogs process runs; each field is also `BUNNYLOGS_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="BUNNYLOGS_", frozen=True, allow_inf_nan=False)

    host: str = Field("127.0.0.1", description="address to listen on (0.0.0.0 for every interface)")
    port: int = Field(8000, ge=0, le=65535, description="port to listen on")
    redis_url: str | None = Field(None, description="Redis URL; without it the in-process bus is used")
    role: Role = Field("all", description="serve ingest and UI (all), or one of them (needs Redis)")
    history: int = Field(500, ge=0, le=10_000, description="entries a viewer gets when it opens a stream")
    max_rows: int = Field(10_000, ge=100, le=1_000_000,
                          description="rows each browser keeps before dropping the oldest")
    max_stream_length: int = Field(10_000, ge=100, description="entries kept per stream on the bus (approximate)")
    retention_seconds: int = Field(7 * 24 * 3600, ge=60,
                                   description="a stream nobody writes to for this long is dropped")
    memory_budget_mb: int = Field(1024, ge=16, description="memory bus: MiB all streams may take together; beyond it "
                                  "the largest streams lose their oldest lines, each down to the same size")
    max_streams: int = Field(100_000, ge=1, description="memory bus: streams kept at once; beyond it the streams "
                             "written least recently are dropped")
    public_url: str | None = Field(None, description="base URL shown in snippets (default: the URL the browser used)")
    client_install: str | None = Field(None, description="pip requirement for the client shown in the snippets, e.g. "
                                       "'bunnylogs @ git+https://git.example.com/bunnylogs' (default: where this "
                                       "server was installed from)")
    sse_keepalive_seconds: float = Field(15.0, gt=0, le=300,
                                         description="an idle event stream gets a comment line this often")
    send_timeout_seconds: float = Field(30.0, gt=0, le=3600,
                                        description="a client (an event stream's reader, or any answer's) that takes "
                                                    "nothing for this long while it has something to take is "
                                                    "cut off, and its connection dropped")
    page_connect_seconds: float = Field(30.0, ge=1, le=3600,
                                        description="a page whose socket has not connected this long after its "
                                                    "request (a crawler, curl) is let go, with its viewer places; "
                                                    "keep it above socket.io's 20 s connect timeout, after which a "
                                                    "browser whose WebSocket is blocked falls back to polling")
    page_reconnect_seconds: float = Field(10.0, ge=1, le=60,
                                          description="a page whose socket dropped is kept this long: if it "
                                                      "reconnects within it, it is sent what it missed; after it, "
                                                      "its viewer places are given back. Also socket.io's "
                                                      "heartbeat: a ping every 0.8 times it (4 s at least)")
    # Connections (README, "Timeouts"): how long a client may take over a request, how many may be open.
    header_timeout_seconds: float = Field(10.0, gt=0, le=3600,
                                          description="a request's headers must all arrive within this long of the "
                                                      "connection opening (of their first byte, between requests)")
    body_timeout_seconds: float = Field(30.0, gt=0, le=3600,
                                        description="a request's body must all arrive within this long of its headers")
    idle_timeout_seconds: float = Field(5.0, gt=0, le=3600,
                                        description="a kept-alive connection with no request is closed after this long")
    max_connections: int | None = Field(None, ge=1, description="open connections at most (default: 4000, or the "
                                                                "process's open-file limit minus 100 if lower)")
    max_connections_per_client: int = Field(256, ge=0, description="open connections from one client (an IPv6 "
                                            "host by its /64) at most (0: "
                                            "no cap; not applied with --trust-x-forwarded-for, where every "
                                            "connection comes from the proxy)")
    # Limits (see the README's "Limits"): each default is far above what a busy real user sends; 0 turns one off.
    stream_entries_per_second: int = Field(5000, ge=0, description="entries per second one stream takes "
                                           "(averaged over --burst-seconds); 0: no limit")
    stream_bytes_per_second: int = Field(10_000_000, ge=0, description="request bytes per second one stream takes "
                                         "(averaged over --burst-seconds); 0: no limit")
    client_requests_per_second: int = Field(200, ge=0, description="requests per second to /live from one client "
                                            "(averaged over --burst-seconds); 0: no limit")
    burst_seconds: int = Field(5, ge=1, le=3600, description="the per-second limits are averages over this many "
                               "seconds, so a burst of this many seconds' worth passes at once")
    client_streams_per_hour: int = Field(1000, ge=0, description="distinct streams one client sends to per hour; "
                                         "0: no limit")
    viewers_per_stream: int = Field(1000, ge=0, description="open pages and event streams per stream, in each "
                                    "process; 0: no limit")
    viewers_per_client: int = Field(200, ge=0, description="open pages and event streams per client, in each "
                                    "process; 0: no limit")
    levels_per_stream: int = Field(30, ge=0, description="custom level names per stream (in each process); later "
                                   "ones become OTHER; 0: no cap")
    programs_per_stream: int = Field(500, ge=0, description="program names per stream (in each process); later "
                                     "ones become 'other'; 0: no cap")
    trust_x_forwarded_for: bool = Field(False, description="take a client's address from the last X-Forwarded-For "
                                        "address (only behind a proxy that sets it)")
    workers: int = Field(1, ge=1, le=256, description="ingest processes sharing the port (role ingest with Redis "
                         "only: a page and its socket must reach one process, and workers share only Redis)")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="server log level")

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("public URL must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _split_roles_and_workers_need_redis(self) -> Settings:
        if self.workers > 1 and self.role != "ingest":
            raise ValueError(f"--workers {self.workers} needs --role ingest: a page and its socket must reach the "
                             "same process (run one UI process per port behind nginx instead)")
        if self.workers > 1 and not self.redis_url:
            raise ValueError(f"--workers {self.workers} needs a Redis URL (--redis-url): workers share nothing "
                             "else, and each would have its own in-process bus")
        if self.role != "all" and not self.redis_url:
            raise ValueError(f"role {self.role!r} needs a Redis URL (--redis-url): the in-process bus "
                             "cannot join an ingest process to a UI process")
        return self

    @property
    def serves_ui(self) -> bool:
        """Whether this process serves the NiceGUI pages."""
        return self.role in ("all", "ui")

    @property
    def serves_ingest(self) -> bool:
        """Whether this process accepts POST /live/<uuid>."""
        return self.role in ("all", "ingest")
