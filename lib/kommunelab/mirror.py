"""Where a reference dataset would be read from: the project's cache (data/raw/) or the offline mirror.

Light on purpose (no pandas): the build asks it, for every data file a report read last time, which file would be
read now, so that pointing at another mirror rebuilds exactly the reports that read a file which differs there.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from .errors import DataError
from .paths import MANIFEST_NAME, project_root

MIRROR_ENV = "KOMMUNELAB_DATA_MIRROR"


def raw_dir() -> Path:
    return project_root() / "data" / "raw"


DEFAULT_MAX_AGE_DAYS = 90.0


def _data_settings() -> dict:
    path = project_root() / MANIFEST_NAME
    try:
        stat = path.stat()
    except OSError:
        return {}
    return _parsed_data_settings(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _parsed_data_settings(path: str, mtime_ns: int, size: int) -> dict:
    """`[data]` of reports.toml, parsed once per version of the file."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8")).get("data", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def max_age_days() -> float:
    """How old a downloaded copy in data/raw/ may be before it is fetched again (`[data] max_age_days`)."""
    value = _data_settings().get("max_age_days", DEFAULT_MAX_AGE_DAYS)
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_MAX_AGE_DAYS


def _project_mirror_setting() -> str:
    """`[data] mirror` in reports.toml (relative to the project), used when $KOMMUNELAB_DATA_MIRROR is unset."""
    setting = _data_settings().get("mirror", "")
    path = (project_root() / setting).resolve() if setting else None
    return str(path) if path and path.is_dir() else ""


def mirror_dir() -> Path | None:
    """The offline mirror: $KOMMUNELAB_DATA_MIRROR if set (empty disables it), else the project's setting."""
    value = os.environ[MIRROR_ENV].strip() if MIRROR_ENV in os.environ else _project_mirror_setting()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataError(value, f"${MIRROR_ENV} names a folder that does not exist",
                        hint=f"unset {MIRROR_ENV} or point it at the mirror (e.g. ../shared/data)")
    return path.resolve()


def mirror_checksums(mirror: Path) -> dict[str, str]:
    sums = mirror / "SHA256SUMS"
    if not sums.is_file():
        raise DataError(str(sums), "the mirror has no SHA256SUMS, so its files cannot be verified",
                        hint="add one with `sha256sum */*.csv > SHA256SUMS` in the mirror folder")
    out = {}
    for n, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise DataError(str(sums), "expected '<sha256>  <path>'", row=n)
        out[parts[1].lstrip("*").removeprefix("./")] = parts[0].lower()
    return out


def verified_mirror_copy(relpath: str) -> tuple[Path | None, str | None]:
    """The mirror's copy of ``relpath`` checked against SHA256SUMS, and the checksum listed (None, None if absent);
    an unlisted or altered copy raises DataError."""
    from .provenance import sha256_file

    mirror = mirror_dir()
    if mirror is None or not (mirror / relpath).is_file():
        return None, None
    path = mirror / relpath
    expected = mirror_checksums(mirror).get(relpath)
    if expected is None:
        raise DataError(str(path), "not listed in the mirror's SHA256SUMS", hint="add its checksum there")
    actual = sha256_file(path)
    if actual != expected:
        raise DataError(str(path), f"checksum mismatch: SHA256SUMS says {expected[:12]}…, the file is "
                        f"{actual[:12]}…", hint="the mirror copy is damaged or changed; restore it")
    return path, expected


def where_now(relpath: str) -> Path | None:
    """The file a loader would read for ``relpath`` now without downloading: the cache, else the mirror, else None."""
    cached = raw_dir() / relpath
    if cached.is_file():
        return cached
    try:
        mirror = mirror_dir()
    except DataError:
        return None
    if mirror is not None and (mirror / relpath).is_file():
        return mirror / relpath
    return None
