"""SQLite connections for Loupe's small embedded stores (registry, records, card fields).

WAL mode gives many concurrent readers and one writer; each call opens its own connection,
so a store object is safe to share between Streamlit threads and across processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def connect_database(database: Path) -> Iterator[sqlite3.Connection]:
    """An autocommit connection in WAL mode that waits up to 30 s for a writer's lock."""
    connection = sqlite3.connect(database, timeout=30.0, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=30000")
        yield connection
    finally:
        connection.close()
