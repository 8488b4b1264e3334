"""Reading a delivery's files as they come: SPSS (.sav, .zsav) and Stata (.dta) with their variable labels, value
labels and declared missing values (pyreadstat); Excel (.xlsx, openpyxl through pandas); CSV with its delimiter,
encoding and decimal mark detected or declared (semicolon, Latin-1 / Windows-1252, decimal comma).

A file is read as it is: raw codes, not labels, and a declared missing value kept as its code (the codebook says
what it means). Nothing here knows the project's columns; kommunelab.delivery.mapping does the meeting.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataError

FORMATS = {".sav": "SPSS", ".zsav": "SPSS (compressed)", ".dta": "Stata", ".xlsx": "Excel", ".csv": "CSV"}
DELIMITERS = ",;\t|"
ENCODINGS = ("utf-8-sig", "cp1252")  # tried in this order when none is declared (cp1252 reads every Latin-1 text)
DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


@dataclass(frozen=True)
class Variable:
    """One variable of a delivered file: its name, label, value labels and the codes declared missing."""

    name: str
    label: str = ""
    value_labels: dict = field(default_factory=dict)  # {code: label}
    missing: frozenset = frozenset()  # codes the file itself declares missing (SPSS user-missing values)


@dataclass(frozen=True)
class Source:
    """A delivered file as read: its raw values and what it says about each variable."""

    path: Path
    format: str
    frame: pd.DataFrame
    variables: dict[str, Variable]
    encoding: str = ""
    delimiter: str = ""
    decimal: str = ""


def code_key(value) -> str:
    """A raw value as the codebook writes it: 1.0 -> "1", "Ja" -> "Ja"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_source(path: Path, *, sheet: str | int | None = None, delimiter: str = "", encoding: str = "",
                decimal: str = "") -> Source:
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), "file not found")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(str(path), f"unknown format {path.suffix!r}; kommunelab reads {', '.join(FORMATS)}")
    if path.suffix.lower() in (".sav", ".zsav", ".dta"):
        return _read_stat(path, kind)
    if path.suffix.lower() == ".xlsx":
        try:
            frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object)
        except (ValueError, KeyError, OSError) as exc:
            raise DataError(str(path), f"cannot be read as Excel: {exc}") from None
        frame = frame.map(lambda v: None if isinstance(v, str) and not v.strip() else v)
        return Source(path, kind, frame, {c: Variable(str(c)) for c in frame.columns})
    return _read_csv(path, delimiter, encoding, decimal)


def _read_stat(path: Path, kind: str) -> Source:
    import pyreadstat

    try:
        if path.suffix.lower() == ".dta":
            frame, meta = pyreadstat.read_dta(str(path), user_missing=True)
        else:
            frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises its own ReadstatError / PyreadstatError for a damaged file
        raise DataError(str(path), f"cannot be read as {kind}: {exc}") from None
    missing_values = getattr(meta, "missing_user_values", None) or {}
    ranges = getattr(meta, "missing_ranges", None) or {}
    variables = {}
    for name in meta.column_names:
        declared = set(missing_values.get(name, ()))
        for r in ranges.get(name, ()):
            if r["lo"] == r["hi"]:
                declared.add(r["lo"])
            else:  # a range: every code the column holds inside it
                col = pd.to_numeric(frame[name], errors="coerce")
                declared.update(col[(col >= r["lo"]) & (col <= r["hi"])].dropna().unique())
        variables[name] = Variable(name, meta.column_names_to_labels.get(name) or "",
                                   dict(meta.variable_value_labels.get(name, {})),
                                   frozenset(code_key(v) for v in declared))
    return Source(path, kind, frame, variables)


def _read_csv(path: Path, delimiter: str, encoding: str, decimal: str) -> Source:
    raw = path.read_bytes()
    text = None
    for candidate in ([encoding] if encoding else ENCODINGS):
        try:
            text = raw.decode(candidate)
            encoding = candidate
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        raise DataError(str(path), f"cannot be decoded as {encoding or ' or '.join(ENCODINGS)}",
                        hint="declare its encoding in the codebook (encoding = \"...\")")
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS).delimiter
        except csv.Error:
            delimiter = ","
    frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_values=[""])
    if not decimal:
        cells = frame.stack()
        decimal = "," if delimiter != "," and cells.astype(str).str.match(DECIMAL_COMMA).any() else "."
    for column in frame.columns:
        values = frame[column]
        if decimal == ",":
            values = values.str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(values, errors="coerce")
        padded = values.dropna().str.match(r"^0\d").any()  # "0215" is a code, not the number 215
        if not padded and numbers.notna().sum() == values.notna().sum():  # every value a number: keep numbers
            frame[column] = numbers
    return Source(path, "CSV", frame, {c: Variable(str(c)) for c in frame.columns}, encoding.replace("-sig", ""),
                  delimiter, decimal)
