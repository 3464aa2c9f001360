"""BunnyLogs: self-hosted live log streaming."""

__version__ = "0.1.0"
