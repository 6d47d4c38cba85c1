"""Opening a SQLite file in WAL mode, shared by the result store and the response cache.

Switching a file to WAL needs a moment of exclusive access, and SQLite may answer
"database is locked" at once, without waiting, when another process opens the same new
file at that instant (its busy timeout does not cover this case). So the switch is
retried until the timeout.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def connect_wal(path: str | Path, timeout_s: float = 60.0) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode, usable from several threads (callers serialise use)."""
    db = sqlite3.connect(path, timeout=timeout_s, check_same_thread=False, isolation_level=None)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return db
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                db.close()
                raise
            time.sleep(0.05)
