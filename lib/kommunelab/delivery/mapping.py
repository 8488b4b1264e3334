"""A delivery read through its codebook: each survey table in the project's columns and codes, with a report of
what was seen (rows, codes seen against codes mapped, item non-response by reason, weighted and unweighted n) and
every problem, one line each, found before any kernel starts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..data.schema import validate_frame
from ..data.tables import SURVEY_TABLES
from ..errors import DataError
from ..records import Reason
from .codebook import Codebook, ColumnMap, TableMap
from .formats import Source, code_key, read_source


@dataclass(frozen=True)
class ColumnReport:
    column: str
    variable: str
    label: str
    codes_seen: dict[str, int]  # {code: rows} for a coded column; empty for a column passed through
    mapped: tuple[str, ...]  # the codes the codebook maps to an answer
    reasons: dict[str, int]  # {reason label: rows}: item non-response by reason


@dataclass(frozen=True)
class TableReport:
    table: str
    file: str
    format: str
    rows: int  # also the unweighted n: every row read is one unit
    weighted_n: float | None
    columns: tuple[ColumnReport, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class MappedTable:
    frame: pd.DataFrame | None  # None when a problem stopped the mapping
    reasons: pd.DataFrame | None  # per cell: the Reason an answer is missing, else None
    report: TableReport


@lru_cache(maxsize=32)
def _source(path: str, mtime_ns: int, size: int, sheet, delimiter: str, encoding: str, decimal: str) -> Source:
    return read_source(Path(path), sheet=sheet, delimiter=delimiter, encoding=encoding, decimal=decimal)


def source_of(book: Codebook, table: TableMap) -> Source:
    path = book.folder / table.file
    if not path.is_file():
        raise DataError(str(book.path), f"[tables.{table.table}] file {table.file!r} is not in {book.folder}")
    stat = path.stat()
    return _source(str(path), stat.st_mtime_ns, stat.st_size, table.sheet, table.delimiter, table.encoding,
                   table.decimal)


def map_table(book: Codebook, table: TableMap) -> MappedTable:
    where = f"{table.file} ({table.table})"
    try:
        source = source_of(book, table)
    except DataError as exc:
        return MappedTable(None, None, TableReport(table.table, table.file, "", 0, None, (), (str(exc),)))
    raw = source.frame
    problems: list[str] = []
    out, why, reports = {}, {}, []
    for cmap in table.columns:
        if cmap.variable not in raw.columns:
            problems.append(f"{where}: variable {cmap.variable!r} (for {cmap.column}) is not in the file; its "
                            f"variables: {', '.join(map(str, list(raw.columns)[:30]))}")
            continue
        values, reasons, report, trouble = _map_column(source, cmap, where)
        out[cmap.column], why[cmap.column] = values, reasons
        reports.append(report)
        problems += trouble
    frame = reasons_frame = None
    if not problems:
        frame = pd.DataFrame(out)
        reasons_frame = pd.DataFrame(why)
        try:
            text = frame.astype(object).where(frame.notna(), None).map(lambda v: None if v is None else str(v))
            frame = validate_frame(text, SURVEY_TABLES[table.table], where)
        except DataError as exc:
            problems.append(str(exc))
            frame = None
    weighted = None
    if frame is not None and "weight" in frame.columns:
        weighted = float(frame["weight"].sum())
    report = TableReport(table.table, table.file, source.format, len(raw), weighted, tuple(reports),
                         tuple(problems))
    return MappedTable(frame, reasons_frame, report)


def _labelled(code: str, labels: dict[str, str]) -> str:
    """A code with its value label, as a message names it: "4 ('Delvist')"."""
    return f"{code} ({labels[code]!r})" if code in labels else code


def _map_column(source: Source, cmap: ColumnMap, where: str) -> tuple[pd.Series, pd.Series, ColumnReport, list[str]]:
    raw = source.frame[cmap.variable]
    variable = source.variables.get(cmap.variable)
    labels = {code_key(k): v for k, v in (variable.value_labels if variable else {}).items()}
    blank = raw.isna() | raw.map(lambda v: isinstance(v, str) and not v.strip())
    keys = pd.Series([None if b else code_key(v) for v, b in zip(raw, blank, strict=True)], index=raw.index,
                     dtype=object)
    reason = pd.Series([Reason.BLANK if k is None else cmap.reasons.get(k) for k in keys], index=raw.index,
                       dtype=object)
    problems = []
    if cmap.codes is not None:
        seen = Counter(k for k in keys if k is not None)
        unmapped = {k: n for k, n in seen.items() if k not in cmap.codes and k not in cmap.reasons}
        for code, n in sorted(unmapped.items(), key=lambda kv: -kv[1]):
            problems.append(f"{where}: variable {cmap.variable!r} ({cmap.column}) has code {_labelled(code, labels)} in {n} "
                            f"row(s), which the codebook neither maps nor calls a reason")
        values = pd.Series([cmap.codes.get(k) if k in cmap.codes else None for k in keys], index=raw.index,
                           dtype=object)
    else:
        seen = {}
        declared = variable.missing if variable else frozenset()
        undeclared = Counter(k for k in keys if k in declared and k not in cmap.reasons)
        for code, n in undeclared.items():
            problems.append(f"{where}: variable {cmap.variable!r} ({cmap.column}) has the file's missing code "
                            f"{_labelled(code, labels)} in {n} row(s); say which reason it is in the codebook")
        values = keys  # as text ("101", "2.5482", "0215"); the schema converts them
    values = pd.Series([None if r is not None else v for v, r in zip(values, reason, strict=True)], index=raw.index,
                       dtype=object)
    counted = Counter(r.label for r in reason if isinstance(r, Reason))
    report = ColumnReport(cmap.column, cmap.variable, variable.label if variable else "", dict(seen),
                          tuple(sorted(cmap.codes or {})), dict(counted))
    return values, reason, report, problems


def map_delivery(book: Codebook) -> dict[str, MappedTable]:
    return {name: map_table(book, table) for name, table in book.tables.items()}
