"""What a notebook read: every data file, with its checksum and source, in the order first read.

The data loaders record here; report.provenance() shows it at the end of a report and hands it to the build,
which rebuilds a report when one of these files changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class FileRead:
    path: str
    sha256: str
    origin: str  # project | cache | mirror | download
    source: str = ""
    table: str = ""


_READ: dict[str, FileRead] = {}
_PACKAGES: dict[str, dict] = {}


def sha256_file(path: Path | str) -> str:
    """SHA-256 of a file, computed once per version (modification time and size) of the file."""
    stat = Path(path).stat()
    return _sha256(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=512)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def record_read(path: str, sha256: str, origin: str, source: str = "", table: str = "") -> None:
    _READ.setdefault(str(path), FileRead(str(path), sha256, origin, source, table))


def files_read() -> list[dict]:
    return [asdict(f) for f in _READ.values()]


def record_package(summary: dict) -> None:
    """A survey data package read (its title, sources, licences): shown in the report's provenance block."""
    _PACKAGES.setdefault(summary["folder"], summary)


def packages_read() -> list[dict]:
    return list(_PACKAGES.values())


def clear() -> None:
    _READ.clear()
    _PACKAGES.clear()
