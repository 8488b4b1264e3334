"""What the reports published, read in one way: the claims each finding is recorded against
(data/published/findings.csv) and the tables transcribed from the reports (data/published/tables/<name>.csv).

A table added to that folder needs a schema in kommunelab.data.tables; tests/test_findings.py checks that every file
has one.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError, FindingError
from ..paths import project_root
from .schema import load_table
from .tables import TABLES

CLAIM = re.compile(r"=finding:(\S+)")


def _claims_resolved(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """A cell written ``=finding:<id>`` holds that finding's published value from findings.csv: a number that is both
    a published claim and an input to a calculation lives in one place, the claim's row."""
    def resolve(column: str, cell: object) -> object:
        match = CLAIM.fullmatch(cell) if isinstance(cell, str) else None
        if match is None:
            return cell
        table = published_findings()
        if match.group(1) not in table.index:
            raise DataError(where, f"{cell!r} names no finding in {findings_path()}", column=column)
        value = table.loc[match.group(1), "published_value"]
        if pd.isna(value):
            raise DataError(where, f"{cell!r}: that finding publishes no number", column=column)
        return f"{float(value):.15g}"

    return frame.apply(lambda col: col.map(lambda cell: resolve(str(col.name), cell)))


def published_table(name: str) -> pd.DataFrame:
    """data/published/tables/<name>.csv, validated against its schema and recorded as read; cells that refer to a
    finding's published value (``=finding:<id>``) hold that value."""
    if name not in TABLES:
        raise DataError(name, "no schema for this published table", hint="declare it in kommunelab.data.tables")
    path = project_root() / "data" / "published" / "tables" / f"{name}.csv"
    return load_table(path, replace(TABLES[name], prepare=_claims_resolved), origin="project")


def claims_in(name: str) -> dict[tuple[int, str], str]:
    """Which cells of data/published/tables/<name>.csv refer to a finding's published value: {(row position,
    column): finding id}. Such a cell's rounding is its claim's (the claim's target interval)."""
    path = project_root() / "data" / "published" / "tables" / f"{name}.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {(i, column): match.group(1) for column in raw.columns for i, cell in enumerate(raw[column])
            if (match := CLAIM.fullmatch(cell))}


def survey_base(survey: str, base: str) -> int:
    """A published sample size, e.g. survey_base("KS innovation barometer 2018", "responding unit managers")."""
    bases = published_table("survey_bases")
    hit = bases[(bases["survey"] == survey) & (bases["base"] == base)]["n"]
    if hit.empty:
        raise DataError("data/published/tables/survey_bases.csv", f"no sample size for {survey!r}, {base!r}")
    return int(hit.iloc[0])


def findings_path() -> Path:
    return project_root() / "data" / "published" / "findings.csv"


@cache
def published_findings() -> pd.DataFrame:
    """data/published/findings.csv, validated (unique ids, known units, checks and evidence kinds)."""
    return load_table(findings_path(), TABLES["findings"], origin="project").set_index("id", drop=False)


def spec(finding_id: str) -> dict[str, Any]:
    table = published_findings()
    if finding_id not in table.index:
        close = [i for i in table.index if i.split(".")[0] == finding_id.split(".")[0]]
        raise FindingError(f"finding {finding_id!r} is not in {findings_path()}; add a row there first"
                           + (f" (this report's ids: {', '.join(close)})" if close else ""))
    row = table.loc[finding_id].to_dict()
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
