"""Allowed values of report parameters, read without pandas.

The build validates a request and lists a grid's variants before any kernel starts, and a no-op build should not
pay for importing the notebook stack to do so. The municipality list is read with the csv module from the file a
loader would read now (the snapshot's, or a mirror folder's, verified against its SHA256SUMS); when there is none,
or it cannot be read plainly, the full loader (kommunelab.data, which validates and says what is wrong) answers.
"""

from __future__ import annotations

import csv

from . import names
from .reference import where_now

MUNICIPALITIES = "dk/municipalities.csv"


def municipality_choices() -> dict[str, str]:
    """Every accepted spelling of a Danish municipality -> its code as a string ("270")."""
    rows = _plain_rows(MUNICIPALITIES, ("municipality_code", "name_da", "name_en"))
    if rows is None:
        from .data import municipality_choices as validated

        return validated()
    return names.spellings_table(rows)


def municipality_labels() -> dict[str, tuple[str, str]]:
    """Code -> (name, region) of each Danish municipality, for titles and the index: "270" -> ("Gribskov",
    "Region Hovedstaden")."""
    rows = _plain_rows(MUNICIPALITIES, ("municipality_code", "name_da", "region_name"))
    if rows is None:
        from .data import municipalities

        frame = municipalities()
        rows = zip(frame["municipality_code"], frame["name_da"], frame["region_name"], strict=True)
    return {str(code): (name, region) for code, name, region in rows}


def _plain_rows(relpath: str, columns: tuple[str, ...]) -> list[tuple[str, ...]] | None:
    path = where_now(relpath)
    if path is None:
        return None  # missing, unlisted or damaged: the full loader says which
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = [tuple(row[c].strip() for c in columns) for row in csv.DictReader(fh)]
    except (OSError, KeyError, AttributeError, UnicodeDecodeError):
        return None
    if not rows or any(not all(r) or not r[0].isdigit() for r in rows):
        return None
    return rows
