"""Every table the project reads, declared once (a Schema: columns, key, source, licence) and read one way
(``load_table``): located, validated at the boundary (encoding, separator, columns, types, keys, allowed values),
cached per version of the file, hashed, and recorded for the report's provenance and the build's rebuild key.

Every failure raises DataError naming the file, the row (1-based line number in the file, header = line 1) or
column, and the problem; a missing file is a DataError too, never a bare FileNotFoundError.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, shorten
from ..provenance import record_read, sha256_file


@dataclass(frozen=True)
class Column:
    """One column: its type, and for a number what it counts and the values it can take.

    Every number column says its ``unit`` (``ROW_UNIT`` where another column of the row names it) and its bounds,
    ``minimum`` and ``maximum`` (inclusive; None where a side is open): a value outside them is refused with the
    row, the column and the bounds, so that "1.470" km² read as 1.47, or an IKU of 150, never reaches a report."""

    name: str
    kind: str  # int | float | str | code (zero-padded string of `width` digits)
    width: int | None = None
    nullable: bool = False
    allowed: tuple | None = None
    description: str = ""
    source_name: str = ""  # the header in the source file when it differs (our names are English)
    unit: str = ""  # what a number counts: "persons", "DKK", "km²", "percent", "year", "code", "id", ...
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if self.kind in ("int", "float") and self.allowed is None and not self.unit:
            raise ValueError(f"column {self.name!r}: a number column declares its unit and bounds")


ROW_UNIT = "the row's own unit column"  # e.g. findings.csv's published_value: its unit is in the column `unit`
# A number written with Danish thousands separators ("1.470", "12.345.678") or a decimal comma ("1,5", "1.234,5").
DANISH_THOUSANDS = re.compile(r"^[-−]?[1-9]\d{0,2}(\.\d{3})+$")
DANISH_DECIMAL = re.compile(r"^[-−]?\d{1,3}(\.\d{3})*,\d+$|^[-−]?\d+,\d+$")


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    description: str = ""
    extra_ok: bool = False
    checks: tuple = field(default=())
    # Applied to the frame as read (every cell a string) before it is checked: e.g. a cell that refers to a value
    # kept elsewhere, replaced by that value (kommunelab.data.published).
    prepare: Callable[[pd.DataFrame, str], pd.DataFrame] | None = None
    source: str = ""  # who publishes the table
    source_table: str = ""  # the publisher's name for it (FOLK1A, KLASS 131, ...)
    licence: str = ""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return self.columns[self.names.index(name)]


def _refuse_danish_numbers(s: pd.Series, col: Column, where: str) -> None:
    """A number column written with Danish separators is refused with the fix, never read as something else: "1.470"
    (one thousand four hundred and seventy) would otherwise become 1.47."""
    text = s.dropna().astype(str)
    comma = text[text.str.fullmatch(DANISH_DECIMAL.pattern)]
    if not comma.empty:
        i = int(comma.index[0])
        raise DataError(where, f"{comma.iloc[0]!r} has a decimal comma (Danish number format)", row=i + 2,
                        column=col.name, hint="write numbers with a decimal point and no thousands separators "
                        "(1234.5, not 1.234,5); in a spreadsheet, export as CSV with '.' as the decimal mark")
    dotted = text[text.str.fullmatch(DANISH_THOUSANDS.pattern)]
    decimals = text[~text.index.isin(dotted.index)].str.extract(r"\.(\d+)$")[0].dropna().str.len()
    if not dotted.empty and (col.kind == "int" or decimals.empty or decimals.max() < 3):
        i = int(dotted.index[0])
        raise DataError(where, f"{dotted.iloc[0]!r} looks like a number with a Danish thousands separator "
                        f"({dotted.iloc[0].replace('.', '')}), while the column's other values have at most "
                        f"{0 if decimals.empty else int(decimals.max())} decimal(s)", row=i + 2, column=col.name,
                        hint="write numbers without thousands separators (1470, not 1.470)")


def read_text(path: Path) -> str:
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(str(path), f"not UTF-8 (byte {exc.start}, line {line}); the file may be in Latin-1 or "
                        "Windows-1252", row=line, hint="re-save it as UTF-8") from None


def read_table(path: Path, schema: Schema) -> pd.DataFrame:
    """Read ``path`` as comma-separated UTF-8 and validate it against ``schema``."""
    text = read_text(path)
    header = text.splitlines()[0] if text else ""
    if not header:
        raise DataError(str(path), "empty file")
    if "," not in header and any(sep in header for sep in (";", "\t", "|")):
        sep = next(s for s in (";", "\t", "|") if s in header)
        raise DataError(str(path), f"separated by {sep!r}, expected commas", row=1,
                        hint="convert it to comma-separated CSV")
    dtypes = {name: str for c in schema.columns for name in (c.name, c.source_name) if name}
    try:
        df = pd.read_csv(io.StringIO(text), dtype=dtypes, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise DataError(str(path), f"cannot be parsed as CSV: {shorten(str(exc))}") from None
    if schema.prepare is not None:
        df = schema.prepare(df, str(path))
    return validate_frame(df, schema, str(path))


def validate_frame(df: pd.DataFrame, schema: Schema, where: str) -> pd.DataFrame:
    """Check and convert a frame whose cells are strings (as read) or already typed (as downloaded)."""
    df = df.rename(columns={c.source_name: c.name for c in schema.columns
                            if c.source_name and c.source_name in df.columns and c.name not in df.columns})
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise DataError(where, f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}")
    extra = [c for c in df.columns if c not in schema.names]
    if extra and not schema.extra_ok:
        raise DataError(where, f"unexpected column(s) {', '.join(map(str, extra))}")
    out = pd.DataFrame(index=df.index)
    for col in schema.columns:
        out[col.name] = _convert(df[col.name], col, where)
    out = out.reset_index(drop=True)
    if out.empty:
        raise DataError(where, "no rows: the file has a header and nothing else")
    if schema.key:
        dup = out.duplicated(list(schema.key), keep="first")
        if dup.any():
            i = int(dup.to_numpy().nonzero()[0][0])
            values = ", ".join(f"{k}={out.loc[i, k]}" for k in schema.key)
            raise DataError(where, f"duplicate key ({values})", row=i + 2, column=schema.key[0])
    for check in schema.checks:
        check(out, where)
    return out


def _convert(series: pd.Series, col: Column, where: str) -> pd.Series:
    s = series.astype("string").str.strip() if not pd.api.types.is_numeric_dtype(series) else series
    na = s.isna()
    if na.any() and not col.nullable:
        i = int(na.to_numpy().nonzero()[0][0])
        raise DataError(where, "empty value", row=i + 2, column=col.name)
    if col.kind in ("int", "float"):
        if not pd.api.types.is_numeric_dtype(s):
            _refuse_danish_numbers(s, col, where)
        values = pd.to_numeric(s, errors="coerce")
        bad = values.isna() & ~na
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(where, f"{shorten(repr(series.iloc[i]), 60)} is not a number", row=i + 2, column=col.name)
        infinite = ~np.isfinite(values.astype("float64")) & ~na
        if infinite.any():
            i = int(infinite.to_numpy().nonzero()[0][0])
            raise DataError(where, f"{series.iloc[i]!r} is not a finite number", row=i + 2, column=col.name)
        outside = pd.Series(False, index=values.index)
        if col.minimum is not None:
            outside |= (values < col.minimum).fillna(False)
        if col.maximum is not None:
            outside |= (values > col.maximum).fillna(False)
        if outside.any():
            i = int(outside.to_numpy().nonzero()[0][0])
            low = "…" if col.minimum is None else f"{col.minimum:g}"
            high = "…" if col.maximum is None else f"{col.maximum:g}"
            raise DataError(where, f"{shorten(str(series.iloc[i]), 40)} is outside what {col.name} can be ({low} to "
                            f"{high} {col.unit})", row=i + 2, column=col.name, hint="Check the value and its unit")
        if col.kind == "int":
            frac = values.notna() & (values != values.round())
            if frac.any():
                i = int(frac.to_numpy().nonzero()[0][0])
                raise DataError(where, f"{series.iloc[i]!r} is not a whole number", row=i + 2, column=col.name)
            values = values.astype("Int64" if col.nullable else "int64")
        else:
            values = values.astype("float64")
    elif col.kind == "code":
        values = s.astype("string")
        bad = ~values.str.fullmatch(rf"\d{{{col.width}}}").fillna(False)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(where, f"{series.iloc[i]!r} is not a {col.width}-digit code", row=i + 2, column=col.name)
        values = values.astype(str)
    else:
        values = s.astype(str).where(~na, None)
    if col.allowed is not None:
        bad = ~values.isin(col.allowed) & ~na
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(where, f"{series.iloc[i]!r} is not one of {', '.join(map(str, col.allowed))}",
                            row=i + 2, column=col.name)
    return values


@lru_cache(maxsize=64)
def _validated(path: str, mtime_ns: int, size: int, schema: Schema) -> pd.DataFrame:
    return read_table(Path(path), schema)


def read_validated(path: Path | str, schema: Schema, hint: str = "") -> pd.DataFrame:
    """``path`` read and validated as ``schema``, once per version of the file (a copy; nothing recorded)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), f"{schema.name}: file not found", hint=hint)
    stat = path.stat()
    return _validated(str(path), stat.st_mtime_ns, stat.st_size, schema).copy()


def load_table(path: Path | str, schema: Schema, *, origin: str, hint: str = "", key: str = "", source: str = "",
               table: str = "", licence: str = "", attribution: str = "", retrieved: str = "") -> pd.DataFrame:
    """Read ``path`` as ``schema`` (validated once per version of the file), record it as read, and return a copy
    with ``attrs["provenance"]`` (path, origin, source, table, licence, attribution, sha256, rows, retrieved).
    ``source``, ``table`` and ``licence`` override the schema's (a reference table's come from the snapshot's
    datapackage.json, a survey table's from its package); ``retrieved`` is the date a record gives, never guessed
    from the file's modification time."""
    path = Path(path)
    frame = read_validated(path, schema, hint)
    checksum = sha256_file(path)
    table = table or schema.source_table or schema.name
    source = source or schema.source
    licence = licence or schema.licence
    frame.attrs["provenance"] = {"path": str(path), "origin": origin, "source": source, "table": table,
                                 "licence": licence, "attribution": attribution, "sha256": checksum,
                                 "rows": len(frame), "retrieved": retrieved}
    record_read(str(path), checksum, origin, source, table, key=key, retrieved=retrieved, licence=licence,
                attribution=attribution)
    return frame
