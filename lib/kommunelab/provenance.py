"""What a notebook read: every data file, with its checksum and source, in the order first read.

The data loaders record here; report.provenance() shows it at the end of a report and hands it to the build,
which rebuilds a report when one of these files changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FileRead:
    path: str
    sha256: str
    origin: str  # project | cache | mirror | download
    source: str = ""
    table: str = ""


_READ: dict[str, FileRead] = {}


def record_read(path: str, sha256: str, origin: str, source: str = "", table: str = "") -> None:
    _READ.setdefault(str(path), FileRead(str(path), sha256, origin, source, table))


def files_read() -> list[dict]:
    return [asdict(f) for f in _READ.values()]


def clear() -> None:
    _READ.clear()
