"""Ready-to-copy examples that send a line to one stream."""

from __future__ import annotations

import shlex


def curl_snippet(ingest_url: str) -> str:
    """A curl command that posts one form-encoded entry."""
    return (
        f"curl -d message='Hello from curl' -d level=INFO -d program=shell \\\n"
        f"     {shlex.quote(ingest_url)}"
    )


def python_snippet(ingest_url: str) -> str:
    """A standard-library-only Python function that posts one entry."""
    return f'''import urllib.parse, urllib.request

URL = {ingest_url!r}

def send(message, level="INFO", program="script"):
    data = urllib.parse.urlencode({{"message": message, "level": level, "program": program}})
    urllib.request.urlopen(URL, data.encode(), timeout=5)

send("Hello from Python")'''
