"""Is a delivery the project's stand-in in disguise? A table is synthetic when its rows substantially coincide with
the stand-in's after mapping: half or more of the rows equal row for row, or nine in ten of them equal as a
multiset (a shuffled copy), ignoring the id columns (renumbered ids do not make data real). A one-digit edit to a
copy of data/synthetic/ therefore stays synthetic; real data from another population does not coincide."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import pandas as pd

from ..data.schema import read_validated
from ..data.tables import SURVEY_TABLES
from ..paths import project_root, synthetic_dir

ALIGNED = 0.5  # share of rows equal row for row
SHUFFLED = 0.9  # share of rows equal as a multiset


def stand_in_path(table: str):
    return synthetic_dir() / f"{table}.csv"


@lru_cache(maxsize=8)
def _stand_in_rows(table: str, path: str, mtime_ns: int) -> tuple[tuple, ...]:
    return tuple(_rows(read_validated(path, SURVEY_TABLES[table])))


def _rows(frame: pd.DataFrame) -> list[tuple]:
    columns = [c for c in frame.columns if not c.endswith("_id")]
    text = frame[columns].astype(object).where(frame[columns].notna(), None).map(
        lambda v: None if v is None else str(v))
    return list(text.itertuples(index=False, name=None))


def coincidence(table: str, frame: pd.DataFrame) -> str | None:
    """Why ``frame`` (a survey table in the project's columns) counts as the stand-in ``table``, or None."""
    path = stand_in_path(table)
    if not path.is_file():
        return None
    theirs = _stand_in_rows(table, str(path), path.stat().st_mtime_ns)
    ours = _rows(frame)
    if not ours or not theirs:
        return None
    aligned = sum(a == b for a, b in zip(ours, theirs, strict=False))
    shared = sum((Counter(ours) & Counter(theirs)).values())
    rel = path.relative_to(project_root()).as_posix()
    if aligned >= ALIGNED * len(ours):
        return f"{aligned:,} of its {len(ours):,} rows equal the stand-in {rel} row for row"
    if shared >= SHUFFLED * len(ours):
        return f"{shared:,} of its {len(ours):,} rows are rows of the stand-in {rel}"
    return None
