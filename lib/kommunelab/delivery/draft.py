"""``kommunelab microdata init PATH``: a draft codebook for a delivery, from what its files say about themselves.

Each file is matched to the survey table whose columns its variables match best; each column to the variable whose
name or label matches the question (kommunelab.data.tables.QUESTIONS, in Danish or Norwegian) or the column's
English name; each code to an answer by its value label ("Ja"/"Yes" -> 1, a category's name -> that category) or
to a reason ("Ved ikke", "Ønsker ikke at svare", "Ikke stillet"). What cannot be matched is written FILL IN and
listed: the analyst decides it, and ``kommunelab microdata check`` refuses the codebook until every FILL IN is gone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from ..data.schema import read_validated
from ..data.tables import QUESTIONS, SURVEY_TABLES
from ..errors import DataError
from ..records import Reason
from .codebook import CODEBOOK, PLACEHOLDER, UNITS, coded_column
from .formats import FORMATS, Source, code_key, read_source
from .stand_in import stand_in_path

YES = {"ja", "yes", "j", "y"}
NO = {"nej", "nei", "no", "n"}
REASON_WORDS = {
    Reason.DONT_KNOW: ("ved ikke", "vet ikke", "don't know", "dont know", "do not know", "usikker"),
    Reason.REFUSED: ("ønsker ikke at svare", "ønsker ikke å svare", "vil ikke svare", "refused", "nægter",
                     "prefer not to say"),
    Reason.NOT_ASKED: ("ikke stillet", "ikke spurt", "not asked", "ikke relevant", "not applicable", "filtreret"),
}
MATCH = 0.5  # the least similarity at which a variable is proposed for a column


@dataclass(frozen=True)
class Draft:
    path: Path
    mapped: dict[str, list[str]]  # table: the columns it found a variable for
    decisions: list[str]  # what the analyst must still decide, one line each


def _words(text: str) -> set[str]:
    text = unicodedata.normalize("NFKC", str(text)).lower().replace("_", " ")
    return {w for w in re.findall(r"[a-zæøå0-9]+", text) if len(w) > 1}


def _similarity(variable: str, label: str, table: str, column: str) -> float:
    name, question = QUESTIONS[table][column]
    if variable.lower() == name.lower():
        return 1.0
    ours, theirs = _words(question) | _words(column), _words(label) | _words(variable)
    if not ours or not theirs:
        return 0.0
    return len(ours & theirs) / min(len(ours), len(theirs))


def _propose_columns(source: Source, table: str) -> dict[str, str]:
    """{column: variable}: the best variable for each column, each variable used once, at MATCH or above."""
    scores = sorted(((_similarity(v.name, v.label, table, c), c, v.name) for c in SURVEY_TABLES[table].names
                     for v in source.variables.values()), reverse=True)
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for score, column, variable in scores:
        if score >= MATCH and column not in chosen and variable not in used:
            chosen[column] = variable
            used.add(variable)
    return chosen


def _categories(table: str, column: str) -> list[str]:
    col = SURVEY_TABLES[table].column(column)
    if col.allowed is not None:
        return [str(a) for a in col.allowed]
    path = stand_in_path(table)  # the categories the stand-in uses are the project's names for them
    if path.is_file():
        return sorted(read_validated(path, SURVEY_TABLES[table])[column].dropna().astype(str).unique())
    return []


def _propose_codes(source: Source, variable: str, table: str, column: str) -> tuple[dict, dict, list[str]]:
    """(codes, reasons, undecided codes) for a coded column, from value labels (or the values themselves)."""
    var = source.variables[variable]
    labels = {code_key(k): str(v) for k, v in var.value_labels.items()}
    seen = {code_key(v) for v in source.frame[variable].dropna() if str(v).strip()}
    for code in seen - set(labels):
        labels[code] = code  # a text file's values are their own labels
    yes_no = SURVEY_TABLES[table].column(column).allowed == (0, 1)
    categories = {c.lower(): c for c in _categories(table, column)}
    codes, reasons, undecided = {}, {}, []
    for code, label in sorted(labels.items()):
        text = label.strip().lower()
        reason = next((r for r, words in REASON_WORDS.items() if text in words), None)
        if reason is not None:
            reasons.setdefault(reason.value, []).append(code)
        elif yes_no and text in YES:
            codes[code] = 1
        elif yes_no and text in NO:
            codes[code] = 0
        elif not yes_no and text in categories:
            codes[code] = categories[text]
        else:
            codes[code] = PLACEHOLDER
            undecided.append(f"{code} ({label!r})" if label != code else code)
    for code in var.missing:  # declared missing by the file, with a label that names no reason
        if code not in {c for cs in reasons.values() for c in cs}:
            codes.pop(code, None)
            undecided = [u for u in undecided if not u.startswith(f"{code} ")]
            reasons.setdefault(Reason.DONT_KNOW.value, []).append(code)
            undecided.append(f"{code} (declared missing; filed under dont_know: check the reason)")
    return codes, reasons, undecided


def draft_codebook(path: str | Path) -> Draft:
    """Write a draft ``kommunelab-codebook.toml`` for the delivery in ``path`` (a folder or one of its files)."""
    path = Path(path).expanduser().resolve()
    folder = path.parent if path.is_file() else path
    target = folder / CODEBOOK
    if target.exists():
        raise DataError(str(target), "already exists; edit it instead of writing a new draft")
    files = [path] if path.is_file() else sorted(p for p in folder.iterdir() if p.suffix.lower() in FORMATS)
    if not files:
        raise DataError(str(folder), f"holds no file kommunelab reads ({', '.join(FORMATS)})")
    book = tomlkit.document()
    book.add(tomlkit.comment("Draft written by `kommunelab microdata init`: check every mapping, decide each FILL IN, "
                             "then run `kommunelab microdata check`."))
    book["title"] = f"{PLACEHOLDER}: what this delivery is (survey, year, who collected it)"
    book["sources"] = [f"{PLACEHOLDER}: who delivered it, and when"]
    book["licences"] = [f"{PLACEHOLDER}: the terms of use"]
    tables = tomlkit.table()
    decisions, mapped = [], {}
    for file in files:
        source = read_source(file)
        proposals = {t: _propose_columns(source, t) for t in SURVEY_TABLES}
        best = max(proposals, key=lambda t: len(proposals[t]))
        columns = proposals[best]
        if len(columns) < 2 or best in mapped:
            decisions.append(f"{file.name}: matches no survey table well enough; map it by hand if it is one")
            continue
        mapped[best] = list(columns)
        spec = tomlkit.table()
        spec["file"] = file.name
        spec["unit"] = UNITS[best]
        cols = tomlkit.table()
        for column in SURVEY_TABLES[best].names:
            entry = tomlkit.inline_table()
            variable = columns.get(column)
            if variable is None:
                entry["variable"] = PLACEHOLDER
                decisions.append(f"{best}.{column}: no variable matches ({QUESTIONS[best][column][1]!r}); name it")
            else:
                entry["variable"] = variable
                if coded_column(best, column):
                    codes, reasons, undecided = _propose_codes(source, variable, best, column)
                    entry["codes"] = codes
                    entry.update(reasons)
                    if undecided:
                        decisions.append(f"{best}.{column} ({variable}): decide code(s) {', '.join(undecided)}")
            cols[column] = entry
        spec["columns"] = cols
        tables[best] = spec
    book["tables"] = tables
    decisions.insert(0, "title, sources and licences: say what the delivery is, who it is from and on what terms")
    target.write_text(tomlkit.dumps(book), encoding="utf-8")
    return Draft(target, mapped, decisions)
