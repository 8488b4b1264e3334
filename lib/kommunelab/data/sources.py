"""A reference dataset: where it lies in the snapshot, its schema, and the route that refreshes it.

Reports read the project's pinned snapshot (kommunelab.reference: data/reference/, checked against SHA256SUMS, or a
folder named by $KOMMUNELAB_DATA_MIRROR); nothing is downloaded while a report is built. A dataset with a download
route is fetched only by ``kommunelab data update`` (kommunelab.data.update), validated whole, and written to the
snapshot only with ``--write``, as a change to review and commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..errors import DataError, DownloadError
from ..reference import locate, resource
from .schema import Schema, load_table, validate_frame


@dataclass(frozen=True)
class Dataset:
    name: str  # what `kommunelab data update NAME` calls it
    path: str  # relative path in data/reference/ (and in a mirror folder)
    schema: Schema  # columns, key, completeness checks
    download: Callable[[], pd.DataFrame] | None = None  # the verified route from the statistics office, if any


def load(dataset: Dataset) -> pd.DataFrame:
    """The dataset from the snapshot (or the mirror folder), validated, with its provenance and attribution."""
    path, origin = locate(dataset.path)
    about = resource(dataset.path)
    return load_table(path, dataset.schema, origin=origin, key=f"dataset:{dataset.path}", source=about.publisher,
                      table=about.source_table, licence="; ".join(about.licences), attribution=about.attribution,
                      retrieved=about.retrieved if origin == "snapshot" else "")


def fetch(dataset: Dataset) -> pd.DataFrame:
    """Download the dataset by its route and validate the whole of it (schema and completeness)."""
    if dataset.download is None:
        about = resource(dataset.path)
        raise DataError(dataset.path, f"no verified download route for {dataset.name}",
                        hint=f"Get it from {about.publisher}, {about.address}, and replace data/reference/"
                             f"{dataset.path} by hand as a reviewed change")
    try:
        frame = dataset.download()
    except DownloadError:
        raise
    except Exception as exc:
        raise DownloadError(f"downloading {dataset.name} failed: {exc}") from exc
    return validate_frame(frame, dataset.schema, f"{dataset.name} (download)")
