"""Where a reference dataset comes from, in this order:

1. ``data/raw/<path>``: the project's cache (filled by earlier downloads);
2. the offline mirror named by ``$KOMMUNELAB_DATA_MIRROR`` (or ``kommunelab --data-mirror DIR``), each file
   checked against the mirror's SHA256SUMS;
3. a download from the statistics office's API, validated, then written whole to ``data/raw/`` (never partially).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError, DownloadError
from ..mirror import MIRROR_ENV, mirror_checksums, mirror_dir, raw_dir
from ..paths import write_atomic
from ..provenance import sha256_file
from .schema import Schema, load_table, validate_frame


@dataclass(frozen=True)
class Dataset:
    path: str  # relative path, the same in data/raw/ and in the mirror
    schema: Schema  # columns, source, licence
    download: Callable[[], pd.DataFrame] | None = None

    @property
    def source(self) -> str:
        return self.schema.source

    @property
    def table(self) -> str:
        return self.schema.source_table or self.schema.name


def locate(dataset: Dataset) -> tuple[Path, str]:
    """The file to read for ``dataset`` and its origin (cache | mirror | download)."""
    cached = raw_dir() / dataset.path
    if cached.is_file():
        return cached, "cache"
    mirror = mirror_dir()
    if mirror is not None and (mirror / dataset.path).is_file():
        path = mirror / dataset.path
        expected = mirror_checksums(mirror).get(dataset.path)
        if expected is None:
            raise DataError(str(path), "not listed in the mirror's SHA256SUMS", hint="add its checksum there")
        actual = sha256_file(path)
        if actual != expected:
            raise DataError(str(path), f"checksum mismatch: SHA256SUMS says {expected[:12]}…, the file is "
                            f"{actual[:12]}…", hint="the mirror copy is damaged or changed; restore it")
        return path, "mirror"
    if dataset.download is None:
        where = f"in the mirror {mirror}" if mirror else f"in a mirror (${MIRROR_ENV} and [data] mirror are not set)"
        raise DataError(dataset.path, f"not in {raw_dir()} nor {where}, and there is no download client for it "
                        f"(source: {dataset.source})", hint=f"set {MIRROR_ENV} to a folder holding {dataset.path}, "
                        "e.g. ../shared/data")
    return download_to_cache(dataset), "download"


def download_to_cache(dataset: Dataset) -> Path:
    """Download, validate and write the dataset whole into data/raw/ (a failure leaves nothing behind)."""
    try:
        frame = dataset.download()
    except DownloadError:
        raise
    except Exception as exc:
        raise DownloadError(f"downloading {dataset.table} from {dataset.source} failed: {exc}") from exc
    frame = validate_frame(frame, dataset.schema, f"{dataset.source} {dataset.table} (download)")
    target = raw_dir() / dataset.path
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(target, frame.to_csv(index=False))


def load(dataset: Dataset) -> pd.DataFrame:
    path, origin = locate(dataset)
    return load_table(path, dataset.schema, origin=origin, key=f"dataset:{dataset.path}")
