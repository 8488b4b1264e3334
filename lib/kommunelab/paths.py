"""Where the project lives on disk, and the one way files are written.

The project root is the folder that holds reports.toml. It is found from $KOMMUNELAB_ROOT, else by walking up
from the current directory, else from the installed package's location (lib/kommunelab -> ..).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from .errors import KommunelabError

MANIFEST_NAME = "reports.toml"
LOCK_NAME = "requirements.lock"
REPORTS = "reports"
# (the names of the build's own files in reports/ are in kommunelab.records)


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


def synthetic_dir() -> Path:
    """data/synthetic/: the survey stand-ins, their descriptor and truth.csv."""
    return project_root() / "data" / "synthetic"


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


SWITCH_JOURNAL = ".switch.json"  # names the files of a set being switched into place (see write_set)
NEXT = ".{name}.next"  # a file of the set, whole, waiting beside its place


def write_set(folder: Path, contents: dict[str, str | bytes]) -> None:
    """Replace several files of ``folder`` as one set: each new file is first written whole beside its place, then a
    journal naming the set is written, then each is renamed into place and the journal removed. A process killed
    during the renames leaves the journal, and :func:`complete_set` (run by the next build under its lock) finishes
    them: readers see the old set or the new one, never a mix that stays."""
    names = sorted(contents)
    if any("/" in n or n.startswith(".") for n in names):
        raise ValueError(f"write_set takes plain file names, got {names}")
    written = []
    try:
        for name in names:
            written.append(write_atomic(folder / NEXT.format(name=name), contents[name]))
        write_atomic(folder / SWITCH_JOURNAL, json.dumps(names))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    for name in names:
        os.replace(folder / NEXT.format(name=name), folder / name)
    (folder / SWITCH_JOURNAL).unlink()


def complete_set(folder: Path) -> list[str]:
    """Finish a :func:`write_set` that was killed during its renames; the names completed (none when there was
    nothing to finish). A set killed before its journal was written is left as it was: the old set."""
    journal = folder / SWITCH_JOURNAL
    if journal.is_symlink():
        journal.unlink()
        return []
    try:
        names = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        names = []  # written atomically, so never half; unreadable all the same: the old set stays
    done = []
    for name in names if isinstance(names, list) else []:
        part = folder / NEXT.format(name=str(name))
        if isinstance(name, str) and "/" not in name and part.is_file() and not part.is_symlink():
            os.replace(part, folder / name)
            done.append(name)
    journal.unlink()
    return done


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
