"""Every report notebook, executed through the build with its defaults and with one non-default parameter set;
the recorded findings are checked, not just the exit code."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kommunelab.engine.build import BuildOptions, build, exit_code, failure_table

from .conftest import copy_project

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
HTML = BuildOptions(formats=("html",), jobs=2)
HTML_EN = BuildOptions(formats=("html",), jobs=2, languages=("en",))  # the assertions below read English text


def published_ids(report: str) -> set[str]:
    with open(REPO / "data" / "published" / "findings.csv", encoding="utf-8") as fh:
        return {r["id"] for r in csv.DictReader(fh) if r["report"] == report}


def findings_of(root: Path, report: str, variant: str) -> dict[str, dict]:
    records = json.loads((root / "reports" / "findings.json").read_text(encoding="utf-8"))
    return {f["id"]: f for f in records if f["report"] == report and f["variant"] == variant}


@pytest.fixture(scope="module")
def built_defaults(tmp_path_factory, reference):
    """All six reports with their defaults, built once into a scratch project, in English (tests/test_i18n.py builds
    them in their own languages)."""
    root = copy_project(tmp_path_factory.mktemp("nb") / "project")
    mp = pytest.MonkeyPatch()
    mp.setenv("KOMMUNELAB_ROOT", str(root))
    out = io.StringIO()
    outcomes = build(None, None, False, HTML_EN, out=out)
    assert exit_code(outcomes) == 0, out.getvalue() + failure_table(outcomes)
    yield root, {o.report: o.variant for o in outcomes}
    mp.undo()


def test_every_report_records_all_its_findings_with_defaults(built_defaults):
    root, variants = built_defaults
    for report, variant in variants.items():
        recorded = findings_of(root, report, variant)
        checked = {i for i, f in recorded.items() if f["status"] != "recorded"}
        assert checked == published_ids(report), report
        if report == "municipality_profile":  # and its key figures, recorded for the changes (not checks)
            assert set(recorded) - checked == {"profile.population", "profile.density", "profile.unemployed_per_100",
                                               "profile.earned_income"}
        html = (root / "reports" / report / f"{variant}.html").read_text(encoding="utf-8")
        assert "<h3>Provenance</h3>" in html
        if any(f["evidence"] == "synthetic" for f in recorded.values()):
            assert "Synthetic data: pipeline check, not a reproduction." in html


def test_the_index_and_readme_say_first_how_much_is_real(built_defaults):
    """The index opens with what the findings rest on, counted from the build; README's opening says the same
    numbers, so the words "recomputed from real data" can only appear where a build made them true."""
    import re

    from kommunelab.engine.plan.cache import load_record
    from kommunelab.engine.publish.index import Scored, checked, how_much_is_real
    from kommunelab.records import Basis, basis

    root, variants = built_defaults
    record = load_record(root)
    scorecard = [Scored(o.report, o.variant, f) for o in record.variants if variants.get(o.report) == o.variant
                 for f in o.findings if checked(f)]
    counts = {b: sum(basis(s.finding) is b for s in scorecard) for b in Basis}
    sentence = how_much_is_real(scorecard)
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert sentence.replace("'", "&#39;") in index and f"{counts[Basis.RECOMPUTED]} are recomputed from real" in sentence
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    opening = readme[:readme.index("## The two commands")]
    said = re.search(r"none of the (\d+) findings is recomputed from real data yet: (\d+) are pipeline checks, (\d+) are "
                     r"checked against the reports' own published figures, (\d+) is a benchmark and (\d+) cannot be "
                     r"computed", opening)
    assert said, "README opens with how much is real"
    assert counts[Basis.RECOMPUTED] == 0 and [int(n) for n in said.groups()] == [
        len(scorecard), counts[Basis.STAND_IN], counts[Basis.OWN_FIGURES], counts[Basis.BENCHMARK],
        counts[Basis.NOT_COMPUTED]]
    assert "recompute the key findings" not in readme


def test_every_default_pipeline_check_recovers_its_truth_at_the_committed_seed(built_defaults):
    """With the stand-ins as committed, every pipeline check of the default variants recovers its truth: a bug that
    only a pipeline check catches (an inverted ratio, a reversed sort) fails here, not only on the index."""
    root, variants = built_defaults
    missed = [f["id"] for report, variant in variants.items() for f in findings_of(root, report, variant).values()
              if f["status"] == "pipeline-check" and not f["recovered"]]
    assert missed == []


def test_synthetic_findings_are_pipeline_checks_against_the_stand_in_truth(built_defaults):
    root, variants = built_defaults
    for report, variant in variants.items():
        for f in findings_of(root, report, variant).values():
            if f["evidence"] == "synthetic":
                assert f["status"] == "pipeline-check", f["id"]
                assert f["truth"] is not None and isinstance(f["recovered"], bool), f["id"]
            # Nothing is "reproduced" without a recomputation from data by the report's method.
            assert f["status"] != "reproduced" or (f["check"] == "recomputation" and f["evidence"] != "synthetic")


def test_every_caption_drawn_from_the_stand_in_says_so(built_defaults):
    import re

    root, variants = built_defaults
    for report in ("kl_collaborations", "ks_innovation_barometer", "kora_civil_society", "coi_citizens_volunteers"):
        html = (root / "reports" / report / f"{variants[report]}.html").read_text(encoding="utf-8")
        captions = re.findall(r'<figcaption class="(kl-caption[^"]*)">(.*?)</figcaption>', html, flags=re.S)
        assert captions, report
        for css, text in captions:
            # A caption either carries the stand-in note or describes published figures only.
            assert "kl-caption-stand-in" in css or "Published" in text, (report, text[:80])
        assert "recomputes those key findings" not in html and "Four in five workplaces innovate" not in html


def test_default_findings_values(built_defaults):
    root, v = built_defaults
    kl = findings_of(root, "kl_collaborations", v["kl_collaborations"])
    assert 44 <= kl["kl.collaborations_per_municipality"]["value"] <= 50
    assert kl["kl.innovation_purpose_rank"]["value"] == 2
    coi = findings_of(root, "coi_citizens_volunteers", v["coi_citizens_volunteers"])
    assert coi["coi.citizens_or_volunteers_bounds"]["status"] == "consistent"
    assert coi["coi.citizens_or_volunteers_bounds"]["bounds"] == [63.0, 79.0]
    lo, hi = coi["coi.democratic_value_ratio"]["ci"]
    assert lo < coi["coi.democratic_value_ratio"]["value"] < hi
    di = findings_of(root, "di_outsourcing_savings", v["di_outsourcing_savings"])
    assert di["di.gribskov_contract_sum"]["status"] == "arithmetic-check" and di["di.gribskov_contract_sum"]["passed"]
    assert di["di.total_savings"]["status"] == "not-computed" and "municipal_input" in di["di.total_savings"]["note"]
    # Copenhagen's share of the municipalities' population (2013): 559,440 of 5,602,536 inhabitants.
    assert di["di.copenhagen_savings"]["value"] == pytest.approx(3.8e9 * 559_440 / 5_602_536, rel=1e-6)
    assert di["di.copenhagen_savings"]["status"] == "benchmark"
    assert not any(f["status"] in ("reproduced", "differs") for f in di.values())
    html = (root / "reports" / "di_outsourcing_savings" / f"{v['di_outsourcing_savings']}.html").read_text(encoding="utf-8")
    # DI's own total is restated, never presented as what a model gives; the independent base gives the rate.
    assert "the model gives" not in html and "Restated." in html and "by construction" in html
    # the implied rate is the interval the rounding of its inputs allows, never 14.4% to one decimal
    assert "KFST" in html and "between 13.7% and 15.1%" in html and "14.4%" not in html and "2012 data" in html
    ks = findings_of(root, "ks_innovation_barometer", v["ks_innovation_barometer"])
    assert ks["ks.units_innovated_bounds"]["status"] == "consistent"
    kora = findings_of(root, "kora_civil_society", v["kora_civil_society"])
    assert kora["kora.invited"]["value"] == 838
    assert kora["kora.response_rate"]["value"] == pytest.approx(100 * 444 / 838)
    # A claim of no difference reports the difference, its interval and what the data rule out.
    party = kora["kora.no_party_dependence"]
    assert party["unit"] == "pp" and party["ci"][0] < party["value"] < party["ci"][1]
    assert "rule out differences larger than" in party["note"]
    assert kora["kora.increased_focus"]["n"] < 444  # blank answers are not counted as "no"


def build_one(root: Path, report: str, params: dict) -> tuple[str, dict[str, dict]]:
    out = io.StringIO()
    outcomes = build([report], params, False, HTML, out=out)
    assert exit_code(outcomes) == 0, out.getvalue() + failure_table(outcomes)
    (outcome,) = outcomes
    return outcome.variant, findings_of(root, report, outcome.variant)


def test_non_default_parameters(built_defaults, tmp_path):
    root, _ = built_defaults
    variant, kl = build_one(root, "kl_collaborations", {"breakdown": "size_class", "language": "da"})
    assert "," in kl["kl.innovation_purpose_share"]["value_text"] and "pct." in kl["kl.innovation_purpose_share"]["value_text"]
    html = (root / "reports" / "kl_collaborations" / f"{variant}.html").read_text(encoding="utf-8")
    assert "vigtigste formål er innovation og udvikling, efter størrelsesgruppe" in html

    _, ks = build_one(root, "ks_innovation_barometer", {"sector": "health & care", "dk_base": "2000"})
    assert ks["ks.quality_top_result"]["value"] == 1

    _, kora = build_one(root, "kora_civil_society", {"breakdown": "region"})
    assert set(kora) == published_ids("kora_civil_society")

    real = tmp_path / "coi_real"
    real.mkdir()
    import pandas as pd

    table = pd.read_csv(root / "data" / "synthetic" / "coi_workplaces.csv", dtype=str, keep_default_na=False)
    for i, column in enumerate(("innovated", "citizens_role", "volunteers_role", "democratic_value", "weight")):
        table[column] = table[column].sample(frac=1, random_state=i).to_numpy()  # other data: no longer the stand-in
    table.to_csv(real / "coi_workplaces.csv", index=False)
    from kommunelab.cli import main

    main(["microdata", "init", str(real)])
    meta = json.loads((real / "datapackage.json").read_text(encoding="utf-8"))
    meta.update(title="COI workplaces 2015-16 (analyst's copy)", sources=["COI"], licenses=["research agreement"])
    (real / "datapackage.json").write_text(json.dumps(meta), encoding="utf-8")
    variant, micro = build_one(root, "coi_citizens_volunteers", {"data_dir": str(real), "language": "en"})
    assert {f["evidence"] for f in micro.values() if f["id"] != "coi.citizens_or_volunteers_bounds"} == {"microdata"}
    assert micro["coi.workplaces_innovated"]["status"] in ("reproduced", "differs")
    html = (root / "reports" / "coi_citizens_volunteers" / f"{variant}.html").read_text(encoding="utf-8")
    assert "Survey data:</strong> <span translate=\"no\">COI workplaces 2015-16 (analyst's copy)</span>" in html
    assert "research agreement" in html
    assert "Synthetic data: pipeline check" not in html

    _, coi = build_one(root, "coi_citizens_volunteers", {"sector": "municipal"})
    _, coi_state = build_one(root, "coi_citizens_volunteers", {"sector": "state"})
    assert coi["coi.workplaces_innovated"]["value"] != coi_state["coi.workplaces_innovated"]["value"]

    variant, _ = build_one(root, "municipality_profile", {"municipality": "København", "year": "2016", "language": "da"})
    assert variant == "language-da_municipality-101_year-2016"
    html = (root / "reports" / "municipality_profile" / f"{variant}.html").read_text(encoding="utf-8")
    assert "Københavns Kommune: profil 2016" in html and "591.481" in html


def test_di_with_a_municipal_input_file(built_defaults, tmp_path):
    """An invented municipal file is user data: with no savings rate DI's totals are not computed (the rate
    back-solved from DI's own total would give it back by construction), only the rate-free figures are; with a
    rate they are what-ifs. Nothing on it is "reproduced" by the back-solved rate."""
    root, _ = built_defaults
    path = tmp_path / "iku.csv"
    # Twelve municipalities spend in one main account, the other 86 nothing. The top ten average 31 %.
    others = (147, 151, 153, 155, 157, 159, 161, 163, 165, 167)
    rows = [(101, 100e6, 20.0), (270, 10e6, 40.0)] + [(c, 50e6, 30.0) for c in others]
    from kommunelab import data

    rows += [(c, 0, 0.0) for c in data.municipalities()["municipality_code"] if c not in {r[0] for r in rows}]
    path.write_text("municipality_code,main_account,spending_dkk,iku_pct\n"
                    + "".join(f"{c},5,{s},{i}\n" for c, s, i in rows), encoding="utf-8")
    (tmp_path / "iku.source.toml").write_text('source = "invented for a test"\nretrieved = 2026-01-31\nyear = 2012\n',
                                              encoding="utf-8")
    target = (40 + 9 * 30) / 10  # mean IKU of the ten highest = 31
    potentials = {101: 100e6 * (target - 20), **{c: 50e6 * (target - 30) for c in others}}
    lifted = (100e6 * target + 10e6 * 40 + 500e6 * target) / 610e6

    variant, di = build_one(root, "di_outsourcing_savings", {"municipal_input": str(path), "language": "en"})
    assert {di[i]["status"] for i in ("di.total_savings", "di.copenhagen_savings", "di.gribskov_savings")} == {"not-computed"}
    assert all("savings_rate" in di[i]["note"] for i in ("di.total_savings", "di.copenhagen_savings"))
    assert di["di.copenhagen_share"]["value"] == pytest.approx(100 * potentials[101] / sum(potentials.values()))
    assert di["di.copenhagen_share"]["evidence"] == "user-data" and di["di.copenhagen_share"]["status"] == "differs"
    assert di["di.target_iku"]["value"] == pytest.approx(lifted) and di["di.target_iku"]["status"] == "differs"
    assert not any(f["status"] == "reproduced" or f["evidence"] == "public-data" for f in di.values() if f["value"] is not None
                   and f["check"] != "benchmark")
    html = (root / "reports" / "di_outsourcing_savings" / f"{variant}.html").read_text(encoding="utf-8")
    assert "invented for a test, retrieved 31 January 2026, figures for 2012 (as the user declares)" in html
    assert "iku.source.toml" in html  # the declaration is a file the report read, in its provenance

    _, di = build_one(root, "di_outsourcing_savings", {"municipal_input": str(path), "savings_rate": "0.1"})
    assert di["di.copenhagen_savings"]["value"] == pytest.approx(100e6 * (target - 20) / 100 * 0.1)
    assert {di[i]["status"] for i in ("di.total_savings", "di.copenhagen_savings", "di.gribskov_savings")} == {"what-if"}
    total = 100e6 * 0.11 * 0.1 + 10 * 50e6 * 0.01 * 0.1
    assert di["di.total_savings"]["value"] == pytest.approx(total)
    average = (100e6 * 20 + 10e6 * 40 + 500e6 * 30) / 610e6
    assert di["di.gribskov_savings"]["value"] == pytest.approx(10e6 * (40 - average) / 100 * 0.1)


def test_di_implied_rate_is_an_interval_from_the_rounding_of_its_inputs(project):
    """DI's 2012 total on KFST's 2016 base implies 14.4%, but the rounding of its five inputs allows 13.7-15.1%."""
    from kommunelab.analysis import di

    ranges = di.published_ranges()
    assert ranges["iku_best_practice"] == pytest.approx((37.45, 37.55))  # a claim's cell: the claim's interval
    assert ranges["savings_at_best_practice"] == pytest.approx((3.95e9, 4.05e9))
    low, high = di.implied_rate_interval(ranges)
    assert (round(100 * low, 1), round(100 * high, 1)) == (13.7, 15.1)
    pub = di.published_inputs()
    assert low < di.implied_rate(**{k: pub[k] for k in di.RATE_INPUTS}) < high


def test_forked_kernels_give_the_same_outputs_as_fresh_ones(built_defaults, monkeypatch):
    """The fast path (kernels forked from a template with the libraries imported, one Chromium per worker) changes
    no byte of what readers get: findings, HTML and PDF equal those of kernels started as new Pythons."""
    import shutil

    root, _ = built_defaults
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")  # the same build time for both
    reports = ["coi_citizens_volunteers", "municipality_profile"]
    outputs = {}
    for fork in (False, True):
        for report in reports:
            shutil.rmtree(root / "reports" / report, ignore_errors=True)
        options = BuildOptions(formats=("html", "pdf"), jobs=2, force=True, fork_kernels=fork)
        out = io.StringIO()
        outcomes = build(reports, None, False, options, out=out)
        assert exit_code(outcomes) == 0, out.getvalue() + failure_table(outcomes)
        outputs[fork] = {
            "findings": [f for f in json.loads((root / "reports" / "findings.json").read_text(encoding="utf-8"))
                         if f["report"] in reports],
            **{f"{o.report}/{o.variant}.{kind}": (root / "reports" / o.report / f"{o.variant}.{kind}").read_bytes()
               for o in outcomes for kind in ("html", "pdf")}}  # every variant recorded in the root, each by name
    assert outputs[True]["findings"] and outputs[True]["findings"] == outputs[False]["findings"]
    for name in outputs[True]:
        assert outputs[True][name] == outputs[False][name], f"{name} differs between forked and fresh kernels"


def test_a_profile_variant_imports_nothing_its_kernel_template_did_not(built_defaults, tmp_path):
    """What a variant imports on first use, each of the 98 profiles' kernels imported again (the figures' SVG
    backend, the CSV writer, the catalogs' compiler, PIL's plugins: 0.06 s a variant, and 0.15-0.2 s of CPU with the
    collections of what was not frozen); the template imports it once (kommunelab.kernel.PRELOAD and WARM). A module
    that a notebook or the library starts to import later fails this test until the template imports it too."""
    import nbformat

    from kommunelab.engine.run import forking
    from kommunelab.engine.run.execute import execute_notebook

    root, _ = built_defaults
    source = root / "notebooks" / "municipality_profile.ipynb"
    nb = nbformat.read(source, as_version=4)
    listing = tmp_path / "imported.json"
    nb.cells.insert(1, nbformat.v4.new_code_cell("import sys as _sys\n_before = set(_sys.modules)"))
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import json as _json\nopen({str(listing)!r}, 'w').write(_json.dumps(sorted(set(_sys.modules) - _before)))"))
    notebook = source.with_name("_imports.ipynb")
    nbformat.write(nb, notebook)
    env = {"KOMMUNELAB_ROOT": str(root), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    (tmp_path / "runtime").mkdir()
    forking.start_template(env)
    imported = {}
    try:
        for language in ("da", "en"):  # Danish loads the catalogs, English does not
            assert execute_notebook(notebook, tmp_path / f"{language}.ipynb", {"language": language}, cwd=notebook.parent,
                                    env=env, kernel_manager_class=forking.ForkingKernelManager) is None
            imported[language] = json.loads(listing.read_text(encoding="utf-8"))
    finally:
        notebook.unlink()
        template = forking.template()
        template.kill()
        template.wait()
    # zmq.utils.garbage: pyzmq's, imported by the kernel's first large message (not the notebook's)
    assert {language: set(names) - {"zmq.utils.garbage"} for language, names in imported.items()} == {"da": set(),
                                                                                                      "en": set()}


def _reader_text(html: str) -> str:
    """What a reader sees: the page without styles, scripts, tags and attributes."""
    import re

    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_figures_and_tables_are_numbered_captioned_and_described(built_defaults):
    import re

    root, variants = built_defaults
    for report, variant in variants.items():
        html = (root / "reports" / report / f"{variant}.html").read_text(encoding="utf-8")
        assert "No description has been provided" not in html, report
        for kind in ("Figure", "Table"):
            numbers = [int(n) for n in re.findall(rf'<span class="kl-caption-number">{kind} (\d+)\.</span>', html)]
            assert numbers == list(range(1, len(numbers) + 1)), (report, kind, numbers)
        for svg in re.findall(r"<svg\s[^>]*>", html):
            assert 'role="img"' in svg and re.search(r'aria-label="(Figure \d+\. [^"]{10,})"', svg), (report, svg[:200])
        # Every cross-reference is numbered as its target is.
        targets = {}
        for tag in re.findall(r"<figure\s[^>]*>", html):
            attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
            targets[attrs["id"]] = attrs["data-kl-number"]
        for target, text in re.findall(r'<a class="kl-ref" href="#([^"]+)">([^<]*)</a>', html):
            assert targets[target] == text, (report, target, text)
        sections = re.findall(r"<h2[^>]*>", html)
        if len(sections) >= 2:
            assert '<nav class="kl-toc"' in html, report


def test_reader_text_carries_no_internal_ids_minus_zero_or_zero_p_values(built_defaults):
    import re

    root, variants = built_defaults
    ids = published_ids_all()
    for report, variant in variants.items():
        html = (root / "reports" / report / f"{variant}.html").read_text(encoding="utf-8")
        text = _reader_text(html.split('<div class="kl-provenance">')[0])
        for word in ("FACTS.md", "the seed", "seed's", "; id "):
            assert word not in text, (report, word)
        assert not [i for i in ids if i in text], report
        assert not re.search(r"(?<![\w.,])-0(?![\d.,])|-0[.,]0+(?!\d*[1-9])\b", text), (report, "minus zero")
        assert not re.search(r"(?<![\d,.])0[.,]000(?!\d)", text), (report, "a p-value printed as 0.000")
        assert not re.search(r"/(work|home|tmp)/", text), report


def published_ids_all() -> set[str]:
    with open(REPO / "data" / "published" / "findings.csv", encoding="utf-8") as fh:
        return {r["id"] for r in csv.DictReader(fh)}


def test_table_columns_align_text_left_and_numbers_right(built_defaults):
    root, variants = built_defaults
    html = (root / "reports" / "municipality_profile" / f"{variants['municipality_profile']}.html").read_text(
        encoding="utf-8")
    import re

    ranking = html[html.index('id="kl-ranking"'):]
    table_id = re.search(r'<table id="(T_kl\w+)"', ranking).group(1)
    rules = dict(re.findall(rf"#{table_id} +td\.(col\d) \{{\s*text-align: (\w+);", html))
    assert rules == {"col0": "left", "col1": "right", "col2": "right", "col3": "right"}, rules


# ---- in a browser: the index and one report of each kind at desktop and phone width ------------------------------
LAYOUT = """() => {
  const width = document.documentElement.clientWidth, wide = [];
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || (r.right <= width + 1 && r.left >= -1)) continue;
    // A table may scroll inside its own scroller; nothing else may stick out of the page.
    if (e.closest("figure.kl-table, .scroll, .kl-scroll")) continue;
    wide.push(e.tagName.toLowerCase() + "." + (e.getAttribute("class") || "") + " " + Math.round(r.right));
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 8)};
}"""


@pytest.fixture(scope="module")
def browser():
    """A function that runs ``look_at`` in one headless Chromium (tests/layout.py: chromium_thread)."""
    from .layout import chromium_thread

    with chromium_thread() as run:
        yield lambda *args: run(look_at, *args)


def look_at(browser, page_file: Path, width: int, shot: Path, action=None) -> dict:
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        if action:
            action(page)
        layout = page.evaluate(LAYOUT)
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert not errors, (page_file.name, width, errors)
    outside = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert not outside, (page_file.name, outside)
    assert layout["scrollWidth"] <= layout["width"] and not layout["wide"], (page_file.name, width, layout)
    assert shot.stat().st_size > 10_000
    return layout


@pytest.mark.parametrize("width", [1280, 390])
def test_index_and_reports_in_a_browser(built_defaults, browser, width, tmp_path):
    root, variants = built_defaults
    browser(root / "reports" / "index.html", width, tmp_path / f"index-{width}.png")
    for report, variant in variants.items():
        browser(root / "reports" / report / f"{variant}.html", width, tmp_path / f"{report}-{width}.png")


def test_the_index_filter_finds_a_municipality_offline(browser, tmp_path):
    from kommunelab.engine.publish.index import render_index
    from kommunelab.records import BuildRecord, Outcome

    names = [("Gribskov", "Region Hovedstaden"), ("Aarhus", "Region Midtjylland"), ("Odense", "Region Syddanmark")]
    records = tuple(Outcome(report="municipality_profile", variant=f"municipality-{i}", title=f"{n} profile", label=n,
                            detail=region, params={"municipality": str(i)}, status="built",
                            outputs={"html": f"municipality_profile/municipality-{i}.html"})
                    for i, (n, region) in enumerate(names * 6))
    page_file = tmp_path / "index.html"
    page_file.write_text(render_index(BuildRecord(generated="now", git_revision="abc", variants=records)),
                         encoding="utf-8")
    visible = {}

    def type_region(page):
        page.fill("#filter-municipality_profile", "midtjyl")
        visible["items"] = page.locator("#list-municipality_profile li:visible").all_inner_texts()

    browser(page_file, 390, tmp_path / "filtered.png", type_region)
    assert len(visible["items"]) == 6 and all("Aarhus" in t for t in visible["items"]), visible


def test_the_index_breaks_no_header_or_timestamp_mid_word(browser, tmp_path):
    """Issue 24, point 6 (in part): at 1280 px the build table's headers ("seconds", "status") and timestamps
    ("2026-11-29T16:48:18+00:00") each stay on one line, even beside a long parameter list."""
    from kommunelab.engine.publish.index import render_index
    from kommunelab.records import BuildRecord, Outcome

    long = {"locale": "en", "sector": "all", "dk_base": "1300", "no_base": "0", "data_dir": "/tmp/" + "delivery" * 6}
    records = tuple(Outcome(report="ks_innovation_barometer", variant=f"v{i}", title="KS", label=f"variant {i}",
                            params=long, status="built", built_at="2026-11-29T16:48:18+00:00", seconds=3.01,
                            outputs={"html": f"ks/v{i}.html", "pdf": f"ks/v{i}.pdf", "ipynb": f"ks/v{i}.ipynb"})
                    for i in range(3))
    page_file = tmp_path / "index.html"
    page_file.write_text(render_index(BuildRecord(generated="now", git_revision="abc", variants=records)),
                         encoding="utf-8")
    lines = {}

    def measure(page):
        lines.update(page.evaluate("""() => Object.fromEntries(Array.from(
            document.querySelectorAll('table.builds th, table.builds td.when, table.builds td.num')).map((e, i) => {
              const r = document.createRange(); r.selectNodeContents(e);
              const tops = new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top)));
              return [i + ': ' + e.textContent.trim(), tops.size]; }))"""))

    browser(page_file, 1280, tmp_path / "builds.png", measure)
    assert lines and all(n == 1 for n in lines.values()), lines


def test_the_index_filter_finds_what_the_command_line_accepts(browser, tmp_path, reference):
    """Issue 24, point 5: "kobenhavn", "Koebenhavn", "Copenhagen" and "101" find København's profile, as
    `kommunelab build municipality_profile -p municipality=...` accepts each; "270" finds Gribskov."""
    from kommunelab.engine.publish.index import render_index
    from kommunelab.manifest import load_manifest
    from kommunelab.records import BuildRecord, Outcome

    places = [("101", "København", "Region Hovedstaden"), ("270", "Gribskov", "Region Hovedstaden"),
              ("751", "Aarhus", "Region Midtjylland")]
    records = tuple(Outcome(report="municipality_profile", variant=f"municipality-{code}-{i}", title=f"{n} profile",
                            label=n, detail=region, params={"municipality": code, "year": 2017 + i}, status="built",
                            outputs={"html": f"municipality_profile/municipality-{code}.html"})
                    for i in range(5) for code, n, region in places)
    page_file = tmp_path / "index.html"
    page_file.write_text(render_index(BuildRecord(generated="now", git_revision="abc", variants=records),
                                      load_manifest()), encoding="utf-8")
    found = {}

    def search(page):
        for typed in ("kobenhavn", "Koebenhavn", "Copenhagen", "101", "KØBENHAVN", "270"):
            page.fill("#filter-municipality_profile", typed)
            found[typed] = set(page.locator("#list-municipality_profile li:visible a:first-child").all_inner_texts())

    browser(page_file, 1280, tmp_path / "searched.png", search)
    assert all(found[t] == {"København"} for t in ("kobenhavn", "Koebenhavn", "Copenhagen", "101", "KØBENHAVN")), found
    assert found["270"] == {"Gribskov"}, found


@pytest.mark.parametrize("report, bad, message", [
    ("di_outsourcing_savings", {"savings_rate": 5.0}, "parameter 'savings_rate': 5.0 is above the maximum"),
    ("ks_innovation_barometer", {"dk_base": -5}, "parameter 'dk_base': -5 is below the minimum"),
])
def test_a_notebook_run_outside_the_build_checks_its_parameters(report, bad, message, tmp_path, reference):
    """Plain papermill (or JupyterLab with a changed parameters cell) gets the CLI's ParameterError from the setup
    cell, before anything is computed."""
    import papermill as pm

    from kommunelab.errors import ParameterError
    from kommunelab.manifest import load_manifest, validate_parameters

    with pytest.raises(ParameterError) as cli:
        validate_parameters(load_manifest()[report], bad)
    with pytest.raises(pm.PapermillExecutionError) as run:
        pm.execute_notebook(str(REPO / "notebooks" / f"{report}.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters=bad, kernel_name="kommunelab", cwd=str(REPO / "notebooks"), progress_bar=False)
    assert run.value.ename == "ParameterError" and message in run.value.evalue
    assert str(cli.value) == run.value.evalue


@pytest.fixture(scope="module")
def printed(tmp_path_factory, reference):
    """KORA (whose heading once sat at a page's foot) and the profile, printed to PDF in a scratch project."""
    root = copy_project(tmp_path_factory.mktemp("pdf") / "project")
    mp = pytest.MonkeyPatch()
    mp.setenv("KOMMUNELAB_ROOT", str(root))
    out = io.StringIO()
    outcomes = build(["kora_civil_society", "municipality_profile"], None, False,
                     BuildOptions(jobs=2, languages=("en",)), out=out)
    mp.undo()
    assert exit_code(outcomes) == 0, out.getvalue() + failure_table(outcomes)
    return {o.report: (root / "reports" / o.outputs["pdf"], o.title) for o in outcomes}


def test_the_computed_population_of_gribskov_reaches_the_pdf(printed):
    """The default profile is Gribskov's, 2021: the population the loader reads from the snapshot, formatted as the
    report formats it, is in the PDF's text (not typed anywhere: read here from the same data)."""
    from pypdf import PdfReader

    from kommunelab import data, fmt

    pop = data.population()
    count = pop.loc[(pop["level"] == "municipality") & (pop["area_code"] == 270) & (pop["year"] == 2021), "population"].item()
    pdf, _ = printed["municipality_profile"]
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert fmt.number(count, locale="en") == "40,971" and "it had 40,971 inhabitants" in " ".join(text.split())


def test_pdf_pages_are_numbered_titled_and_bookmarked_with_no_heading_at_a_page_foot(printed):
    import unicodedata

    from pypdf import PdfReader

    for report, (pdf, title) in printed.items():
        reader = PdfReader(pdf)
        n = len(reader.pages)
        assert reader.metadata.title == title, report
        pages = [unicodedata.normalize("NFKC", page.extract_text()) for page in reader.pages]  # ligatures: "fi"
        for i, text in enumerate(pages, start=1):
            assert f"page {i} of {n}" in text and title in text and "built " in text, (report, i)
        def flat(items):
            for m in items:
                yield from flat(m) if isinstance(m, list) else [m]

        marks = [(m.title, reader.get_destination_page_number(m)) for m in flat(reader.outline)]
        assert len(marks) >= 3, (report, marks)
        for heading, page in marks:
            lines = [x.strip() for x in pages[page].splitlines() if x.strip()]
            body = [x for x in lines if not x.startswith(title) and "page " not in x]
            # The heading is followed by something on its own page.
            position = max(i for i, x in enumerate(body) if heading.startswith(x) or x.startswith(heading[:30]))
            assert position < len(body) - 1, (report, heading, page + 1, body[-3:])


def test_in_jupyterlab_a_bad_parameter_is_one_line_and_a_changed_one_is_said(monkeypatch):
    """What an analyst sees in a kernel: a refused parameter as the CLI's one-line message (no four-frame
    traceback), and values that are not reports.toml's defaults named, with the command that builds them."""
    import nbclient
    import nbformat

    monkeypatch.delenv("KOMMUNELAB_BUILD_TIME", raising=False)
    nb = nbformat.v4.new_notebook()
    setup = 'from kommunelab.report import parameters\nparams = parameters("municipality_profile", globals())'
    nb.cells = [nbformat.v4.new_code_cell(f'municipality = "Gribskow"; year = 2021\n{setup}'),
                nbformat.v4.new_code_cell(f'municipality = "Aarhus"\n{setup}')]
    nbclient.NotebookClient(nb, kernel_name="kommunelab", allow_errors=True, timeout=120).execute()
    (error,) = nb.cells[0].outputs
    assert error.ename == "ParameterError" and error.traceback == [
        "ParameterError: report 'municipality_profile', parameter 'municipality': 'Gribskow' is not known; "
        "closest: Gribskov"]
    (note,) = nb.cells[1].outputs
    assert note.data["text/plain"].startswith("Parameters not at reports.toml's defaults: municipality = '751' "
                                              "(reports.toml: '270').")
    assert "kommunelab build municipality_profile -p municipality=751" in note.data["text/plain"]


def test_the_survey_reports_give_the_same_findings_from_a_delivery(built_defaults, tmp_path):
    """`kommunelab synthetic --delivery DIR`, `kommunelab microdata check DIR` (exit 0), then the four survey reports
    built with -p data_dir=DIR: every finding has the value, interval, n and status of the default build's."""
    from kommunelab.cli import main

    root, variants = built_defaults
    delivery = tmp_path / "delivery"
    assert main(["synthetic", "--delivery", str(delivery)]) == 0
    assert main(["microdata", "check", str(delivery)]) == 0
    reports = ["coi_citizens_volunteers", "kora_civil_society", "ks_innovation_barometer", "kl_collaborations"]
    out = io.StringIO()
    outcomes = build(reports, {"data_dir": str(delivery), "language": "en"}, False, HTML, out=out)
    assert exit_code(outcomes) == 0, out.getvalue() + failure_table(outcomes)
    for outcome in outcomes:
        delivered = findings_of(root, outcome.report, outcome.variant)
        default = findings_of(root, outcome.report, variants[outcome.report])
        assert set(delivered) == set(default)
        for fid, f in default.items():
            got = delivered[fid]
            assert (got["value"], got["ci"], got["n"], got["status"], got["recovered"]) == (
                f["value"], f["ci"], f["n"], f["status"], f["recovered"]), fid
        html = (root / "reports" / outcome.report / f"{outcome.variant}.html").read_text(encoding="utf-8")
        assert "kommunelab-codebook.toml" in html and "synthetic" in html  # provenance names the codebook; banner
