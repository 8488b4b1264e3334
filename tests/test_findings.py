"""data/published/findings.csv and finding(): schema, coverage of the source texts, status rules."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kommunelab import findings
from kommunelab.errors import FindingError
from kommunelab.manifest import load_manifest

REPO = Path(__file__).resolve().parents[1]

# Every figure the five source texts state (FACTS.md rows marked SEED-ONLY or CONFIRMED) must be on the scorecard.
SEED_FIGURES = {"KL-01", "KL-02", "KL-03", "KL-04", "KL-09", "KL-10", "KL-11", "KS-01", "KS-09", "KS-12",
                "DI-01", "DI-02", "DI-03", "DI-04", "DI-05", "DI-06", "KO-01", "KO-02", "KO-03", "KO-04", "KO-05",
                "KO-06", "KO-07", "KO-08", "KO-09", "KO-10", "KO-11", "KO-14", "CO-01", "CO-02", "CO-03"}


def rows():
    with open(REPO / "data" / "published" / "findings.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_findings_csv_schema(project):
    table = findings.published_findings()
    assert table["id"].is_unique
    assert set(table["evidence"]) <= set(findings.EVIDENCE)
    assert set(table["unit"]) <= set(findings.UNITS)
    reports = set(load_manifest())
    assert set(table["report"]) <= reports
    for r in rows():
        assert r["id"].split(".")[0] in {"kl", "ks", "di", "kora", "coi"}
        assert r["quote"] and r["source"] and r["statement_original"], r["id"]


def test_every_published_table_has_a_schema_and_passes_it(project):
    from kommunelab.analysis import di, ks
    from kommunelab.data.published import SCHEMAS, published_table

    tables = {p.stem for p in (REPO / "data" / "published" / "tables").glob("*.csv")}
    assert tables == set(SCHEMAS), "each file in data/published/tables/ needs a schema in kommunelab.data.published"
    for name in tables:
        assert len(published_table(name)) > 0
    assert len(ks.nordic_table()) == 7
    assert ks.published_sector_rates() == {"education & childhood": 80.0, "health & care": 70.0}
    assert di.published_inputs()["iku_best_practice"] == 37.5
    assert ks.derived_no_base() == round(1786 * 74 / 100)


def test_every_seed_figure_is_covered():
    covered = {part.strip() for r in rows() for part in r["facts_id"].split("/")}
    missing = SEED_FIGURES - covered
    assert not missing, f"figures from the source texts without a finding: {sorted(missing)}"


def test_each_finding_is_recorded_by_its_notebook():
    ids_by_report = {}
    for r in rows():
        ids_by_report.setdefault(r["report"], set()).add(r["id"])
    for report, ids in ids_by_report.items():
        text = (REPO / "notebooks" / f"{report}.ipynb").read_text(encoding="utf-8")
        missing = [i for i in ids if f'"{i}"' not in text and f'\\"{i}\\"' not in text]
        assert not missing, f"{report}: never recorded {missing}"


def test_unknown_id_is_an_error(project):
    with pytest.raises(FindingError, match="'kl.nonsense' is not in .*findings.csv.*kl.collaborations_per_municipality"):
        findings.finding("kl.nonsense", 1)


def test_status_rules(project):
    record = findings.finding("kl.innovation_purpose_share", 19.0)  # exact, but synthetic
    assert record["status"] == "pipeline-check"
    assert findings.finding("kl.innovation_purpose_share", 19.4, evidence="microdata")["status"] == "reproduced"
    assert findings.finding("kl.innovation_purpose_share", 25.0, evidence="microdata")["status"] == "differs"
    assert findings.finding("di.gribskov_contract_sum", 1.5e9)["status"] == "reproduced"
    assert findings.finding("coi.citizens_or_volunteers_bounds", bounds=(63, 79))["status"] == "consistent"
    assert findings.finding("coi.citizens_or_volunteers_bounds", bounds=(70, 79))["status"] == "inconsistent"
    assert findings.finding("di.tax_points", note="no tax base")["status"] == "not-computed"
    with pytest.raises(FindingError, match="say why"):
        findings.finding("di.tax_points")
    with pytest.raises(FindingError, match="NaN"):
        findings.finding("di.tax_points", float("nan"))


def test_card_shows_published_computed_status_and_evidence(project):
    record = findings.finding("kora.cross_area", 38.6, ci=(35.1, 42.2), locale="da", decimals=1)
    html = findings.card_html(record, findings.spec("kora.cross_area"))
    for text in ("39%", "38,6 pct. (95% CI 35,1 pct. to 42,2 pct.)", "pipeline check", "synthetic", "kora.dk"):
        assert text in html
