"""The codebook: one TOML file beside a delivery, the only place where the analyst's names meet the project's.

    title = "COI innovationsbarometer 2015-16, microdata"
    sources = ["Center for Offentlig Innovation, delivered 2026-11-02"]
    licences = ["for this analysis only, under the data agreement of ..."]
    synthetic = false                      # true only for the project's own stand-ins

    [tables.coi_workplaces]
    file = "coi_2016.sav"                  # inside the delivery's folder
    unit = "workplace"                     # what one row is
    # sheet = "Data"; delimiter = ";"; encoding = "cp1252"; decimal = ","   (Excel and CSV, when not detected)

    [tables.coi_workplaces.columns.innovated]
    variable = "spm1_innovation"
    codes = { "1" = 1, "2" = 0 }           # the file's code -> the project's value
    dont_know = ["8"]                      # item non-response, by reason (left out of every estimate)
    refused = ["9"]
    not_asked = ["97"]

A column without ``codes`` passes its values through (ids, weights, municipality codes). Every column of every
table a delivery gives must be mapped; a code seen in the file that is neither mapped nor a reason is an error.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..data.tables import SURVEY_TABLES
from ..errors import DataError
from ..records import Reason
from .formats import code_key

CODEBOOK = "kommunelab-codebook.toml"
PLACEHOLDER = "FILL IN"
REASON_KEYS = tuple(r.value for r in Reason if r is not Reason.BLANK)


@dataclass(frozen=True)
class ColumnMap:
    column: str  # the project's column
    variable: str  # the delivery's variable
    codes: dict | None  # {code as text: the project's value}; None passes values through
    reasons: dict  # {code as text: Reason}


@dataclass(frozen=True)
class TableMap:
    table: str
    file: str
    unit: str
    columns: tuple[ColumnMap, ...]
    sheet: str | int | None = None
    delimiter: str = ""
    encoding: str = ""
    decimal: str = ""


@dataclass(frozen=True)
class Codebook:
    path: Path
    title: str
    sources: tuple[str, ...]
    licences: tuple[str, ...]
    synthetic: bool
    tables: dict[str, TableMap]

    @property
    def folder(self) -> Path:
        return self.path.parent


# What one row of each survey table is (a codebook may say it in its own words).
UNITS = {"coi_workplaces": "workplace", "kora_heads": "invited department head", "kora_collaborations":
         "collaboration", "ks_units": "unit (workplace)", "kl_collaborations": "collaboration"}
# Survey columns a delivery gives as codes (answers and categories), not as values (ids, codes, counts, weights).
PASS_THROUGH = frozenset({"municipality_code", "county_code", "region_code", "weight", "civil_partners", "established"})


def coded_column(table: str, column: str) -> bool:
    col = SURVEY_TABLES[table].column(column)
    return not (column.endswith("_id") or column in PASS_THROUGH) and (col.kind == "str" or col.allowed is not None)


def read_codebook(path: Path) -> Codebook:
    """The codebook at ``path``, checked: known tables, every column mapped, no FILL IN left, files inside the folder."""
    path = Path(path)
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(where, f"not valid TOML: {exc}") from None
    for key in ("title", "sources", "licences"):
        if not raw.get(key):
            raise DataError(where, f"lacks '{key}'", hint="say what the delivery is, who it is from and on what terms")
    text = repr({k: raw[k] for k in ("title", "sources", "licences")})
    if PLACEHOLDER in text:
        raise DataError(where, f"still has '{PLACEHOLDER}' in title, sources or licences", hint="fill them in")
    tables = raw.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise DataError(where, "maps no table ([tables.<name>])")
    out = {}
    for name, spec in tables.items():
        if name not in SURVEY_TABLES:
            raise DataError(where, f"[tables.{name}]: no such survey table; known: {', '.join(SURVEY_TABLES)}")
        out[name] = _table(name, spec, path)
    return Codebook(path, str(raw["title"]), tuple(map(str, _list(raw["sources"]))),
                    tuple(map(str, _list(raw["licences"]))), bool(raw.get("synthetic", False)), out)


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def _table(name: str, spec: dict, path: Path) -> TableMap:
    where = f"{path} [tables.{name}]"
    file = spec.get("file")
    if not isinstance(file, str) or not file or PLACEHOLDER in file:
        raise DataError(where, "needs 'file', the delivered file inside this folder")
    if Path(file).is_absolute() or ".." in Path(file).parts or "://" in file:
        raise DataError(where, f"'file' = {file!r} must name a file inside the codebook's folder")
    columns = spec.get("columns") or {}
    schema = SURVEY_TABLES[name]
    missing = [c for c in schema.names if c not in columns]
    if missing:
        raise DataError(where, f"maps no variable to {', '.join(missing)}",
                        hint=f"add [tables.{name}.columns.<column>] with variable = \"...\" for each")
    unknown = [c for c in columns if c not in schema.names]
    if unknown:
        raise DataError(where, f"unknown column(s) {', '.join(unknown)}; the table's columns: {', '.join(schema.names)}")
    maps = []
    for column in schema.names:
        c = columns[column]
        variable = c.get("variable") if isinstance(c, dict) else None
        if not isinstance(variable, str) or not variable or PLACEHOLDER in variable:
            raise DataError(where, f"column {column!r}: 'variable' must name the delivery's variable")
        codes = c.get("codes")
        if codes is not None and not isinstance(codes, dict):
            raise DataError(where, f"column {column!r}: 'codes' must be a table {{ \"code\" = value }}")
        if codes is not None and any(v == PLACEHOLDER for v in codes.values()):
            raise DataError(where, f"column {column!r}: a code still maps to '{PLACEHOLDER}'")
        reasons = {}
        for reason in REASON_KEYS:
            for code in _list(c.get(reason, [])):
                reasons[code_key(code)] = Reason(reason)
        clash = set(reasons) & set(codes or {})
        if clash:
            raise DataError(where, f"column {column!r}: code(s) {', '.join(sorted(clash))} both an answer and a reason")
        maps.append(ColumnMap(column, variable, None if codes is None else {code_key(k): v for k, v in codes.items()},
                              reasons))
    return TableMap(name, file, str(spec.get("unit", "")), tuple(maps), spec.get("sheet"), spec.get("delimiter", ""),
                    spec.get("encoding", ""), spec.get("decimal", ""))
