"""``kommunelab translations``: extract every reader-facing message, update the catalogs, compile them.

Where messages come from (each written once, in English, where it is used):
- the library and its templates (domain ``kommunelab``): ``_()``, ``N_()`` and ``ngettext()`` in lib/kommunelab,
  ``_()``/``ngettext()`` in the index template; and the categories of the data the project ships (answer codes of
  the survey stand-ins, the indicators of the published tables), shown through :func:`kommunelab.data.category`;
- each report (domain = its id): ``_()`` in its notebook's cells, its entry in reports.toml (title, description,
  source, variant title, the names and choices of its parameters) and its rows of data/published/findings.csv (the
  statement and the published value as words).

``update`` merges what was extracted into ``locale/<language>/LC_MESSAGES/<domain>.po`` for each language the domain
is translated into (a report: its ``language`` choices; the library: all of them) and compiles them; ``check``
says what is missing, untranslated, fuzzy or obsolete and changes nothing (tests/test_i18n.py runs it).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po, write_po

from .i18n import LIBRARY_DOMAIN, SOURCE, catalog_dir, compile_catalogs, language_name
from .manifest import load_manifest
from .paths import library_dir, project_root

# Survey columns whose values are identifiers, not categories a reader sees
NOT_CATEGORIES = {"stratum", "municipality_code", "county_code", "size_class"}  # (size classes: fmt)
PUBLISHED_CATEGORIES = {"nordic_municipal_innovation.csv": "indicator", "ks_value_forms.csv": "value_form",
                        "ks_sector_rates.csv": "sector"}


@dataclass
class Messages:
    """What one domain's catalog must hold: msgid (or (singular, plural)) -> where it was found."""

    domain: str
    languages: tuple[str, ...]
    found: dict[str | tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, message, where: str) -> None:
        if isinstance(message, tuple):
            message = tuple(m for m in message if m)  # ngettext's count argument is not a message
            message = message[0] if len(message) == 1 else message[:2]
        if message:
            self.found.setdefault(message, []).append(where)


def _from_python(source: str, where: str, messages: Messages) -> None:
    for lineno, message, _comments, _context in extract("python", io.BytesIO(source.encode("utf-8")),
                                                       keywords=DEFAULT_KEYWORDS):
        messages.add(message, f"{where}:{lineno}")


def _from_jinja(path: Path, messages: Messages) -> None:
    from jinja2.ext import babel_extract

    with path.open("rb") as fh:
        for lineno, _function, message, _comments in babel_extract(fh, DEFAULT_KEYWORDS, [],
                                                                   {"extensions": "jinja2.ext.i18n"}):
            messages.add(message, f"{path.name}:{lineno}")


def library_messages(languages: tuple[str, ...]) -> Messages:
    from .data.tables import SURVEY_TABLES

    messages = Messages(LIBRARY_DOMAIN, languages)
    root = library_dir()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            _from_python(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix(), messages)
    _from_jinja(root / "templates" / "index.html.j2", messages)
    project = project_root()
    for table, schema in SURVEY_TABLES.items():  # the answer codes a reader sees on axes and in tables
        path = project / "data" / "synthetic" / f"{table}.csv"
        columns = [c.name for c in schema.columns if c.kind == "str" and c.name not in NOT_CATEGORIES]
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for column in columns:
                    if row.get(column):
                        messages.add(row[column], f"data/synthetic/{table}.csv:{column}")
    for name, column in PUBLISHED_CATEGORIES.items():
        with (project / "data" / "published" / "tables" / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                messages.add(row[column], f"data/published/tables/{name}:{column}")
    return messages


def report_messages(report) -> Messages:
    messages = Messages(report.id, tuple(code for code in report.languages if code != SOURCE))
    cells = json.loads(report.notebook.read_text(encoding="utf-8"))["cells"]
    for n, cell in enumerate(cells, start=1):
        if cell["cell_type"] == "code":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            _from_python(source, f"{report.notebook.name}:cell {n}", messages)
    where = f"reports.toml:[reports.{report.id}]"
    for text in (report.title, report.description, report.source, report.variant_title):
        messages.add(text, where)
    for name, p in report.parameters.items():
        messages.add(name.replace("_", " "), where)
        for choice in p.choices or ():
            if isinstance(choice, str) and name != "language":
                messages.add(choice.replace("_", " "), where)
    with (project_root() / "data" / "published" / "findings.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["report"] == report.id:
                messages.add(row["statement_en"], f"findings.csv:{row['id']}")
                messages.add(row["published_text"], f"findings.csv:{row['id']}")
                if not row["source"].startswith("http"):  # a source described in words, not an address
                    messages.add(row["source"], f"findings.csv:{row['id']}")
    return messages


def every_domain() -> list[Messages]:
    manifest = load_manifest()
    reports = [report_messages(r) for r in manifest.values() if r.languages]
    languages = tuple(sorted({code for m in reports for code in m.languages}))
    return [library_messages(languages), *reports]


def po_path(language: str, domain: str) -> Path:
    return catalog_dir() / language / "LC_MESSAGES" / f"{domain}.po"


def _template(messages: Messages) -> Catalog:
    template = Catalog(project="kommunelab", domain=messages.domain)
    for message, where in messages.found.items():
        template.add(message, locations=[(w.rsplit(":", 1)[0], None) for w in where[:3]])
    return template


def update(domains: list[Messages] | None = None) -> list[Path]:
    """Merge what was extracted (``domains``, by default extracted now) into every catalog (new messages
    untranslated, gone ones dropped) and compile."""
    written = []
    for messages in domains if domains is not None else every_domain():
        template = _template(messages)
        for code in messages.languages:
            path = po_path(code, messages.domain)
            if path.is_file():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=code, domain=messages.domain)
            else:
                catalog = Catalog(locale=code, domain=messages.domain, project="kommunelab")
            dates = catalog.creation_date, catalog.revision_date
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            catalog.creation_date, catalog.revision_date = dates  # an unchanged catalog is written unchanged
            catalog.fuzzy = False  # the header is reviewed like every entry (a fuzzy header is left out of the .mo)
            catalog.project, catalog.version = "kommunelab", "1"
            catalog.copyright_holder, catalog.msgid_bugs_address = "the kommunelab authors", ""
            catalog.last_translator = "kommunelab maintainers"
            catalog.language_team = f"{language_name(code)} ({code})"
            path.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            write_po(buffer, catalog, width=120, sort_output=True, omit_header=False, include_lineno=False)
            if not path.is_file() or path.read_bytes() != buffer.getvalue():
                path.write_bytes(buffer.getvalue())
                written.append(path)
    compile_catalogs()
    return written


def check(domains: list[Messages] | None = None) -> list[str]:
    """What keeps the catalogs from being complete: a message not in its catalog, an empty or fuzzy translation, a
    translation whose {fields} differ from its message's, an entry no longer used. Empty when complete."""
    import string

    def fields(text: str) -> set[str]:
        try:
            return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError:
            return set()

    problems = []
    for messages in domains if domains is not None else every_domain():
        for code in messages.languages:
            path = po_path(code, messages.domain)
            if not path.is_file():
                problems.append(f"{path}: missing ({len(messages.found)} messages to translate)")
                continue
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=code, domain=messages.domain)
            held = {m.id: m for m in catalog if m.id}
            for message, where in messages.found.items():
                entry = held.get(message)
                key = message[0] if isinstance(message, tuple) else message
                if entry is None:
                    problems.append(f"{path.name} ({code}): not in the catalog: {key!r} ({where[0]})")
                elif entry.fuzzy:
                    problems.append(f"{path.name} ({code}): fuzzy: {key!r}")
                elif not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
                    problems.append(f"{path.name} ({code}): untranslated: {key!r}")
                else:
                    translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
                    for text in translations:
                        if fields(text) - fields(key if not isinstance(message, tuple) else message[1]) - fields(key):
                            problems.append(f"{path.name} ({code}): {{fields}} differ: {key!r}")
            for extra in sorted(set(held) - set(messages.found), key=str):
                problems.append(f"{path.name} ({code}): no longer used: {extra!r}")
    return problems
