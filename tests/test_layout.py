"""What a reader takes away and how it looks (issue 24): the data behind every figure and table as CSV, the
profile's peers and map, the index's map, and the layout of every report at desktop and phone width and on paper."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from .layout import MIN_TEXT_PX, chromium_thread, page_problems, pdf_problems

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---- the data behind every figure and table ---------------------------------------------------------------------

def test_every_figure_and_table_links_its_data_and_the_provenance_lists_them(native_built):
    from kommunelab.records import spreadsheet_safe

    root, built = native_built
    for report, outcome in built.items():
        folder = root / "reports" / report
        html = (root / "reports" / outcome.outputs["html"]).read_text(encoding="utf-8")
        figures = [re.search(r'\sid="kl-([a-z0-9_-]+)"', tag).group(1)
                   for tag in re.findall(r"<figure\s[^>]*>", html) if re.search(r'class="kl-(figure|table)[ "]', tag)]
        assert figures, report
        for label in figures:
            block = html[html.index(f'id="kl-{label}"'):]
            block = block[:block.index("</figure>")]
            name = f"{outcome.variant}.{label}.csv"
            assert f'class="kl-data" download="" href="{name}"' in block, (report, label)
            assert outcome.outputs[f"csv:{label}"] == f"{report}/{name}" and (folder / name).is_file(), (report, label)
            rows = read_csv(folder / name)
            assert rows and all(rows[0].keys()), (report, label)
        provenance = html[html.index('class="kl-downloads"'):]
        provenance = provenance[:provenance.index("</p>")]
        for label in [*figures, "findings"]:
            assert f"{outcome.variant}.{label}.csv" in provenance, (report, label)
        assert f"reports/{report}/" in provenance  # where they are, for a reader of the PDF
        findings = read_csv(folder / f"{outcome.variant}.findings.csv")
        assert [r["id"] for r in findings] == [f.id for f in outcome.findings], report
        for row, f in zip(findings, outcome.findings, strict=True):
            assert row["status"] == str(f.verdict) and row["value_text"] == spreadsheet_safe(f.value_text)
            assert (row["value"] == "" if f.value is None else float(row["value"]) == f.value), (report, f.id)


def test_the_pdf_says_where_the_data_are(native_built):
    from pypdf import PdfReader

    root, built = native_built
    outcome = built["municipality_profile"]
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(root / "reports" / outcome.outputs["pdf"]).pages)
    assert "reports/municipality_profile/" in text and f"{outcome.variant}.population.csv" in text.replace(" ", "")


def test_the_csv_of_a_figure_is_what_the_figure_draws(native_built, monkeypatch):
    """The profile's population figure, drawn again from the same data: each line's points are the CSV's rows (at
    the one decimal the CSV keeps); the ranking table's cells are the CSV's numbers as the report formats them."""
    import matplotlib

    matplotlib.use("Agg")
    from kommunelab import fmt, profile

    root, built = native_built
    outcome = built["municipality_profile"]
    monkeypatch.setenv("KOMMUNELAB_ROOT", str(root))
    rows = read_csv(root / "reports" / "municipality_profile" / f"{outcome.variant}.population.csv")
    p = profile.profile(outcome.params["municipality"], outcome.params["year"])
    fig, ax = profile.trend_figure(profile.population_index(p), "index", p, "en", ylabel="", title="")
    # seaborn's legend entries are empty lines of each area's colour; the data lines carry the same colour
    colours = {h.get_label(): h.get_color() for h in ax.get_legend().legend_handles}
    drawn = {area: list(zip(line.get_xdata(), line.get_ydata(), strict=True)) for area, colour in colours.items()
             for line in ax.lines if line.get_color() == colour and len(line.get_xdata()) > 1}
    assert p.name in drawn and len(drawn) == 3, drawn.keys()
    own = [(int(r["year"]), float(r["index (2008 = 100)"])) for r in rows if r["area"] == p.name]
    assert own == [(int(x), round(float(y), 1)) for x, y in drawn[p.name]]
    html = (root / "reports" / outcome.outputs["html"]).read_text(encoding="utf-8")
    table = html[html.index('id="kl-ranking"'):]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table[:table.index("</table>")])
    ranking = read_csv(root / "reports" / "municipality_profile" / f"{outcome.variant}.ranking.csv")
    assert [r["unit"] for r in ranking] == ["persons", "persons/km²", "per 100 inhabitants", "DKK per person"]
    for row in ranking:
        value = float(row["value"])
        assert fmt.number(value, 1 if value < 100 else 0, "da") in cells, (row, cells)


# ---- peers and maps ---------------------------------------------------------------------------------------------

def test_neighbours_come_from_shared_boundaries_and_the_map_puts_each_code_in_its_place():
    from kommunelab import data, geo

    shapes = geo.shapes()
    names = data.municipalities().set_index("municipality_code")["name_da"]
    assert set(shapes.rings) == set(names.index)  # the 98, Christiansø left out
    west = {c: min(x for r in rs for x, _ in r) for c, rs in shapes.rings.items()}
    east = {c: max(x for r in rs for x, _ in r) for c, rs in shapes.rings.items()}
    north = {c: max(y for r in rs for _, y in r) for c, rs in shapes.rings.items()}
    south = {c: min(y for r in rs for _, y in r) for c, rs in shapes.rings.items()}
    assert all(west[400] > east[c] for c in names.index if c != 400)  # Bornholm east of everything
    assert max(north, key=north.get) == 813  # Frederikshavn (Skagen) north of everything
    assert min(south, key=south.get) == 376  # Guldborgsund (Gedser) south of everything
    assert east[101] > east[751] and north[751] > north[101]  # København east of Aarhus, Aarhus north of it
    assert {names[c] for c in shapes.neighbours[270]} == {"Fredensborg", "Halsnæs", "Helsingør", "Hillerød"}
    assert {names[c] for c in shapes.neighbours[147]} == {"København"}  # Frederiksberg lies inside København
    assert shapes.neighbours[400] == shapes.neighbours[825] == frozenset()  # Bornholm, Læsø: islands
    assert all(a in shapes.neighbours[b] for a in shapes.neighbours for b in shapes.neighbours[a])  # symmetric


def test_the_profile_compares_with_its_peers_and_shows_the_map(native_built):
    from kommunelab import profile

    root, built = native_built
    outcome = built["municipality_profile"]
    html = (root / "reports" / outcome.outputs["html"]).read_text(encoding="utf-8")
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Gribskovs naboer" in text and "Fredensborg, Halsnæs, Helsingør og Hillerød" in text
    p = profile.profile(270, 2021)
    peers = profile.peers(p)
    assert len(peers.size_class) == 34 and "Svendborg" in text  # the size class named
    rows = read_csv(root / "reports" / "municipality_profile" / f"{outcome.variant}.peers-table.csv")
    assert [r["area"] for r in rows][:5] == ["Gribskov", "Fredensborg", "Halsnæs", "Helsingør", "Hillerød"]
    assert float(rows[0]["population growth since 2008 (%)"]) == round(100 * (40971 / 40512 - 1), 1)
    map_rows = read_csv(root / "reports" / "municipality_profile" / f"{outcome.variant}.map.csv")
    assert len(map_rows) == 98
    assert 'id="kl-map"' in html and 'id="kl-peers"' in html and 'id="kl-peers-table"' in html


def test_an_island_profile_says_it_has_no_neighbour(island_profile_text):
    text = island_profile_text
    assert "Bornholm shares no boundary with another municipality." in text
    assert "Bornholm and the median of its size class (the shaded band" in text  # no neighbours named in a caption
    assert "Bornholm, its neighbours" not in text


@pytest.fixture(scope="module")
def island_profile_text(tmp_path_factory):
    from kommunelab.engine.build import BuildOptions, build, exit_code

    from .conftest import copy_project

    root = copy_project(tmp_path_factory.mktemp("island") / "project")
    mp = pytest.MonkeyPatch()
    mp.setenv("KOMMUNELAB_ROOT", str(root))
    out = io.StringIO()
    outcomes = build(["municipality_profile"], {"municipality": "400"}, False,
                     BuildOptions(formats=("html",), jobs=1, languages=("en",)), out=out)
    mp.undo()
    assert exit_code(outcomes) == 0, out.getvalue()
    html = (root / "reports" / outcomes[0].outputs["html"]).read_text(encoding="utf-8")
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_index_map_links_each_profile_with_its_name():
    from kommunelab.engine.publish.index import render_index
    from kommunelab.manifest import load_manifest
    from kommunelab.records import BuildRecord, Outcome

    places = [("101", "København"), ("270", "Gribskov"), ("400", "Bornholm"), ("813", "Frederikshavn")]
    records = tuple(Outcome(report="municipality_profile", variant=f"language-da_municipality-{code}",
                            title=f"{n} profile", label=n, params={"municipality": code, "year": 2021, "language": "da"},
                            status="built", outputs={"html": f"municipality_profile/m-{code}.html"})
                    for code, n in places)
    html = render_index(BuildRecord(generated="2026-11-29T10:00:00+00:00", git_revision="abc", variants=records),
                        load_manifest(), code="da")
    svg = html[html.index('<svg class="kl-map"'):html.index("</svg>")]
    links = re.findall(r'<a href="([^"]+)" data-code="(\d+)"><title>([^<]+)</title><path d="([^"]+)"', svg)
    assert {(code, name) for _, code, name, _ in links} == set(places)
    xs = {code: [float(x) for x in re.findall(r"[ML]([\d.]+),", d)] for _, code, _, d in links}
    ys = {code: [float(y) for y in re.findall(r",([\d.]+)", d)] for _, code, _, d in links}
    assert min(xs["400"]) > max(max(v) for c, v in xs.items() if c != "400")  # Bornholm drawn east of the rest
    assert min(ys["813"]) < min(min(v) for c, v in ys.items() if c != "813")  # Frederikshavn on top (y down)
    assert svg.count("<path") == 98


# ---- layout at every width and on paper ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def open_page():
    """Load a page in a headless Chromium at a width and return what page_problems() finds."""
    def look(browser, path: Path, width: int) -> list[str]:
        page = browser.new_page(viewport={"width": width, "height": 900})
        try:
            page.goto(path.resolve().as_uri(), wait_until="load")
            return page_problems(page)
        finally:
            page.close()

    with chromium_thread() as run:
        yield lambda *args: run(look, *args)


@pytest.mark.parametrize("width", [1280, 390])
def test_every_report_and_the_index_read_whole_at_desktop_and_phone_width(native_built, open_page, width):
    """No text sticks out of the page or is clipped (a wide table scrolls in its box), no word is broken inside
    (only at a space, hyphen or slash), no chart text is under 9 px."""
    root, built = native_built
    pages = [root / "reports" / o.outputs["html"] for o in built.values()] + [root / "reports" / "index.html"]
    problems = {p.name: open_page(p, width) for p in pages}
    assert not any(problems.values()), {k: v[:6] for k, v in problems.items() if v}


def test_every_pdf_page_is_filled_and_no_table_header_is_left_alone(native_built):
    root, built = native_built
    for report, outcome in built.items():
        html = (root / "reports" / outcome.outputs["html"]).read_text(encoding="utf-8")
        assert pdf_problems(root / "reports" / outcome.outputs["pdf"], html) == [], report


def test_the_layout_checks_find_what_they_look_for(open_page, tmp_path):
    """Each check fails on a page made to fail it: a word broken in a narrow cell, text clipped, chart text of 6 px,
    a table header alone at a page's foot and a nearly empty page."""
    from kommunelab.chromium import find_chromium
    from kommunelab.engine.render import close_printer, html_to_pdf

    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><body><table style="width:60px"><tr><td style="overflow-wrap:anywhere">'
        "Erhvervsindkomstgrundlaget</td></tr></table>"
        '<p style="width:50px;overflow:hidden;white-space:nowrap">kommunalbestyrelsen</p>'
        '<svg viewBox="0 0 600 100" style="width:300px"><text x="0" y="50" style="font-size: 12px">lille</text></svg>'
        "</body></html>", encoding="utf-8")
    found = open_page(page, 390)
    assert any(p.startswith("word broken inside: \"Erhvervsindkomstgrundlaget\"") for p in found), found
    assert any(p.startswith("clipped: p") for p in found), found
    assert any(p.startswith("chart text of 6.0 px") for p in found) and MIN_TEXT_PX == 9, found
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium")
    paper = tmp_path / "paper.html"  # printed: a header row ending page 2, its rows on page 3 (Chromium itself
    # keeps a real <thead> with its first row, so the printed page sets the header as a paragraph)
    paper.write_text(
        "<!DOCTYPE html><html><head><style>@page { size: A4; margin: 16mm 14mm; }</style></head><body>"
        "<p>Én linje.</p><div style='break-before: page; height: 240mm'>fyld</div><p>Kommune Indbyggere</p>"
        "<p style='break-before: page'>Gribskov 40.971</p></body></html>", encoding="utf-8")
    report = ('<figure class="kl-table"><table><thead><tr><th>Kommune</th><th>Indbyggere</th></tr></thead>'
              "<tbody><tr><td>Gribskov</td><td>40.971</td></tr></tbody></table></figure>")  # what the report holds
    try:
        html_to_pdf(paper, tmp_path / "paper.pdf", chromium, scratch=tmp_path / "scratch")
    finally:
        close_printer()
    problems = pdf_problems(tmp_path / "paper.pdf", report)
    assert any(p.startswith("page 1 of 3 is") for p in problems), problems
    assert "page 2 ends with a table's header: 'Kommune Indbyggere'" in problems, problems


# ---- JupyterLab: cross-references read correctly before the export numbers them ---------------------------------

def test_a_reference_to_a_figure_further_down_reads_correctly_in_jupyterlab():
    """Before the export numbers them, the profile's opening reads "see the notes to the figure below and the table
    below" (it read "see the notes to below and below"); once numbered, "Figure 2" and "Table 1"."""
    from kommunelab import session
    from kommunelab.i18n import using
    from kommunelab.report import _number, ref

    session.reset()
    with using("en"):
        text = f"see the notes to {ref('unemployment', 'figure')} and {ref('ranking', 'table')}"
        assert text == ("see the notes to [the figure below](#kl-unemployment) and [the table below](#kl-ranking)")
        _number("figure", "population"), _number("figure", "unemployment")
        assert ref("unemployment", "figure") == "[Figure 2](#kl-unemployment)"
        with pytest.raises(ValueError, match="names figure 2, not a table"):
            ref("unemployment", "table")
    with using("da"):
        assert ref("ranking", "table") == "[tabellen nedenfor](#kl-ranking)"
    session.reset()


def test_drift_json_keeps_a_history_up_to_its_limit():
    from kommunelab.engine.publish import DRIFT_HISTORY, drift_record

    record: dict = {"generated": "t0", "changes": [{"id": "a"}]}  # as written before there was a history
    record = drift_record(record, "t1", "rev", [])  # a build that changed nothing adds nothing
    assert [e["generated"] for e in record["history"]] == ["t0"] and record["changes"] == []
    for i in range(2, 2 * DRIFT_HISTORY + 10):
        record = drift_record(record, f"t{i}", "rev", [{"id": f"c{i}"}] if i % 2 else [])
    history = [e["generated"] for e in record["history"]]
    assert len(history) == DRIFT_HISTORY and history[0] == f"t{2 * DRIFT_HISTORY + 9}" and "t0" not in history
    assert json.loads(json.dumps(record)) == record


def test_an_index_of_four_thousand_variants_groups_them(reference):
    """Issue 25, point 3: every municipality x 14 years x 3 languages (4,116 records): each index lists the profiles
    as 98 items, one per municipality with its years as links (not 1,372 lines); the filter still finds a municipality
    by any spelling; the map links each municipality once, to its default year. (Its time is measured in bench/.)"""
    from kommunelab import data
    from kommunelab.engine.publish.index import render_indexes
    from kommunelab.manifest import load_manifest
    from kommunelab.records import BuildRecord, Outcome

    munis = data.municipalities()
    records = tuple(
        Outcome(report="municipality_profile", variant=f"language-{lang}_municipality-{code}_year-{year}",
                title=f"{name} {year}", label=f"{name}, {year}", detail=region, status="built",
                params={"municipality": str(code), "year": year, "language": lang},
                outputs={"html": f"municipality_profile/language-{lang}_municipality-{code}_year-{year}.html"})
        for lang in ("da", "en", "nb") for year in range(2008, 2022)
        for code, name, region in zip(munis["municipality_code"], munis["name_da"], munis["region_name"], strict=True))
    assert len(records) == 4116
    pages = render_indexes(BuildRecord(generated="2026-11-29T10:00:00+00:00", git_revision="abc", variants=records),
                           load_manifest(), None, "da")
    assert set(pages) == {"index.html", "index.en.html", "index.nb.html"}
    html = pages["index.html"]
    groups = re.findall(r'<li class="group" data-search="([^"]*)"><strong>([^<]+)</strong>(.*?)</li>', html, re.S)
    assert len(groups) == 98
    found = {name: (terms, body) for terms, name, body in groups}
    terms, body = found["København"]
    assert {"101", "kobenhavn", "copenhagen"} <= set(terms.split())
    assert re.findall(r">(\d{4})</a>", body) == [str(y) for y in range(2008, 2022)]
    assert 'href="municipality_profile/language-da_municipality-101_year-2021.html"' in body
    svg = html[html.index('<svg class="kl-map"'):html.index("</svg>")]
    assert svg.count('data-code="') == 98 and 'href="municipality_profile/language-da_municipality-270_year-2021' \
        '.html" data-code="270"' in svg  # the default year (2021)


def test_the_pdf_links_nothing_into_the_closed_origin_it_was_printed_from(native_built):
    """A link to a CSV beside the report is relative; printed, it would point to the print origin (a dead address).
    Without a site address the PDF keeps the file names as text (the provenance says where they are)."""
    from pypdf import PdfReader

    from kommunelab.engine.render import PRINT_ORIGIN

    root, built = native_built
    for report, outcome in built.items():
        uris = [annot.get_object().get("/A", {}).get("/URI", "") for page in
                PdfReader(root / "reports" / outcome.outputs["pdf"]).pages for annot in page.get("/Annots") or []]
        assert not [u for u in uris if u.startswith(PRINT_ORIGIN)], (report, uris[:5])


def test_a_csv_cell_is_never_a_spreadsheet_formula():
    """A name in the data that starts like a formula is written as text in every CSV (findings and figures)."""
    import pandas as pd

    from kommunelab import session
    from kommunelab.records import findings_csv, spreadsheet_safe
    from kommunelab.report import _data

    from .conftest import a_finding

    assert spreadsheet_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [spreadsheet_safe(v) for v in ("@SUM(A1)", "+1+1", "-2.5", -3, "Gribskov")] == [
        "'@SUM(A1)", "'+1+1", "-2.5", -3, "Gribskov"]
    rows = read_csv_text(findings_csv([a_finding(statement="=1+1", value_text="-0.5")]))
    assert rows[0]["statement"] == "'=1+1" and rows[0]["value_text"] == "-0.5"
    session.reset()
    _link, carried = _data("hostile", pd.DataFrame({"=name": ["=cmd|' /C calc'!A0", "Aarhus"], "value": [-1.5, 2]}))
    rows = read_csv_text(next(iter(carried.values()))["csv"])
    assert rows == [{"'=name": "'=cmd|' /C calc'!A0", "value": "-1.5"}, {"'=name": "Aarhus", "value": "2.0"}]
    session.reset()


def read_csv_text(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))
