"""`kommunelab new REPORT`: a new report that builds as it stands: a notebook (kernel, typed parameters cell, setup
cell, tags), its entry in reports.toml, and a findings.csv row to fill in."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from .engine.run.execute import KERNEL_NAME
from .errors import KommunelabError
from .manifest import load_manifest
from .paths import MANIFEST_NAME, project_root, write_atomic

REPORT_ID = re.compile(r"[a-z][a-z0-9_]{1,40}")

SETUP = '''from kommunelab import data, fmt, plots
from kommunelab.i18n import _
from kommunelab.markup import show_md
from kommunelab.report import figure, parameters, provenance, ref

params = parameters("{rid}", globals())
locale = language  # numbers in the report's language
plots.use_house_style()'''

EXAMPLE = '''import matplotlib.pyplot as plt

pop = data.population(level="country")
fig, ax = plt.subplots()
ax.plot(pop["year"], pop["population"] / 1e6, marker="o")
ax.set(xlabel="", ylabel=_("million inhabitants"), title=_("Population of Denmark on 1 January"))
plots.number_axis(ax, "y", locale)
# data=: what the figure draws, columns named with their units; the build writes it as CSV beside the report
figure(fig, _("Population on 1 January. Source: Statistics Denmark, FOLK1A."), label="population",
       data=pop[["year", "population"]].rename(columns={{"population": "population (persons)"}}))
# Text from values: show_md() escapes every value (never an f-string: data could carry markup). Every reader-facing
# text goes through _() (kommunelab.i18n), so `kommunelab translations` finds it for the catalogs.
show_md(_("{{figure}} shows {{inhabitants}} inhabitants in {{year}}."), figure=ref("population", "figure"),
        inhabitants=fmt.number(pop["population"].iloc[-1], 0, locale), year=pop["year"].iloc[-1])
# Record a finding against its published value: add its row to data/published/findings.csv, then
# from kommunelab.findings import finding
# finding("{rid}.my_finding", value, locale=locale)
# Tables: kommunelab.report.show_table(frame, "caption", label="...", data=numbers) numbers and captions them.'''


def new_report(rid: str, title: str | None = None, root: Path | None = None) -> list[Path]:
    """Write notebooks/<rid>.ipynb and add [reports.<rid>] to reports.toml; returns the files written."""
    root = root or project_root()
    if not REPORT_ID.fullmatch(rid):
        raise KommunelabError(f"report id {rid!r}: use lower-case letters, digits and '_', starting with a letter "
                              "(e.g. kl_budget)")
    if rid in load_manifest(root / MANIFEST_NAME):
        raise KommunelabError(f"report {rid!r} already exists in {MANIFEST_NAME}; choose another id")
    notebook = root / "notebooks" / f"{rid}.ipynb"
    if notebook.exists():
        raise KommunelabError(f"{notebook} already exists; choose another id or remove it")
    title = title or rid.replace("_", " ").capitalize()
    if not title.strip() or any(ord(ch) < 32 for ch in title):
        raise KommunelabError("--title: one line of text, without line breaks or control characters")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python (kommunelab)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cells = [
        (nbformat.v4.new_code_cell, '# Parameters: type, default and allowed values are declared in reports.toml '
                                    f'(`kommunelab params {rid}`).\nlanguage: str = "en"', ["parameters"]),
        (nbformat.v4.new_code_cell, SETUP.format(rid=rid), ["remove-cell"]),
        (nbformat.v4.new_code_cell, "show_md(_(" + json.dumps(f"# {_template_text(title)}\nWhat the report asks, and "
                                                              "what it finds.", ensure_ascii=False) + "))", []),
        (nbformat.v4.new_code_cell, EXAMPLE.format(rid=rid), []),
        (nbformat.v4.new_code_cell, "provenance()", ["remove-input"]),
    ]
    for make, source, tags in cells:
        cell = make(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    notebook.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, notebook)
    manifest = root / MANIFEST_NAME
    write_atomic(manifest, with_report_entry(manifest.read_text(encoding="utf-8"), rid, title))
    return [notebook, manifest]


def _template_text(text: str) -> str:
    """``text`` as literal text of a show_md() template (braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")


def with_report_entry(text: str, rid: str, title: str) -> str:
    """reports.toml ``text`` with an entry for a new report, written by a TOML writer (tomlkit): any title, quotes
    and newlines included, stays a title; the rest of the file, comments too, is kept as it was."""
    import tomlkit

    doc = tomlkit.parse(text)
    reports = doc.setdefault("reports", tomlkit.table(is_super_table=True))
    entry = tomlkit.table()
    entry.update({"title": title, "notebook": f"notebooks/{rid}.ipynb",
                  "description": "One line on what the report shows."})
    language = tomlkit.table()
    language.update({"type": "str", "default": "en", "choices": ["en"],
                     "help": "the language of the report's text and numbers (add one to choices once its catalog "
                             "is translated: README, Languages)"})
    parameters = tomlkit.table(is_super_table=True)
    parameters.add("language", language)
    entry.add("parameters", parameters)
    reports.add(rid, entry)
    return tomlkit.dumps(doc)


def finding_row_template(rid: str) -> str:
    """A row for data/published/findings.csv to fill in, valid as it stands (columns in the table's order, the
    target interval its rule gives), so a typo shows up as the one field changed."""
    import csv
    import io

    from .data.tables import TABLES
    from .targets import interval

    value, rule = 50.0, "round:1"
    low, high = interval(rule, value)
    row = {"id": f"{rid}.my_finding", "report": rid, "facts_id": f"{rid.upper()}-01",
           "statement_en": "What the report claims (in English)", "statement_original": "The claim in the report's words",
           "published_value": f"{value:g}", "published_text": f"{value:g}%", "unit": "pct",
           "base": "who or what the figure covers", "year": "2024", "target_rule": rule, "target_low": f"{low:g}",
           "target_high": f"{high:g}", "check": "recomputation", "evidence": "public-data",
           "source": "https://publisher.example/page-with-the-claim", "quote": "The sentence quoted from the source."}
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row[name] for name in TABLES["findings"].names)
    return out.getvalue()
