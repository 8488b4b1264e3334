"""Tables transcribed from the reports (data/published/tables/<name>.csv): one schema each, read in one way.

A table added to that folder needs a schema here; tests/test_findings.py checks that every file has one.
"""

from __future__ import annotations

import pandas as pd

from ..errors import DataError
from ..paths import project_root
from .schema import ROW_UNIT, Column, Schema, load_table

PERCENT = {"unit": "percent", "minimum": 0, "maximum": 100}

QUOTED = {"source": "the reports and the pages that announced them (address and quote on every row)",
          "licence": "figures quoted from publications, with their sources"}


def _source_quote(*columns: Column) -> tuple[Column, ...]:
    return (*columns, Column("facts_id", "str"), Column("source", "str"), Column("quote", "str"))


SCHEMAS = {
    "nordic_municipal_innovation": Schema("nordic_municipal_innovation", _source_quote(
        Column("indicator", "str"), Column("dk_pct", "float", **PERCENT), Column("no_pct", "float", **PERCENT)),
        key=("indicator",), **QUOTED),
    "ks_sector_rates": Schema("ks_sector_rates", _source_quote(
        Column("sector", "str"), Column("share_pct", "float", **PERCENT), Column("published_text", "str")),
        key=("sector",), **QUOTED),
    "ks_value_forms": Schema("ks_value_forms", _source_quote(
        Column("value_form", "str"), Column("share_pct", "float", **PERCENT), Column("rule", "str"),
        Column("published_text", "str")),
        key=("value_form",), **QUOTED),
    "di_published_inputs": Schema("di_published_inputs", _source_quote(
        Column("name", "str"), Column("value", "float", unit=ROW_UNIT), Column("unit", "str"),
        Column("year", "int", unit="year", minimum=1900, maximum=2100)),
        key=("name",), **QUOTED),
    "iku_national": Schema("iku_national", (
        Column("year", "int", unit="year", minimum=1900, maximum=2100),
        Column("iku_all_municipalities_pct", "float", **PERCENT), Column("source_url", "str"),
        Column("note", "str", nullable=True)), key=("year",),
        source="KL, ministry and udbudsportalen news pages (address on every row)", source_table="IKU (national)",
        licence="figures quoted from publications, with their sources"),
    "innovation_barometer_aggregates": Schema("barometer_aggregates", (
        Column("source_url", "str"), Column("survey", "str"), Column("country", "str"), Column("population", "str"),
        Column("indicator", "str"), Column("value_pct", "float", **PERCENT),
        Column("n", "int", nullable=True, unit="respondents", minimum=1),
        Column("period_or_wave", "str"), Column("note", "str", nullable=True)),
        source="COI, KS and SKL innovation barometer web pages (address on every row)",
        source_table="published aggregates", licence="figures quoted from publications, with their sources"),
    "survey_bases": Schema("survey_bases", (
        Column("survey", "str"), Column("base", "str"), Column("n", "int", unit="respondents", minimum=1),
        Column("kind", "str"),
        Column("facts_id", "str"), Column("source", "str"), Column("note", "str")), key=("survey", "base"), **QUOTED),
}


def published_table(name: str) -> pd.DataFrame:
    """data/published/tables/<name>.csv, validated against its schema and recorded as read."""
    if name not in SCHEMAS:
        raise DataError(name, "no schema for this published table", hint="add one to kommunelab.data.published.SCHEMAS")
    path = project_root() / "data" / "published" / "tables" / f"{name}.csv"
    return load_table(path, SCHEMAS[name], origin="project")


def survey_base(survey: str, base: str) -> int:
    """A published sample size, e.g. survey_base("KS innovation barometer 2018", "responding unit managers")."""
    bases = published_table("survey_bases")
    hit = bases[(bases["survey"] == survey) & (bases["base"] == base)]["n"]
    if hit.empty:
        raise DataError("data/published/tables/survey_bases.csv", f"no sample size for {survey!r}, {base!r}")
    return int(hit.iloc[0])
