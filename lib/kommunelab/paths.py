"""Where the project lives on disk, and the one way files are written.

The project root is the folder that holds reports.toml. It is found from $KOMMUNELAB_ROOT, else by walking up
from the current directory, else from the installed package's location (lib/kommunelab -> ..).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from .errors import KommunelabError

MANIFEST_NAME = "reports.toml"
LOCK_NAME = "requirements.lock"
REPORTS = "reports"
STATE_FILE = "build.json"
FINDINGS_FILE = "findings.json"
INDEX_FILE = "index.html"
DRIFT_FILE = "drift.json"  # the findings that changed in the last build that built something
TMP = ".tmp"


def project_root() -> Path:
    env = os.environ.get("KOMMUNELAB_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / MANIFEST_NAME).is_file():
            raise KommunelabError(f"KOMMUNELAB_ROOT={env} has no {MANIFEST_NAME}; point it at the project folder")
        return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST_NAME).is_file():
            return folder
    package_root = Path(__file__).resolve().parents[2]
    if (package_root / MANIFEST_NAME).is_file():
        return package_root
    raise KommunelabError(
        f"cannot find {MANIFEST_NAME} above {here}; run from inside the kommunelab project or set KOMMUNELAB_ROOT"
    )


@cache
def library_dir() -> Path:
    return Path(__file__).resolve().parent


def data_dir() -> Path:
    return project_root() / "data"


def relative(path: Path | str, root: Path | None = None) -> str:
    """``path`` relative to the project (as stored in build.json), or absolute when it lies outside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to((root or project_root()).resolve()).as_posix()
    except ValueError:
        return str(path)


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all: a temporary file beside it, flushed, then renamed over it.

    A failure (a full disk, a read-only folder) removes the temporary file and raises, so nothing half-written or
    empty is left or pointed to. No link is followed: the temporary file is created new (O_EXCL, O_NOFOLLOW), and the
    rename replaces a link planted at ``path`` rather than writing to what it points to.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.unlink(missing_ok=True)  # a leftover of this PID's earlier, killed run (or a planted link): never opened
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def real_folder(path: Path, within: Path) -> Path:
    """``path`` as a real folder below ``within`` that no link leads into: made if missing; a link or a file in its
    place, or in any folder between, is refused (a build never writes where a planted link points)."""
    rel = Path(path).relative_to(within)
    current = Path(within)
    for part in rel.parts:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            what = "a symbolic link" if current.is_symlink() else "not a folder"
            raise KommunelabError(f"{current} is {what}; the build writes only into real folders of {within}. "
                                  "Remove it and build again")
        current.mkdir(exist_ok=True)
    return Path(path)
