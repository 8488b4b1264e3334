"""The build: execution, export, index, incremental skips and rebuilds, and failures (on a toy project)."""

from __future__ import annotations

import io
import json
import re

import pytest

from kommunelab import build as build_module
from kommunelab.build import BuildOptions, build
from kommunelab.errors import ParameterError

from .conftest import write_notebook

pytestmark = pytest.mark.slow
HTML_ONLY = BuildOptions(formats=("html",), jobs=2)


def run(reports=None, overrides=None, options=HTML_ONLY, all_variants=False):
    out = io.StringIO()
    code, outcomes = build(reports, overrides, all_variants, options, out=out)
    return code, {f"{o.report}/{o.variant}": o.status for o in outcomes}, out.getvalue()


def test_build_writes_reports_index_and_state_then_second_build_executes_nothing(toy_project):
    code, statuses, log = run()
    assert code == 0, log
    assert statuses == {"hello/default": "built", "other/default": "built"}
    reports = toy_project / "reports"
    for kind in ("html", "ipynb"):
        assert (reports / "hello" / f"default.{kind}").is_file()
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "hello/default.html" in index and "Other report" in index
    state = json.loads((reports / "build.json").read_text(encoding="utf-8"))
    assert {r["variant"] for r in state["variants"]} == {"default"}
    hello = next(r for r in state["variants"] if r["report"] == "hello")
    assert any(path.endswith("population.csv") for path in hello["inputs"]["data"])  # data read is tracked
    assert not (reports / ".tmp").exists()

    code, statuses, log = run()
    assert code == 0
    assert set(statuses.values()) == {"skipped"}
    assert "nothing to do" in log


def _touch_notebook(root):
    path = root / "notebooks" / "hello.ipynb"
    path.write_text(path.read_text(encoding="utf-8").replace("how many", "how many, edited"), encoding="utf-8")


def _touch_parameters(root):
    path = root / "reports.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("default = 3", "default = 4"), encoding="utf-8")


def _touch_data(root):
    path = root / "data" / "raw" / "dk" / "population.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",2008,5475791", ",2008,5475792"), encoding="utf-8")


def _touch_lock(root):
    (root / "requirements.lock").write_text("pandas==1\n")


def _touch_library(monkeypatch):
    build_module.library_digest.cache_clear()
    monkeypatch.setattr(build_module, "library_digest", lambda: "edited library")


# The notebook, its parameters and the data it read belong to one report; the lock and the library to all.
@pytest.mark.parametrize("touch, other", [(_touch_notebook, "skipped"), (_touch_parameters, "skipped"),
                                          (_touch_data, "skipped"), (_touch_lock, "built"), ("library", "built")])
def test_changing_an_input_rebuilds_what_depends_on_it(toy_project, monkeypatch, touch, other):
    assert run()[0] == 0
    if touch == "library":
        _touch_library(monkeypatch)
    else:
        touch(toy_project)
    code, statuses, log = run()
    assert code == 0, log
    assert statuses == {"hello/default": "built", "other/default": other}


def test_force_rebuilds(toy_project):
    run()
    code, statuses, _ = run(options=BuildOptions(formats=("html",), force=True))
    assert set(statuses.values()) == {"built"}


def test_failing_notebook_keeps_previous_output_and_others_still_build(toy_project):
    assert run()[0] == 0
    good_html = (toy_project / "reports" / "other" / "default.html").read_text(encoding="utf-8")
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "x = 1", "raise ValueError('broken on purpose')")
    _touch_notebook(toy_project)
    code, statuses, log = run()
    assert code == 1
    assert statuses == {"hello/default": "built", "other/default": "failed"}
    assert "Failures:" in log and "ValueError: broken on purpose" in log
    # cell 2 of the source notebook (markdown title, parameters, x = 1, raise): index 3
    assert re.search(r"other\s+fail=False\s+3\s+ValueError", log), log
    assert (toy_project / "reports" / "other" / "default.failed.ipynb").is_file()
    assert (toy_project / "reports" / "other" / "default.html").read_text(encoding="utf-8") == good_html
    state = json.loads((toy_project / "reports" / "build.json").read_text(encoding="utf-8"))
    other = next(r for r in state["variants"] if r["report"] == "other")
    assert other["status"] == "failed" and other["outputs"]["html"] == "other/default.html"


def test_bad_parameters_are_refused_before_anything_runs(toy_project):
    with pytest.raises(ParameterError, match="report 'hello', parameter 'n'.*above the maximum"):
        run(["hello"], {"n": "11"})
    with pytest.raises(ParameterError, match="parameter 'word'.*not allowed.*hej, hallo"):
        run(["hello"], {"word": "goddag"})
    with pytest.raises(ParameterError, match="parameter 'n': expects int, got 'three'"):
        run(["hello"], {"n": "three"})
    with pytest.raises(ParameterError, match="parameter 'colour': unknown parameter.*n, word"):
        run(["hello"], {"colour": "red"})
    assert not (toy_project / "reports").exists()


def test_parameter_override_builds_a_named_variant(toy_project):
    code, statuses, _ = run(["hello"], {"n": "5", "word": "hallo"})
    assert code == 0 and statuses == {"hello/n-5_word-hallo": "built"}
    html = (toy_project / "reports" / "hello" / "n-5_word-hallo.html").read_text(encoding="utf-8")
    assert "hallo" in html


def test_html_renders_offline_without_code(toy_project):
    run(["hello"])
    html = (toy_project / "reports" / "hello" / "default.html").read_text(encoding="utf-8")
    # No resource (script, stylesheet, image, font, CSS import) is fetched from the network.
    assert not re.search(r"""<(script|img|iframe|link)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert not re.search(r"""url\(\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html
    assert 'src="data:image/png;base64,' in html  # the figure is embedded
    assert "Ærø og Åbenrå" in html  # Danish letters survive
    assert "from kommunelab import data" not in html  # code hidden by default


def test_show_code_includes_the_code(toy_project):
    run(["hello"], options=BuildOptions(formats=("html",), show_code=True))
    html = (toy_project / "reports" / "hello" / "default.html").read_text(encoding="utf-8")
    assert "kommunelab" in html and "population" in html and "provenance" in html


def test_pdf_is_printed_with_title_and_danish_letters(toy_project):
    from pypdf import PdfReader

    text = (toy_project / "reports.toml").read_text(encoding="utf-8").replace('formats = ["html"]\n', "", 1)
    (toy_project / "reports.toml").write_text(text, encoding="utf-8")
    code, statuses, log = run(["hello"], options=BuildOptions(formats=("html", "pdf")))
    assert code == 0, log
    reader = PdfReader(toy_project / "reports" / "hello" / "default.pdf")
    assert len(reader.pages) >= 1
    content = " ".join(page.extract_text() for page in reader.pages)
    assert "Hello kommunelab" in content
    assert "Æbler, Øer og Århus" in content
