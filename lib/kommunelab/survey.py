"""Survey tables (the microdata behind four reports): their schemas, and the folders they are read from.

A folder of survey tables is read in one of two ways. A delivery as analysts hold it (SPSS, Stata, Excel or any CSV)
is read through its codebook, ``kommunelab-codebook.toml`` (kommunelab.delivery): ``kommunelab microdata init DIR``
drafts one, ``kommunelab microdata check DIR`` reports what it reads. A folder of tables already in the project's
columns (CSV, as data/synthetic/) is read through a ``datapackage.json`` (a Frictionless Data Package: name, title,
sources, licences, and one resource per table with its path), and every resource must pass its schema.

Either way a folder is synthetic when it says so (the stand-ins' descriptor and the stand-in delivery's codebook
do, so a copy stays synthetic), when a file is byte-identical to a stand-in file, or when a table's rows
substantially coincide with a stand-in's (kommunelab.delivery.stand_in): a one-digit edit does not make it real.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import pandas as pd

from . import session
from .data.schema import load_table, read_validated
from .data.tables import SURVEY_TABLES
from .delivery.codebook import CODEBOOK
from .delivery.stand_in import coincidence
from .errors import DataError
from .paths import project_root, synthetic_dir  # noqa: F401 (synthetic_dir: part of this module's API)
from .provenance import record_package, record_read, sha256_file
from .records import Reason

DESCRIPTOR = "datapackage.json"
SYNTHETIC_FLAG = "kommunelab:synthetic"
PLACEHOLDER = "FILL IN"


FIELD_TYPES = {"int": "integer", "float": "number", "str": "string", "code": "string"}


@dataclass(frozen=True)
class Package:
    """A validated folder of survey tables."""

    folder: Path
    title: str
    sources: tuple[str, ...]
    licenses: tuple[str, ...]
    synthetic: bool
    resources: dict[str, Path]  # table: the file it is read from
    frames: dict[str, pd.DataFrame] | None = None  # a delivery's tables, read through its codebook
    reasons: dict[str, pd.DataFrame] | None = None  # a delivery's reasons for each missing answer
    codebook: Path | None = None
    why_synthetic: str = ""  # which stand-in a table coincides with, when that is why (for the analyst, English)
    coinciding: tuple[str, ...] = ()  # the tables that coincide with a stand-in (the report's banner names them)

    def summary(self) -> dict:
        return {"folder": str(self.folder), "title": self.title, "sources": list(self.sources),
                "licenses": list(self.licenses), "synthetic": self.synthetic, "why_synthetic": self.why_synthetic}


def resolve_dir(data_dir: str | Path | None) -> Path:
    """The folder to read survey tables from: ``data_dir`` if given (relative to the project), else the stand-ins."""
    if not data_dir:
        return synthetic_dir()
    path = Path(data_dir).expanduser()
    return (path if path.is_absolute() else project_root() / path).resolve()


def descriptor(resources: dict[str, str], *, name: str, title: str, sources: list[dict], licenses: list[dict],
               synthetic: bool = False) -> dict:
    """A Data Package descriptor for ``resources`` ({table: path}), with each table's schema from SURVEY_TABLES."""
    out = {"name": name, "title": title, "sources": sources, "licenses": licenses}
    if synthetic:
        out[SYNTHETIC_FLAG] = True
    out["resources"] = [{
        "name": table, "path": path, "format": "csv", "encoding": "utf-8",
        "schema": {"fields": [{"name": c.name, "type": FIELD_TYPES[c.kind],
                               "constraints": {"required": not c.nullable,
                                               **({"enum": list(c.allowed)} if c.allowed else {})}}
                              for c in SURVEY_TABLES[table].columns]},
    } for table, path in resources.items()]
    return out


def init_descriptor(folder: Path) -> Path:
    """Write a datapackage.json template for the survey tables in ``folder`` (refuses to overwrite one)."""
    folder = Path(folder)
    target = folder / DESCRIPTOR
    if target.exists():
        raise DataError(str(target), "already exists; edit it instead of writing a new template")
    present = {t: f"{t}.csv" for t in SURVEY_TABLES if (folder / f"{t}.csv").is_file()}
    if not present:
        raise DataError(str(folder), f"holds none of the survey tables {', '.join(f'{t}.csv' for t in SURVEY_TABLES)}")
    text = descriptor(present, name=folder.name.lower().replace(" ", "-") or "survey-microdata",
                      title=f"{PLACEHOLDER}: what these tables are (survey, year, who collected them)",
                      sources=[{"title": f"{PLACEHOLDER}: the survey's owner", "path": f"{PLACEHOLDER}: address"}],
                      licenses=[{"name": f"{PLACEHOLDER}: licence or terms of use"}])
    target.write_text(json.dumps(text, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


@cache
def stand_in_checksums() -> frozenset[str]:
    """SHA-256 of every stand-in table the project ships (a copy of any of them is synthetic, whatever it is called)."""
    return frozenset(sha256_file(p) for p in synthetic_dir().glob("*.csv"))


HOW_TO = ("a folder of survey microdata needs a datapackage.json (Frictionless Data Package) naming its title, "
          "sources, licences and one resource per table; write a template with `kommunelab microdata init {folder}` "
          "and fill in the FILL IN fields")


def open_package(data_dir: str | Path | None) -> Package:
    """Validate the folder ``data_dir`` names (default: the stand-ins) and say whether it is synthetic."""
    folder = resolve_dir(data_dir)
    if not folder.is_dir():
        raise DataError(str(folder), "survey data folder does not exist", hint="pass an existing folder as data_dir")
    if (folder / CODEBOOK).is_file():
        return _open_delivery(folder)
    path = folder / DESCRIPTOR
    if not path.is_file():
        raise DataError(str(folder), f"no {DESCRIPTOR}", hint=HOW_TO.format(folder=folder))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise DataError(str(path), f"must be a JSON object (a data package), not a {type(raw).__name__}",
                        hint=HOW_TO.format(folder=folder))
    for key in ("name", "title", "sources", "licenses", "resources"):
        if not raw.get(key):
            raise DataError(str(path), f"lacks '{key}'", hint=HOW_TO.format(folder=folder))
    for key, kind in (("name", str), ("title", str), ("sources", list), ("licenses", list), ("resources", list)):
        if not isinstance(raw[key], kind):
            raise DataError(str(path), f"'{key}' must be a {'list' if kind is list else 'text'}",
                            hint=HOW_TO.format(folder=folder))
    if PLACEHOLDER in json.dumps({k: raw[k] for k in ("title", "sources", "licenses")}):
        raise DataError(str(path), f"still has '{PLACEHOLDER}' placeholders", hint="fill in title, sources and licenses")
    resources = {}
    for i, res in enumerate(raw["resources"]):
        if not isinstance(res, dict):
            raise DataError(str(path), f"resource {i + 1} must be an object with a 'name' and a 'path'")
        name, rel = res.get("name"), res.get("path")
        if name not in SURVEY_TABLES or not isinstance(rel, str) or not rel:
            raise DataError(str(path), f"resource {i + 1} must have a 'path' and a 'name' among {', '.join(SURVEY_TABLES)}")
        resources[name] = _inside(folder, rel, path, name)
    copies = [p.name for p in resources.values() if sha256_file(p) in stand_in_checksums()]
    why = [f"{name} is a copy of a stand-in file" for name in copies]
    coinciding = [name for name, p in resources.items() if p.name in copies]
    for name, p in resources.items():
        frame = read_validated(p, SURVEY_TABLES[name])
        if not copies and (coincides := coincidence(name, frame)):
            why.append(f"{name}: {coincides}")
            coinciding.append(name)
    synthetic = bool(raw.get(SYNTHETIC_FLAG)) or bool(why)
    return Package(folder, raw["title"], tuple(_names(raw["sources"])), tuple(_names(raw["licenses"])), synthetic,
                   resources, why_synthetic="; ".join(why), coinciding=tuple(coinciding))


@lru_cache(maxsize=4)
def _checked(folder: str, signature: tuple) -> tuple:
    """A delivery's check, once per version of its files (``signature``: each file's name, time and size)."""
    from .delivery.check import check

    return check(Path(folder))


def _open_delivery(folder: Path) -> Package:
    """A delivery read through its codebook; refused, with its first problem, unless every table maps cleanly."""
    signature = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir() if p.is_file()))
    report, mapped = _checked(str(folder), signature)
    if not report.usable:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise DataError(str(folder / CODEBOOK), report.problems[0] + more,
                        hint=f"`kommunelab microdata check {folder}` lists every problem")
    book = report.codebook
    return Package(folder, book.title, book.sources, book.licences, report.synthetic,
                   {name: folder / t.file for name, t in book.tables.items()},
                   {name: m.frame for name, m in mapped.items()}, {name: m.reasons for name, m in mapped.items()},
                   book.path,
                   "; ".join(f"{t}: {why}" for t, why in report.stand_in.items()), tuple(report.stand_in))


def _inside(folder: Path, rel: str, descriptor_path: Path, name: str) -> Path:
    """The file a resource path names, which must be a relative path to a file inside the package's folder: not
    absolute, not a URL, not leading out with '..', and not a link to somewhere else."""
    where = f"resource {name!r}: {rel!r}"
    if "://" in rel or ":" in rel.split("/")[0] or Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise DataError(str(descriptor_path), f"{where} must be a relative path inside {folder} (no absolute path, "
                        "URL or '..')", hint="copy the table into the folder and name it by its file name")
    target = folder / rel
    real = target.resolve()
    if not real.is_relative_to(folder.resolve()) or any(p.is_symlink() for p in (target, *target.parents)
                                                         if p.is_relative_to(folder) and p != folder):
        raise DataError(str(descriptor_path), f"{where} must be a relative path inside {folder}: it is a link "
                        "to a file elsewhere", hint="copy the table into the folder instead of linking to it")
    if not target.is_file():
        raise DataError(str(descriptor_path), f"{where} names a file that does not exist")
    return target


def _names(items: list) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(" — ".join(str(item[k]) for k in ("title", "name", "path") if item.get(k)))
        else:
            out.append(str(item))
    return out


def check_data_dir(value: str) -> str:
    """The manifest's validator for a ``data_dir`` parameter: refuse a folder that is not a valid package before a
    kernel starts. Returns the value unchanged."""
    if value:
        open_package(value)
    return value




def load_survey(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """One survey table from the package in ``data_dir`` (default: the synthetic stand-ins), validated.

    ``frame.attrs["synthetic"]`` says whether it is the stand-in (or a copy of it).
    """
    if name not in SURVEY_TABLES:
        raise DataError(name, f"unknown survey table; known: {', '.join(SURVEY_TABLES)}")
    package = open_package(data_dir)
    if name not in package.resources:
        if package.codebook is not None:
            raise DataError(str(package.codebook), f"maps no table {name!r}, which this report needs",
                            hint=f"add [tables.{name}] (columns in data/synthetic/README.md) to the codebook")
        raise DataError(str(package.folder / DESCRIPTOR), f"has no resource {name!r}, which this report needs",
                        hint=f"add {name}.csv (columns in data/synthetic/README.md) and list it in the descriptor")
    origin = "synthetic" if package.synthetic else "microdata"
    if package.frames is not None:  # a delivery: the table as its codebook maps it; both files are inputs
        frame = package.frames[name].copy()
        for path, what in ((package.resources[name], name), (package.codebook, "codebook")):
            record_read(str(path), sha256_file(path), origin, package.title, what)
    else:
        frame = load_table(package.resources[name], SURVEY_TABLES[name], origin=origin, source=package.title)
    record_package(package.summary())
    session.current().survey_package = package
    if package.reasons is not None:
        reasons = package.reasons[name].reset_index(drop=True)
    else:  # a table in the project's columns says only that an answer is blank
        reasons = frame.isna().astype(object).map(lambda blank: Reason.BLANK if blank else None)
    session.current().nonresponse[name] = reasons
    frame.attrs["synthetic"] = package.synthetic
    frame.attrs["survey_table"] = name
    return frame


def excluded(frame: pd.DataFrame, *columns: str) -> dict[str, int]:
    """The answers an estimate on ``frame`` (a survey table, or rows of one) leaves out of ``columns``, counted by why
    they are missing ({"don't know": 12, "refused": 3}): a row counts once, under the reason of the first of the
    columns it lacks. Empty when nothing is missing or the frame is not a survey table read by load_survey."""
    reasons = session.current().nonresponse.get(frame.attrs.get("survey_table"))
    if reasons is None or not columns:
        return {}
    rows = reasons.loc[frame.index, list(columns)]
    first = rows.apply(lambda row: next((r for r in row if r is not None and not pd.isna(r)), None), axis=1)
    counts = first.dropna().value_counts()
    return {r.label: int(counts[r]) for r in Reason if r in counts.index}


def last_package() -> Package | None:
    """The package the last load_survey() read from (the stand-in truth is looked up beside it)."""
    return session.current().survey_package
