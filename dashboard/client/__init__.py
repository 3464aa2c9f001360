"""Clients that send to and read from a BunnyLogs server, using the standard library only.

`from dashboard.client import BunnyLogsHandler` works without nicegui, fastapi or redis installed.
"""

from .handler import BunnyLogsHandler
from .sender import BatchSender

__all__ = ["BatchSender", "BunnyLogsHandler"]
