"""Record a computed value against its published figure: ``finding("kora.cross_area", 38.6, ci=(35.1, 42.2))``.

The published figure, unit, tolerance, evidence kind and source live in data/published/findings.csv; a
notebook supplies only the computed value. The call shows a card in the report and emits the record under a
kommunelab MIME type, from which the build collects reports/findings.json and the index scorecard.

Status, decided here and nowhere else:
- ``pipeline-check``: computed on the synthetic stand-in (never "reproduced", whatever the value);
- ``reproduced`` / ``differs``: computed from public data or published tables, within / outside tolerance;
- ``consistent`` / ``inconsistent``: a published figure checked against bounds derived from its parts;
- ``not-computed``: the inputs are not available (the card says which).
"""

from __future__ import annotations

import html
import math
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from . import fmt
from .data.schema import Column, Schema, read_table
from .errors import FindingError
from .paths import project_root
from .provenance import record_read, sha256_file
from .report import FINDING_MIME, _display

EVIDENCE = ("public-data", "published-tables", "synthetic", "microdata")
UNITS = ("pct", "pp", "count", "dkk", "rank", "ratio", "yes/no")
EVIDENCE_TEXT = {
    "public-data": "recomputed from public data",
    "published-tables": "recomputed from the report's own published tables",
    "synthetic": "pipeline check on a synthetic stand-in (the survey microdata are not public)",
    "microdata": "recomputed from survey microdata supplied by the analyst (data_dir)",
}

FINDINGS_SCHEMA = Schema("findings", (
    Column("id", "str"), Column("report", "str"), Column("facts_id", "str"),
    Column("statement_en", "str"), Column("statement_original", "str"),
    Column("published_value", "float"), Column("published_text", "str"), Column("unit", "str", allowed=UNITS),
    Column("base", "str"), Column("year", "str"), Column("tolerance", "float"),
    Column("evidence", "str", allowed=EVIDENCE), Column("source", "str"), Column("quote", "str"),
), key=("id",))


class FindingRecord(dict):
    """What finding() returns: the record as a dict. Already shown as a card, so a notebook cell that ends with
    a finding() call shows nothing more."""

    def _ipython_display_(self) -> None:
        pass


def findings_path() -> Path:
    return project_root() / "data" / "published" / "findings.csv"


@cache
def published_findings() -> pd.DataFrame:
    """data/published/findings.csv, validated (unique ids, known units and evidence kinds)."""
    path = findings_path()
    table = read_table(path, FINDINGS_SCHEMA)
    record_read(str(path), sha256_file(path), "project", "data/published", "findings.csv")
    return table.set_index("id", drop=False)


def spec(finding_id: str) -> dict[str, Any]:
    table = published_findings()
    if finding_id not in table.index:
        close = [i for i in table.index if i.split(".")[0] == finding_id.split(".")[0]]
        raise FindingError(f"finding {finding_id!r} is not in {findings_path()}; add a row there first"
                           + (f" (this report's ids: {', '.join(close)})" if close else ""))
    return table.loc[finding_id].to_dict()


def _status(row: dict[str, Any], value: float | None, evidence: str, bounds: tuple[float, float] | None) -> str:
    if value is None and bounds is None:
        return "not-computed"
    if evidence == "synthetic":
        return "pipeline-check"
    if bounds is not None:
        lo, hi = bounds
        return "consistent" if lo - 1e-9 <= row["published_value"] <= hi + 1e-9 else "inconsistent"
    return "reproduced" if abs(value - row["published_value"]) <= row["tolerance"] + 1e-9 else "differs"


def finding(finding_id: str, value: float | None = None, *, ci: tuple[float, float] | None = None,
            bounds: tuple[float, float] | None = None, evidence: str | None = None, note: str = "",
            locale: str = "en", decimals: int = 0) -> FindingRecord:
    """Record and show one finding. ``value=None`` (with a ``note`` saying why) records it as not computed.

    ``evidence`` defaults to the kind in findings.csv; a notebook run on real microdata passes the kind that
    applies. ``bounds`` records a consistency check of the published figure against an interval derived from
    published parts.
    """
    row = spec(finding_id)
    evidence = evidence or row["evidence"]
    if evidence not in EVIDENCE:
        raise FindingError(f"finding {finding_id!r}: evidence must be one of {', '.join(EVIDENCE)}, got {evidence!r}")
    if value is not None:
        value = float(value)
        if math.isnan(value):
            raise FindingError(f"finding {finding_id!r}: the computed value is NaN; check the inputs")
    if value is None and bounds is None and not note:
        raise FindingError(f"finding {finding_id!r}: not computed, so say why in note=")
    status = _status(row, value, evidence, bounds)
    unit = row["unit"]

    def show(x: float | None) -> str:
        if x is None:
            return "—"
        if unit == "yes/no":
            return "holds" if x >= 0.5 else "does not hold"
        return fmt.value(x, unit, locale, decimals)

    value_text = show(value) if bounds is None else f"{show(bounds[0])} to {show(bounds[1])}"
    if ci is not None:
        value_text += f" (95% CI {show(ci[0])} to {show(ci[1])})"
    difference = None if value is None or unit == "yes/no" else value - row["published_value"]
    record = FindingRecord({
        "id": finding_id, "facts_id": row["facts_id"], "statement": row["statement_en"],
        "published": row["published_value"], "published_text": row["published_text"], "unit": unit,
        "value": value, "ci": list(ci) if ci else None, "bounds": list(bounds) if bounds else None,
        "value_text": value_text, "difference": difference, "tolerance": row["tolerance"], "status": status,
        "evidence": evidence, "source": row["source"], "note": note,
    })
    _display({"text/html": card_html(record, row), "text/plain": f"{finding_id}: {value_text} ({status})",
              FINDING_MIME: record})
    return record


def card_html(record: dict[str, Any], row: dict[str, Any]) -> str:
    e = html.escape
    diff = ""
    if record["difference"] is not None and record["status"] in ("reproduced", "differs", "pipeline-check"):
        d = record["difference"]
        unit = {"pct": " pp", "pp": " pp", "dkk": " DKK", "ratio": "×"}.get(record["unit"], "")
        scale = 1e6 if record["unit"] == "dkk" and abs(d) >= 1e6 else 1
        suffix = " million" if scale != 1 else ""
        diff = f"<tr><th>difference</th><td>{d / scale:+,.1f}{suffix}{unit}</td></tr>"
    note = f"<div class='kl-meta'>{e(record['note'])}</div>" if record["note"] else ""
    label = {"pipeline-check": "pipeline check"}.get(record["status"], record["status"].replace("-", " "))
    source = record["source"]
    link = f"<a href='{e(source)}'>{e(source)}</a>" if source.startswith("http") else e(source)
    return (
        f"<div class='kl-card kl-status-{e(record['status'])}'>"
        f"<div class='kl-statement'>{e(record['statement'])}</div>"
        "<table>"
        f"<tr><th>published</th><td>{e(record['published_text'])}</td></tr>"
        f"<tr><th>{'computed' if record['evidence'] == 'synthetic' else 'recomputed'}</th>"
        f"<td>{e(record['value_text'])}</td></tr>{diff}"
        f"<tr><th>status</th><td><span class='kl-pill kl-pill-status'>{e(label)}</span> "
        f"<span class='kl-pill'>{e(record['evidence'])}</span></td></tr>"
        "</table>"
        f"<div class='kl-meta'>{'Evidence' if record['status'] != 'not-computed' else 'Evidence when computed'}: "
        f"{e(EVIDENCE_TEXT[record['evidence']])}.</div>"
        f"<div class='kl-meta'>“{e(row['quote'])}” — {link} ({e(record['facts_id'])}; id {e(record['id'])})</div>"
        f"{note}</div>"
    )
