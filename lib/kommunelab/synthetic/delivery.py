"""The stand-ins written as a research centre would deliver them (``kommunelab synthetic --delivery DIR``): an SPSS
.sav for COI and for KORA's two tables, a Stata .dta for KS, an Excel sheet for KL; Danish variable names and labels
(Norwegian for KS, kommunelab.data.tables.QUESTIONS), numeric codes with value labels, declared missing codes
("don't know" 98, "refused" 99) in place of the stand-ins' blanks, the weight under its own name; and beside them
the codebook that maps them back and marks the delivery synthetic. Read through that codebook, every table equals
the stand-in it came from (a test checks it), so every report gives the same findings from either.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tomlkit

from ..data.schema import read_validated
from ..data.tables import QUESTIONS, SURVEY_TABLES
from ..delivery.codebook import CODEBOOK, UNITS, coded_column
from ..records import Reason
from ..survey import synthetic_dir

# table: (file, language) as the research centres would deliver them
FILES = {"coi_workplaces": ("coi_innovationsbarometer_2015-16.sav", "da"),
         "kora_heads": ("kora_civilsamfund_2015_chefer.sav", "da"),
         "kora_collaborations": ("kora_civilsamfund_2015_samarbejder.sav", "da"),
         "ks_units": ("ks_innovasjonsbarometer_2018.dta", "no"),
         "kl_collaborations": ("kl_samarbejder_2017.xlsx", "da")}
WORDS = {"da": {"yes": "Ja", "no": "Nej", Reason.DONT_KNOW: "Ved ikke", Reason.REFUSED: "Ønsker ikke at svare",
                Reason.NOT_ASKED: "Ikke stillet"},
         "no": {"yes": "Ja", "no": "Nei", Reason.DONT_KNOW: "Vet ikke", Reason.REFUSED: "Ønsker ikke å svare",
                Reason.NOT_ASKED: "Ikke spurt"}}
MISSING_CODES = {Reason.NOT_ASKED: 97, Reason.DONT_KNOW: 98, Reason.REFUSED: 99}
# A blank in a row whose filter question is 0 (a head who did not answer, a unit that did not innovate) was a
# question not asked; any other blank is delivered as "don't know" or "refused", alternately.
FILTERS = {"kora_heads": "responded", "coi_workplaces": "innovated", "ks_units": "innovated"}


def _reasons(table: str, frame: pd.DataFrame, values: pd.Series) -> list[Reason | None]:
    """Why each blank of ``values`` is missing, as the delivery codes it (FILTERS)."""
    skipped = frame[FILTERS[table]].eq(0).fillna(False).to_numpy() if table in FILTERS else np.zeros(len(frame), bool)
    return [None if pd.notna(v) else Reason.NOT_ASKED if skip else (Reason.DONT_KNOW if i % 2 == 0 else Reason.REFUSED)
            for i, (v, skip) in enumerate(zip(values, skipped, strict=True))]


def _encode(table: str, frame: pd.DataFrame, language: str, as_text: bool) -> tuple[pd.DataFrame, dict, dict]:
    """(delivered frame, {variable: {code: label}}, codebook columns) for one table. ``as_text`` writes labels instead
    of codes (an Excel sheet carries no value labels)."""
    words = WORDS[language]
    out, value_labels, columns = {}, {}, {}
    for column in frame.columns:
        variable, _ = QUESTIONS[table][column]
        values = frame[column]
        if not coded_column(table, column):
            out[variable] = values.astype(object).where(values.notna(), None)
            columns[column] = {"variable": variable}
            continue
        yes_no = SURVEY_TABLES[table].column(column).allowed == (0, 1)
        categories = [1, 0] if yes_no else sorted(values.dropna().unique(), key=str)
        labels = {c: (words["yes"] if c == 1 else words["no"]) if yes_no else str(c) for c in categories}
        codes = {c: i + 1 for i, c in enumerate(categories)}
        reasons = _reasons(table, frame, values)
        if as_text:
            out[variable] = [words[r] if r else labels[v] for v, r in zip(values, reasons, strict=True)]
            mapping = {labels[c]: int(c) if yes_no else str(c) for c in categories}
            missing = {r: [words[r]] for r in MISSING_CODES}
        else:
            out[variable] = [MISSING_CODES[r] if r else codes[v] for v, r in zip(values, reasons, strict=True)]
            value_labels[variable] = {**{codes[c]: labels[c] for c in categories},
                                      **{MISSING_CODES[r]: words[r] for r in MISSING_CODES}}
            mapping = {str(codes[c]): int(c) if yes_no else str(c) for c in categories}
            missing = {r: [str(code)] for r, code in MISSING_CODES.items()}
        columns[column] = {"variable": variable, "codes": mapping, **{r.value: missing[r] for r in MISSING_CODES}}
    return pd.DataFrame(out), value_labels, columns


def _numeric(column: pd.Series) -> pd.Series:
    """A column of numbers (and blanks) as a numeric column; text (Norwegian zero-padded codes) stays text."""
    def number(value) -> bool:
        return value is None or isinstance(value, int | float | np.integer | np.floating)

    return pd.to_numeric(column) if column.map(number).all() else column


def write_delivery(folder: Path) -> Path:
    """Write the delivery and its codebook into ``folder`` (created; existing files of the same names replaced)."""
    import pyreadstat

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    book = tomlkit.document()
    book.add(tomlkit.comment("Written by `kommunelab synthetic --delivery`: the project's synthetic stand-ins, "
                             "delivered as a research centre would."))
    book["title"] = "kommunelab synthetic stand-ins, in the formats and codes of a research centre's delivery"
    book["sources"] = ["generated by kommunelab.synthetic (data/synthetic/README.md); not survey data"]
    book["licences"] = ["MIT (the project's)"]
    book["synthetic"] = True
    tables = tomlkit.table()
    for table, (name, language) in FILES.items():
        frame = read_validated(synthetic_dir() / f"{table}.csv", SURVEY_TABLES[table])
        path = folder / name
        as_text = path.suffix == ".xlsx"
        data, value_labels, columns = _encode(table, frame, language, as_text)
        labels = {QUESTIONS[table][c][0]: QUESTIONS[table][c][1] for c in frame.columns}
        if path.suffix == ".sav":
            missing = {v: sorted(MISSING_CODES.values()) for v in value_labels}
            pyreadstat.write_sav(data.apply(_numeric), str(path), column_labels=labels,
                                 variable_value_labels=value_labels, missing_ranges=missing)
        elif path.suffix == ".dta":
            pyreadstat.write_dta(data.apply(_numeric), str(path), column_labels=labels,
                                 variable_value_labels=value_labels)
        else:
            data.to_excel(path, sheet_name="Data", index=False)
        spec = tomlkit.table()
        spec["file"] = name
        spec["unit"] = UNITS[table]
        if as_text:
            spec["sheet"] = "Data"
        cols = tomlkit.table()
        for column, mapping in columns.items():
            entry = tomlkit.inline_table()
            entry.update(mapping)
            cols[column] = entry
        spec["columns"] = cols
        tables[table] = spec
    book["tables"] = tables
    target = folder / CODEBOOK
    target.write_text(tomlkit.dumps(book), encoding="utf-8")
    return target
