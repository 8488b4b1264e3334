"""Scheduled regeneration that explains itself: dry runs with reasons, status, stale variants, drift."""

from __future__ import annotations

import io
import json
import os
import re
import time

import pytest

from kommunelab.cli import main
from kommunelab.engine.build import BuildOptions, build, dry_run, exit_code

HTML_ONLY = BuildOptions(formats=("html",), jobs=2)


def snapshot(folder):
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


def test_a_dry_run_names_the_touched_report_and_why_and_writes_nothing(toy_project, capsys):
    assert exit_code(build(None, None, False, HTML_ONLY, out=io.StringIO())) == 0
    nb = toy_project / "notebooks" / "other.ipynb"
    nb.write_text(nb.read_text(encoding="utf-8").replace("40 + 2", "40 + 3"), encoding="utf-8")
    before = snapshot(toy_project)
    assert main(["build", "--dry-run", "--formats", "html"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "would build other/default: notebook notebooks/other.ipynb changed", said
    assert said[-1].startswith("1 to build, 1 up to date")
    assert snapshot(toy_project) == before  # nothing written, not even a lock or a log
    todo, current = dry_run(None, None, False, HTML_ONLY)
    assert [(v.report.id, r) for v, r in todo] == [("other", ["notebook notebooks/other.ipynb changed"])]


def test_the_scheduled_build_keeps_one_off_variants_current_and_marks_other_reports_stale(toy_project, capsys):
    out = io.StringIO()
    build(["hello"], {"n": "5"}, False, HTML_ONLY, out=out)  # a one-off variant
    build(None, None, False, HTML_ONLY, out=out)
    nb = toy_project / "notebooks" / "hello.ipynb"
    nb.write_text(nb.read_text(encoding="utf-8").replace("Æblegrød", "Æblekage"), encoding="utf-8")
    # A build of another report leaves hello's variants alone but records them as stale, with the reason.
    build(["other"], None, False, HTML_ONLY, out=out)
    state = json.loads((toy_project / "reports" / "build.json").read_text(encoding="utf-8"))
    by_name = {f"{v['report']}/{v['variant']}": v for v in state["variants"]}
    assert by_name["hello/default"]["status"] == by_name["hello/n-5"]["status"] == "stale"
    assert by_name["hello/default"]["stale"] == ["notebook notebooks/hello.ipynb changed"]
    assert "2 stale" in (toy_project / "reports" / "index.html").read_text(encoding="utf-8")
    assert main(["status"]) == 0
    said = capsys.readouterr().out
    assert "3 variant(s): 1 built, 2 stale" in said and "stale:  hello/n-5: notebook notebooks/hello.ipynb changed" in said
    # The scheduled command (no report named, no -p) rebuilds both, the one-off included.
    outcomes = build(None, None, False, HTML_ONLY, out=out)
    assert sorted(o.name for o in outcomes if o.status == "built") == ["hello/default", "hello/n-5"], (
        [(o.name, o.status) for o in outcomes], out.getvalue()[-800:])
    state = json.loads((toy_project / "reports" / "build.json").read_text(encoding="utf-8"))
    assert {v["status"] for v in state["variants"]} == {"built"}


def test_status_without_a_build_says_so(toy_project, capsys):
    assert main(["status"]) == 2
    assert "no build yet" in capsys.readouterr().err


def test_drift_is_recorded_when_a_finding_changes(project, capsys):
    table = project / "data" / "published" / "tables" / "di_published_inputs.csv"
    out = io.StringIO()
    assert exit_code(build(["di_outsourcing_savings"], None, False, HTML_ONLY, out=out)) == 0
    text = table.read_text(encoding="utf-8")
    table.write_text(text.replace("gribskov_tender_per_year,250e6", "gribskov_tender_per_year,300e6"), encoding="utf-8")
    out = io.StringIO()
    assert exit_code(build(["di_outsourcing_savings"], None, False, HTML_ONLY, out=out)) == 0
    drift = json.loads((project / "reports" / "drift.json").read_text(encoding="utf-8"))
    change = {c["id"]: c for c in drift["changes"]}["di.gribskov_contract_sum"]
    assert (change["old"], change["new"]) == (1.5e9, 1.8e9)
    assert change["old_text"] == "1,5 mia. kr." and change["new_text"] == "1,8 mia. kr."  # DI's report is in Danish
    assert change["status_changed"] and change["old_status"] == "arithmetic check: holds"
    assert change["left_interval"] is True
    log = out.getvalue()
    assert "finding changed: di_outsourcing_savings/language-da di.gribskov_contract_sum: 1,5 mia. kr. -> 1,8 mia. " \
           "kr." in log
    assert "kommunelab: 1 finding(s) moved out of their target interval" in log.rstrip().splitlines()[-2]
    index = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Seneste ændringer" in index and "forlod sit målinterval" in index
    assert main(["status"]) == 0
    assert "findings changed in the build of" in capsys.readouterr().out


def test_time_is_not_a_reason(toy_project):
    """Touching a file without changing it rebuilds nothing."""
    build(None, None, False, HTML_ONLY, out=io.StringIO())
    nb = toy_project / "notebooks" / "hello.ipynb"
    os.utime(nb, (time.time() + 5, time.time() + 5))
    assert dry_run(None, None, False, HTML_ONLY)[0] == []


pytestmark = pytest.mark.slow


def test_a_parameter_file_builds_one_variant_per_set_and_name_colon_value_works(toy_project, tmp_path):
    sets = tmp_path / "params.yaml"
    sets.write_text("- n: 4\n  word: hallo\n- n: 6\n", encoding="utf-8")
    assert main(["build", "hello", "-f", str(sets), "-p", "word:hallo", "--formats", "html"]) == 0
    state = json.loads((toy_project / "reports" / "build.json").read_text(encoding="utf-8"))
    assert sorted(v["variant"] for v in state["variants"]) == ["n-4_word-hallo", "n-6_word-hallo"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- n: 40\n", encoding="utf-8")
    assert main(["build", "hello", "-f", str(bad)]) == 2  # validated like -p, before anything runs
    bad.write_text("- 4\n", encoding="utf-8")
    assert main(["build", "hello", "-f", str(bad)]) == 2


def test_an_integer_range_can_be_a_grid(toy_project):
    from kommunelab.manifest import load_manifest, variants

    manifest = toy_project / "reports.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        'formats = ["html"]\n', 'formats = ["html"]\ngrid = { n = "all" }\n', 1), encoding="utf-8")
    report = load_manifest()["hello"]
    assert [v.params["n"] for v in variants(report, all_variants=True)] == list(range(1, 11))


def test_a_stale_variant_whose_inputs_are_restored_is_current_again(toy_project):
    out = io.StringIO()
    build(None, None, False, HTML_ONLY, out=out)
    nb = toy_project / "notebooks" / "hello.ipynb"
    original = nb.read_text(encoding="utf-8")
    nb.write_text(original.replace("Æblegrød", "Æblekage"), encoding="utf-8")
    build(["other"], None, False, HTML_ONLY, out=out)
    state = lambda: {v["variant"]: v["status"] for v in json.loads(  # noqa: E731
        (toy_project / "reports" / "build.json").read_text(encoding="utf-8"))["variants"] if v["report"] == "hello"}
    assert state() == {"default": "stale"}
    nb.write_text(original, encoding="utf-8")
    outcomes = build(None, None, False, HTML_ONLY, out=out)
    assert {o.status for o in outcomes} == {"current"} and state() == {"default": "built"}


def test_drift_keeps_a_history_across_builds_and_names_the_input_that_changed(project, capsys):
    """Issue 24, point 4: a profile records its key figures, so a corrected data file shows up as a change; each build
    that changed something is kept in drift.json's history (newest first), naming the file whose content changed;
    the index shows the latest changes and the earlier ones."""
    from .conftest import edit_snapshot

    options = BuildOptions(formats=("html",), jobs=1)
    assert exit_code(build(["municipality_profile"], None, False, options, out=io.StringIO())) == 0
    for unemployed in (520, 600):
        def revise(path, unemployed=unemployed):
            path.write_text(re.sub(r"^270,2021,\d+$", f"270,2021,{unemployed}", path.read_text(encoding="utf-8"),
                                   flags=re.M), encoding="utf-8")

        edit_snapshot(project / "data" / "reference", "dk/unemployment.csv", revise)
        out = io.StringIO()
        assert exit_code(build(["municipality_profile"], None, False, options, out=out)) == 0
        assert "changed inputs: dk/unemployment.csv" in out.getvalue()
    drift = json.loads((project / "reports" / "drift.json").read_text(encoding="utf-8"))
    assert len(drift["history"]) == 2 and drift["history"][0]["generated"] == drift["generated"]
    (newest,), (older,) = drift["history"][0]["changes"], drift["history"][1]["changes"]
    assert newest["id"] == older["id"] == "profile.unemployed_per_100" and newest["old_status"] == "recorded"
    assert newest["inputs"] == older["inputs"] == ["dk/unemployment.csv"]
    assert (older["old_text"], older["new_text"], newest["new_text"]) == ("1,2", "1,3", "1,5")  # 493, 520, 600 of 40,971
    index = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Seneste ændringer" in index and "dk/unemployment.csv" in index and 'href="drift.json"' in index
    assert "Tidligere ændringer (1 kørsel)" in index
    # A recorded key figure is not a check: the scorecard's count of published findings leaves it out.
    assert "profile.unemployed_per_100" not in index.split('id="scorecard"')[1]
