"""What every importer returns, and the error it raises on bad input."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from privy.simulator.episode import Episode
from privy.simulator.scenario import Scenario


class ImportInputError(ValueError):
    """Bad input: the message is one line, ``FILE:LINE: FIELD: what was expected`` (nothing is written)."""

    def __init__(self, file: str, line: int | None, field: str, message: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {field}: {message}")


@dataclass(frozen=True)
class Imported:
    """One dialogue brought in: its scenario and its ``human`` episode."""

    scenario: Scenario
    episode: Episode


@dataclass(frozen=True)
class Skipped:
    """A record left out, and why (it is not bad input: the data cannot be replayed faithfully)."""

    file: str
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: {self.reason}"


@dataclass
class ImportResult:
    """The dialogues imported, those skipped, and notes (e.g. a recorded reward privy's judge does not match)."""

    imported: list[Imported] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def extend(self, other: ImportResult) -> None:
        self.imported += other.imported
        self.skipped += other.skipped
        self.notes += other.notes


def slug(text: str, prefix: str) -> str:
    """``text`` as a scenario id (letters, digits, ``_`` and ``-``, starting with a letter)."""
    s = re.sub(r"[^A-Za-z0-9_\-]+", "_", text).strip("_")
    return f"{prefix}_{s}" if s else prefix


def read_text(path: Path) -> str:
    """The text of the input file ``path`` (UTF-8, a byte-order mark dropped); unreadable: :class:`ImportInputError`."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ImportInputError(str(path), None, "(file)", f"cannot read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ImportInputError(str(path), None, "(file)", "expected UTF-8 text") from err
