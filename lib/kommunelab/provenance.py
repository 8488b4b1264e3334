"""What a notebook read: every data file, with its checksum and source, in the order first read.

The data loaders record here; report.provenance() shows it at the end of a report and hands it to the build,
which rebuilds a report when one of these files changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from .records import REVISION_ENV
from .session import current


@dataclass(frozen=True)
class FileRead:
    path: str
    sha256: str
    origin: str  # snapshot | mirror | project | synthetic | microdata | user
    source: str = ""
    table: str = ""
    key: str = ""  # how the build finds the file again: dataset:<path> | project:<path> | file:<absolute path>
    retrieved: str = ""  # when this copy was fetched from its publisher (the snapshot's record), if known
    licence: str = ""
    attribution: str = ""  # the credit the licence asks for, shown in the report's provenance block




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


def file_key(path: Path | str) -> str:
    """The rebuild key of a file that is not a reference dataset: project-relative when inside the project."""
    from .paths import project_root

    resolved = Path(path).resolve()
    try:
        return f"project:{resolved.relative_to(project_root()).as_posix()}"
    except ValueError:
        return f"file:{resolved}"


def record_read(path: str, sha256: str, origin: str, source: str = "", table: str = "", key: str = "",
                retrieved: str = "", licence: str = "", attribution: str = "") -> None:
    current().files.setdefault(str(path), FileRead(str(path), sha256, origin, source, table, key or file_key(path), retrieved,
                                         licence, attribution))


def files_read() -> list[dict]:
    return [asdict(f) for f in current().files.values()]


def record_package(summary: dict) -> None:
    """A survey data package read (its title, sources, licences): shown in the report's provenance block."""
    current().packages.setdefault(summary["folder"], summary)


def packages_read() -> list[dict]:
    return list(current().packages.values())




def git_revision(root: Path) -> str:
    """The checkout's short revision, with "+dirty" when tracked files have uncommitted changes; "unknown" outside a
    git checkout. A build finds it once and hands it to its kernels ($KOMMUNELAB_GIT_REVISION).

    The dirty check runs git's clean filters (nbstripout on the notebooks), which on a fresh clone can take many
    seconds once (``make setup`` pays that); it is given minutes, and if it still does not answer the revision is
    given with "+unchecked" rather than given up."""
    given = os.environ.get(REVISION_ENV, "").strip()
    if given:
        return given
    try:
        found = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                               text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    rev = found.stdout.strip()
    if found.returncode != 0 or not rev:
        return "unknown"
    try:
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError):
        return f"{rev}+unchecked"
    if dirty.returncode != 0:
        return f"{rev}+unchecked"
    return rev + ("+dirty" if dirty.stdout.strip() else "")

