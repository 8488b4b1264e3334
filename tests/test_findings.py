"""data/published/findings.csv and finding(): schema, coverage of the source texts, status rules."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from kommunelab import findings, targets
from kommunelab.errors import DataError, FindingError
from kommunelab.manifest import load_manifest
from kommunelab.records import EVIDENCE, UNITS, Check

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
    assert set(table["evidence"]) <= set(EVIDENCE)
    assert set(table["unit"]) <= set(UNITS)
    assert set(table["check"]) <= set(Check)
    reports = set(load_manifest())
    assert set(table["report"]) <= reports
    prefixes: dict[str, set[str]] = {}
    for r in rows():
        # An id is "<prefix>.<name>" (README, "Add a report"); one report's ids share one prefix.
        assert re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z0-9_]+", r["id"]), r["id"]
        prefixes.setdefault(r["report"], set()).add(r["id"].split(".")[0])
        assert r["quote"] and r["source"] and r["statement_original"], r["id"]
    assert all(len(p) == 1 for p in prefixes.values()), prefixes


def test_a_published_number_lives_in_one_place(project):
    """A figure that findings.csv states as a claim is not typed again in a table that uses it: the table's cell
    refers to the claim (=finding:<id>), and reading the table gives the claim's value."""
    import pandas as pd

    from kommunelab.data.published import published_table

    claims = pd.read_csv(REPO / "data" / "published" / "findings.csv", dtype=str, keep_default_na=False)
    restated = []
    for path in sorted((REPO / "data" / "published" / "tables").glob("*.csv")):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "facts_id" not in table.columns:
            continue
        for _, row in table.iterrows():
            facts = {f.strip() for f in re.split(r"[;/]", row["facts_id"])}
            for _, claim in claims[claims["published_value"] != ""].iterrows():
                if facts & {f.strip() for f in claim["facts_id"].split("/")}:
                    restated += [f"{path.name}: {col} {row[col]} is {claim['id']}'s" for col in table.columns
                                 if _number(row[col]) == float(claim["published_value"])]
    assert restated == []
    assert published_table("survey_bases").set_index("facts_id").loc["KO-01", "n"] == 838  # =finding:kora.invited
    bad = project / "data" / "published" / "tables" / "survey_bases.csv"
    bad.write_text(bad.read_text(encoding="utf-8").replace("=finding:kora.invited", "=finding:kora.nonsense"),
                   encoding="utf-8")
    with pytest.raises(DataError, match="'=finding:kora.nonsense' names no finding"):
        published_table("survey_bases")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def test_every_published_table_has_a_schema_and_passes_it(project):
    from kommunelab.analysis import di, ks
    from kommunelab.data.published import published_table
    from kommunelab.data.tables import TABLES

    tables = {p.stem for p in (REPO / "data" / "published" / "tables").glob("*.csv")}
    assert tables <= set(TABLES), "each file in data/published/tables/ needs a schema in kommunelab.data.tables"
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


@pytest.mark.parametrize("rule, value, expected", [
    ("round:1", 80, (79.5, 80.5)),  # "80%"
    ("tenths", 80, (75, 85)),  # "8 of 10"
    ("over", 50, (50, 100)),  # "over half"
    ("round:1", 3, (2.5, 3.5)),  # "three times"
    ("fraction:2/3", 66.67, (63.33, 70.83)),  # "two of three": about [62, 71]
    ("over-tenths", 70, (70, 80)),  # "over 7 of 10" allows 76, which 72 +- 3 did not
    ("one-in:20", 5, (4.5, 5.83)),  # "one in twenty"
    ("above:1", None, (1.0, None)),  # "more often"
    ("tenths-gap", 10, (0, 20)),  # "8 of 10, against 7 of 10": a gap above 0 (open there)
    ("little-above:1", None, (1.0, 1.5)),  # "lidt mere tilbøjelige"
    ("top:2", 2, (1, 2)),  # "især A og B": A ranks first or second
])
def test_target_rules(rule, value, expected):
    low, high = targets.interval(rule, value)
    assert low == pytest.approx(expected[0]) and (high == pytest.approx(expected[1]) if expected[1] else high is None)


@pytest.mark.parametrize("rule, low, high, inside, outside", [
    ("over-tenths", 70, 80, [70.01, 80], [70, 80.01]),  # "over 7 of 10": (70, 80]
    ("nearly-tenths", 25, 30, [25, 29.99], [30, 24.99]),  # "nearly 3 of 10": [25, 30)
    ("tenths-gap", 0, 20, [0.5, 20], [0, -1]),  # 8 against 7 of 10: the gap is positive
    ("little-above:1", 1, 1.5, [1.01, 1.5], [1, 1.6]),
    ("round:1", 79.5, 80.5, [79.5, 80.5], [79.4, 80.6]),  # a rounded numeral: both ends in
])
def test_an_end_the_wording_excludes_is_excluded(rule, low, high, inside, outside):
    assert all(targets.contains(low, high, v, rule) for v in inside)
    assert not any(targets.contains(low, high, v, rule) for v in outside)


def test_the_five_intervals_the_review_found_too_narrow_or_too_wide(project):
    """kora.democratic_value_top (two reasons named jointly: rank 1 or 2), kora.cost_effectiveness_pressure ("a
    little more": bounded above), ks.units_innovated_bounds (8 and 7 of 10 allow [65, 85]), ks.sector_gap (a positive
    gap) and ks.quality_share (over 7 of 10 excludes 70)."""
    from kommunelab.analysis import ks

    assert findings.finding("kora.democratic_value_top", 2, evidence="microdata").status == "reproduced"
    assert findings.finding("kora.democratic_value_top", 3, evidence="microdata").status == "differs"
    assert findings.finding("kora.cost_effectiveness_pressure", 2.4, evidence="microdata").status == "differs"
    assert findings.finding("kora.cost_effectiveness_pressure", 1.2, evidence="microdata").status == "reproduced"
    assert ks.headline_bounds((80, 70)) == (65, 85)
    assert ks.implied_weight_range((73.5, 74.5), (80, 70)) == pytest.approx((0.0, 0.95))  # not "about 40%"
    assert findings.finding("ks.sector_gap", 0, evidence="microdata").status == "differs"
    assert findings.finding("ks.sector_gap", 0.4, evidence="microdata").status == "reproduced"
    quality = findings.finding("ks.quality_share", 70, evidence="microdata")
    assert quality.status == "differs" and quality.target_text == "over 70% to 80%"
    assert findings.finding("ks.quality_share", 70.4, evidence="microdata").status == "reproduced"
    assert findings.spec("kora.democratic_value_top")["published_text"] == "among the first two"
    assert findings.target_text(findings.spec("kora.democratic_value_top")) == "1st or 2nd"


def test_a_pipeline_check_says_what_it_can_detect(project):
    """The power note: the smallest error a check catches 80% of the time, from the estimate's own interval
    (half-width 1.96 se, so 2.80 se = 1.43 x the half-width); a census count says it is one."""
    share = findings.finding("kora.cross_area", 40.0, ci=(36.0, 44.0), n=612)
    assert share.truth_basis == "population" and "detects an error of about 5.7 pp or more" in share.power
    ratio = findings.finding("kora.cost_effectiveness_pressure", 1.4, ci=(0.7, 2.8))
    assert "the ratio off by a factor of about 2.69" in ratio.power
    rank = findings.finding("kora.democratic_value_top", 1)
    assert rank.power.startswith("exact: any error that changes the rank fails")
    census = findings.finding("kora.invited", 838)
    assert census.truth_basis == "census" and census.power.startswith("census count")
    assert "census count" in findings.card_html(census, findings.spec("kora.invited"))
    assert findings.finding("kora.invited", 838, evidence="microdata").power is None  # only a pipeline check has one


def test_every_numeric_claim_has_the_interval_its_rule_gives():
    by_id = {r["id"]: r for r in rows()}
    for r in rows():
        if r["published_value"] or r["target_rule"] != "none":
            named = targets.quotient_parts(r["target_rule"])
            parts = None
            if named:  # a share of two published claims: the claim is their quotient, its interval their rounding's
                num, den = (by_id[i] for i in named)
                assert float(r["published_value"]) == pytest.approx(100 * float(num["published_value"])
                                                                    / float(den["published_value"])), r["id"]
                parts = tuple((float(p["target_low"]), float(p["target_high"])) for p in (num, den))
            low, high = targets.interval(r["target_rule"], float(r["published_value"]) if r["published_value"] else None,
                                         parts)
            assert r["target_low"] != "" and float(r["target_low"]) == pytest.approx(low), r["id"]
            assert (r["target_high"] == "" and high is None) or float(r["target_high"]) == pytest.approx(high), r["id"]
        else:
            assert r["published_text"].endswith("(qualitative)"), r["id"]


def test_status_rules(project):
    # Synthetic: pass or fail against the stand-in's own truth (19.41 %), whatever the published 19 %.
    record = findings.finding("kl.innovation_purpose_share", 19.4, ci=(18.3, 20.6))
    assert record.status == "pipeline-check" and record.recovered is True
    assert record.truth == pytest.approx(19.41, abs=0.01)
    missed = findings.finding("kl.innovation_purpose_share", 19.0, ci=(18.95, 19.05))  # the published value, but
    assert missed.status == "pipeline-check" and missed.recovered is False  # not the stand-in's truth
    assert missed.label == "pipeline check: NOT recovered"
    # Microdata: the published interval decides; whether the estimate's interval overlaps it is recorded too.
    inside = findings.finding("kl.innovation_purpose_share", 19.4, ci=(18.0, 21.0), evidence="microdata")
    assert inside.status == "reproduced" and inside.ci_overlaps_target is True
    outside = findings.finding("kl.innovation_purpose_share", 20.0, ci=(19.2, 20.8), evidence="microdata")
    assert outside.status == "differs" and outside.ci_overlaps_target is True
    assert findings.finding("kl.innovation_purpose_share", 25.0, evidence="microdata").status == "differs"
    # Arithmetic on quoted figures is never "reproduced"; a benchmark is never "differs".
    arithmetic = findings.finding("di.gribskov_contract_sum", 1.5e9)
    assert arithmetic.status == "arithmetic-check" and arithmetic.passed is True
    assert findings.finding("di.gribskov_contract_sum", 2e9).passed is False
    assert findings.finding("di.copenhagen_savings", 379e6, check="benchmark").status == "benchmark"
    assert findings.finding("coi.citizens_or_volunteers_bounds", bounds=(63, 79)).status == "consistent"
    assert findings.finding("coi.citizens_or_volunteers_bounds", bounds=(70, 79)).status == "inconsistent"
    assert findings.finding("di.tax_points", note="no tax base").status == "not-computed"
    with pytest.raises(FindingError, match="say why"):
        findings.finding("di.tax_points")
    with pytest.raises(FindingError, match="nan"):
        findings.finding("di.tax_points", float("nan"))
    with pytest.raises(FindingError, match="no truth for finding 'di.tax_points'"):
        findings.finding("di.tax_points", 0.5, evidence="synthetic")


def test_a_finding_record_checks_itself_without_assert():
    """A Finding validates when made (not with assert, which python -O removes), and round-trips through JSON."""
    from kommunelab.records import Finding, Verdict

    from .conftest import a_finding

    ok = a_finding()
    assert Finding.from_record(json.loads(json.dumps(ok.record()))) == ok and ok.verdict is Verdict.REPRODUCED
    for bad, message in (({"status": "reproducd"}, "not a valid FindingStatus"),
                         ({"status": "pipeline-check"}, "says whether it recovered"),
                         ({"recovered": True}, "says whether it recovered"),
                         ({"status": "arithmetic-check"}, "says whether it passed"),
                         ({"status": "not-computed", "value": None}, "say why"),
                         ({"evidence": "hearsay"}, "evidence must be one of"),
                         ({"check": "vibes"}, "not a valid Check"),
                         ({"value": float("inf")}, "the computed value is inf")):
        with pytest.raises(FindingError, match=message):
            a_finding(**bad)
    assert a_finding(status="pipeline-check", recovered=False).label == "pipeline check: NOT recovered"
    assert a_finding(status="arithmetic-check", passed=False).verdict is Verdict.ARITHMETIC_FAILS


def test_card_shows_published_computed_status_and_evidence(project):
    record = findings.finding("kora.cross_area", 38.6, ci=(35.1, 42.2), n=612, locale="da", decimals=1)
    html = findings.card_html(record, findings.spec("kora.cross_area"))
    for text in ("39%", "38,6 pct. (95% CI 35,1 pct. to 42,2 pct.)", "n = 612 answered", "pipeline check: recovered",
                 "stand-in truth", "synthetic", "kora.dk"):
        assert text in html


def test_the_scorecard_counts_every_built_variant_and_lists_what_did_not_pass_first():
    """A pipeline check NOT recovered in a grid variant (not the default) is counted and listed at the top of the
    scorecard, and the index's opening says so; the per-report table still shows the default's row."""
    from kommunelab.engine.publish.index import render_index
    from kommunelab.records import BuildRecord, Outcome

    from .conftest import a_finding

    def check(recovered: bool):
        return a_finding(id="coi.volunteers", statement="Share with volunteers", status="pipeline-check",
                         evidence="synthetic", recovered=recovered, truth=16.0, truth_text="16%")

    default = Outcome(report="coi", variant="sector-all", title="COI", params={"sector": "all"}, status="built",
                      is_default=True, findings=(check(True),), outputs={"html": "coi/sector-all.html"})
    grid = Outcome(report="coi", variant="sector-state", title="COI, state", params={"sector": "state"},
                   status="built", label="state", findings=(check(False),), outputs={"html": "coi/sector-state.html"})
    page = render_index(BuildRecord(generated="now", git_revision="abc", variants=(default, grid)))
    top = page[page.index('id="not-passed"'):page.index('<dl class="verdicts">')]
    assert "Checks that did not pass (1)" in top and "coi/sector-state.html#finding-coi.volunteers" in top
    assert "pipeline check: NOT recovered" in top and "<td data-label=\"variant\">state</td>" in top
    assert "1 check in the built variants did not pass" in page
    assert "Of the 1 published finding these reports check (default parameters), 0 are recomputed" in page
    assert "all 2 checks" in page  # the counts cover both variants
