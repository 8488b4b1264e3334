"""Tables transcribed from the reports (data/published/tables/<name>.csv), read in one way.

A table added to that folder needs a schema in kommunelab.data.tables; tests/test_findings.py checks that every file
has one.
"""

from __future__ import annotations

import pandas as pd

from ..errors import DataError
from ..paths import project_root
from .schema import load_table
from .tables import TABLES


def published_table(name: str) -> pd.DataFrame:
    """data/published/tables/<name>.csv, validated against its schema and recorded as read."""
    if name not in TABLES:
        raise DataError(name, "no schema for this published table", hint="declare it in kommunelab.data.tables")
    return load_table(project_root() / "data" / "published" / "tables" / f"{name}.csv", TABLES[name], origin="project")


def survey_base(survey: str, base: str) -> int:
    """A published sample size, e.g. survey_base("KS innovation barometer 2018", "responding unit managers")."""
    bases = published_table("survey_bases")
    hit = bases[(bases["survey"] == survey) & (bases["base"] == base)]["n"]
    if hit.empty:
        raise DataError("data/published/tables/survey_bases.csv", f"no sample size for {survey!r}, {base!r}")
    return int(hit.iloc[0])
