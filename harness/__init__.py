"""Real servers on loopback for the tests, the benchmarks and the screenshots (not part of the wheel).

`harness.servers` starts redis-server, BunnyLogs processes and Chromium; it imports neither pytest
nor anything under `tests/`, so that `bench/` and `docs/` can use it as well.
"""
