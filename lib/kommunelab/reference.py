"""Where a reference dataset is read from, and what the snapshot says about it. Light on purpose (no pandas).

The project ships a pinned snapshot of the public reference data it reads: ``data/reference/`` holds the files, their
``SHA256SUMS`` and a ``datapackage.json`` with each file's publisher, source table, address, retrieval date, licence
and the attribution that licence asks for. Every file is checked against its checksum when it is read. Refreshing the
snapshot is a reviewed change (``kommunelab data update``); nothing is downloaded while a report is built.

``$KOMMUNELAB_DATA_MIRROR`` (or ``kommunelab --data-mirror DIR``) names another folder of the same layout, for
someone who keeps their own snapshot: a file found there (and listed in its own SHA256SUMS) is read instead of the
project's. The build asks :func:`where_now` which file each data key names now, so pointing at another folder
rebuilds exactly the reports that read a file which differs there.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from .errors import DataError
from .paths import project_root

MIRROR_ENV = "KOMMUNELAB_DATA_MIRROR"
REFERENCE = Path("data") / "reference"
CHECKSUMS = "SHA256SUMS"
DESCRIPTOR = "datapackage.json"


def reference_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / REFERENCE


def mirror_dir() -> Path | None:
    """The folder named by $KOMMUNELAB_DATA_MIRROR (None when unset or empty)."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataError(value, f"${MIRROR_ENV} names a folder that does not exist",
                        hint=f"Unset {MIRROR_ENV} to read the project's own snapshot in {REFERENCE}/")
    return path.resolve()


def checksums(folder: Path) -> dict[str, str]:
    """``folder``/SHA256SUMS as {relative path: sha256}."""
    sums = folder / CHECKSUMS
    try:
        stat = sums.stat()
    except OSError:
        raise DataError(str(sums), "missing, so the files beside it cannot be verified",
                        hint="Restore it (git checkout -- data/reference) or write it with `sha256sum */* > SHA256SUMS`"
                        ) from None
    return _parsed_checksums(str(sums), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _parsed_checksums(path: str, mtime_ns: int, size: int) -> dict[str, str]:
    out = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataError(path, "expected '<sha256>  <path>'", row=n)
        out[parts[1].lstrip("*").removeprefix("./")] = parts[0].lower()
    return out


def verified(folder: Path, relpath: str) -> Path:
    """``folder``/``relpath`` after checking it against ``folder``/SHA256SUMS; DataError when unlisted or altered."""
    from .provenance import sha256_file

    path = folder / relpath
    expected = checksums(folder).get(relpath)
    if expected is None:
        raise DataError(str(path), f"not listed in {folder / CHECKSUMS}", hint="Add its checksum there")
    actual = sha256_file(path)
    if actual != expected:
        raise DataError(str(path), f"checksum mismatch: {CHECKSUMS} says {expected[:12]}…, the file is {actual[:12]}…",
                        hint="The copy is damaged or was changed by hand; restore it (git checkout -- data/reference), "
                             "or refresh it with `kommunelab data update --write` as a reviewed change")
    return path


def locate(relpath: str) -> tuple[Path, str]:
    """The verified file to read for ``relpath`` and its origin: "mirror" ($KOMMUNELAB_DATA_MIRROR holds it) or
    "snapshot" (the project's data/reference/)."""
    mirror = mirror_dir()
    if mirror is not None and (mirror / relpath).is_file():
        return verified(mirror, relpath), "mirror"
    folder = reference_dir()
    if not (folder / relpath).is_file():
        raise DataError(str(folder / relpath), "missing from the project's reference snapshot",
                        hint="Restore it with `git checkout -- data/reference`, or fetch it with "
                             "`kommunelab data update` (see data/reference/datapackage.json for its source)")
    return verified(folder, relpath), "snapshot"


def where_now(relpath: str) -> Path | None:
    """The file :func:`locate` would read for ``relpath`` now, or None when there is none or it fails its check."""
    try:
        return locate(relpath)[0]
    except DataError:
        return None


@dataclass(frozen=True)
class Resource:
    """What datapackage.json says about one file of the snapshot."""

    name: str
    path: str
    title: str
    publisher: str
    source_table: str
    address: str
    retrieved: str
    licences: tuple[str, ...]  # each licence's title (what a reader is shown)
    attribution: str
    retrieval_note: str = ""


def descriptor(folder: Path | None = None) -> dict:
    path = (folder or reference_dir()) / DESCRIPTOR
    try:
        stat = path.stat()
    except OSError:
        raise DataError(str(path), "missing", hint="Restore it with `git checkout -- data/reference`") from None
    return _parsed_descriptor(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _parsed_descriptor(path: str, mtime_ns: int, size: int) -> dict:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"not a readable JSON data package: {exc}") from None
    if not isinstance(value, dict) or not isinstance(value.get("resources"), list):
        raise DataError(path, "a data package needs a list of resources")
    return value


def resources(folder: Path | None = None) -> dict[str, Resource]:
    """Every file the snapshot describes, by its path."""
    out = {}
    where = str((folder or reference_dir()) / DESCRIPTOR)
    for entry in descriptor(folder)["resources"]:
        try:
            out[entry["path"]] = Resource(
                entry["name"], entry["path"], entry["title"], entry["publisher"], entry["source_table"],
                entry["address"], entry["retrieved"], tuple(lic["title"] for lic in entry["licenses"]),
                entry["attribution"], entry.get("retrieval_note", ""))
        except (KeyError, TypeError):
            raise DataError(where, f"resource {entry.get('path', '?') if isinstance(entry, dict) else entry!r} "
                            "lacks one of name, path, title, publisher, source_table, address, retrieved, licenses "
                            "(each with a title) and attribution") from None
        _check_retrieved(out[entry["path"]], where)
    return out


def _check_retrieved(resource: Resource, where: str) -> None:
    """A retrieval date is a real date (YYYY-MM-DD), and not one in the future."""
    try:
        when = date.fromisoformat(resource.retrieved)
    except ValueError:
        raise DataError(where, f"{resource.path}: retrieved {resource.retrieved!r} is not a date (YYYY-MM-DD)") from None
    if when > datetime.now(UTC).date():
        raise DataError(where, f"{resource.path}: retrieved {resource.retrieved}, a date in the future",
                        hint="Give the date the file was fetched from its publisher")


def resource(relpath: str) -> Resource:
    found = resources().get(relpath)
    if found is None:
        raise DataError(str(reference_dir() / DESCRIPTOR), f"no resource describes {relpath}",
                        hint="Add one with its source, licence and attribution")
    return found
