"""Where a reference dataset comes from, in this order:

1. ``data/raw/<path>``: the project's cache (filled by earlier downloads);
2. the offline mirror named by ``$KOMMUNELAB_DATA_MIRROR`` (or ``kommunelab --data-mirror DIR``), each file
   checked against the mirror's SHA256SUMS;
3. a download from the statistics office's API, validated, then written whole to ``data/raw/`` (never partially).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..errors import DataError, DownloadError
from ..mirror import MIRROR_ENV, max_age_days, mirror_dir, raw_dir, verified_mirror_copy
from ..paths import write_atomic
from ..provenance import sha256_file
from .schema import Schema, load_table, validate_frame


@dataclass(frozen=True)
class Dataset:
    path: str  # relative path, the same in data/raw/ and in the mirror
    schema: Schema  # columns, source, licence
    download: Callable[[], pd.DataFrame] | None = None
    where: str = ""  # without a download client: where a person gets the file (publisher and address)

    @property
    def source(self) -> str:
        return self.schema.source

    @property
    def table(self) -> str:
        return self.schema.source_table or self.schema.name


REFRESH_ENV = "KOMMUNELAB_REFRESH_DATA"  # set by `kommunelab build --refresh-data`: fetch again, ignore data/raw/


def _age_days(path: Path) -> float:
    return (datetime.now(UTC).timestamp() - path.stat().st_mtime) / 86400


def locate(dataset: Dataset) -> tuple[Path, str]:
    """The file to read for ``dataset`` and its origin (cache | mirror | download).

    A copy in data/raw/ is used while it is younger than ``[data] max_age_days`` and, where the mirror holds the
    same file, identical to the mirror's verified copy (an altered copy is refused, never preferred). With
    $KOMMUNELAB_REFRESH_DATA set the copy is ignored and the data are downloaded again (or taken from the mirror
    when there is no download route).
    """
    cached = raw_dir() / dataset.path
    mirrored, expected = verified_mirror_copy(dataset.path)
    refresh = bool(os.environ.get(REFRESH_ENV))
    stale = None
    if cached.is_file() and not refresh:
        if expected is not None and sha256_file(cached) != expected:
            raise DataError(str(cached), "differs from the verified copy in the mirror "
                            f"({mirrored}); it may have been altered", hint="delete it to use the mirror, or run "
                            "`kommunelab build --refresh-data`")
        age, limit = _age_days(cached), max_age_days()
        if age <= limit:
            return cached, "cache"
        stale = f"the copy in {cached} is {age:.0f} days old (maximum {limit:g}, [data] max_age_days)"
    if mirrored is not None and not (refresh and dataset.download is not None):
        return mirrored, "mirror"
    if dataset.download is None:
        where = f"in the mirror {mirror_dir()}" if mirror_dir() else (
            f"in a mirror (${MIRROR_ENV} is unset and the [data] mirror of reports.toml does not exist)")
        columns = ", ".join(c.name for c in dataset.schema.columns)
        raise DataError(dataset.path, f"not in {raw_dir()} nor {where}, and there is no download client for it "
                        f"(source: {dataset.source})" + (f"; {stale}" if stale else ""),
                        hint=f"set {MIRROR_ENV} (or [data] mirror in reports.toml) to a folder holding "
                             f"{dataset.path}, e.g. ../shared/data; or get it from {dataset.where or dataset.source} "
                             f"and save it as {raw_dir() / dataset.path} with the columns {columns}")
    try:
        return download_to_cache(dataset), "download"
    except DownloadError as exc:
        if stale:
            raise DataError(str(cached), f"{stale}, and fetching it again failed: {exc}",
                            hint="restore the network or a mirror, or raise [data] max_age_days") from None
        raise


def download_to_cache(dataset: Dataset) -> Path:
    """Download, validate (schema and completeness) and write the dataset whole into data/raw/, with a note of where
    and when it was fetched beside it; a failure leaves nothing behind."""
    try:
        frame = dataset.download()
    except DownloadError:
        raise
    except Exception as exc:
        raise DownloadError(f"downloading {dataset.table} from {dataset.source} failed: {exc}") from exc
    frame = validate_frame(frame, dataset.schema, f"{dataset.source} {dataset.table} (download)")
    target = raw_dir() / dataset.path
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, frame.to_csv(index=False))
    note = {"source": dataset.source, "table": dataset.table,
            "retrieved": datetime.now(UTC).isoformat(timespec="seconds")}
    write_atomic(_note_path(target), json.dumps(note))
    return target


def _note_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.source.json")


def load(dataset: Dataset) -> pd.DataFrame:
    path, origin = locate(dataset)
    retrieved = ""
    if origin in ("cache", "download") and _note_path(path).is_file():
        note = json.loads(_note_path(path).read_text(encoding="utf-8"))
        retrieved = f"{note.get('retrieved', '')[:10]} from {note.get('source', '')} {note.get('table', '')}".strip()
    return load_table(path, dataset.schema, origin=origin, key=f"dataset:{dataset.path}", retrieved=retrieved)
