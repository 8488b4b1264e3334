"""Survey tables (the microdata behind four reports): their schemas, and the folders they are read from.

A folder of survey tables is read only when it holds a ``datapackage.json`` (a Frictionless Data Package: name,
title, sources, licences, and one resource per table with its path) and every resource passes its schema. The
project's stand-ins in data/synthetic/ ship a descriptor that marks them synthetic, so a copy of that folder stays
synthetic; a folder holding any file byte-identical to a stand-in file is synthetic too. ``kommunelab microdata
init DIR`` writes a descriptor template for a folder of real tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from . import session
from .data.schema import load_table, read_validated
from .data.tables import SURVEY_TABLES
from .errors import DataError
from .paths import project_root
from .provenance import record_package, sha256_file

DESCRIPTOR = "datapackage.json"
SYNTHETIC_FLAG = "kommunelab:synthetic"
PLACEHOLDER = "FILL IN"


FIELD_TYPES = {"int": "integer", "float": "number", "str": "string", "code": "string"}


def synthetic_dir() -> Path:
    return project_root() / "data" / "synthetic"


@dataclass(frozen=True)
class Package:
    """A validated folder of survey tables."""

    folder: Path
    title: str
    sources: tuple[str, ...]
    licenses: tuple[str, ...]
    synthetic: bool
    resources: dict[str, Path]

    def summary(self) -> dict:
        return {"folder": str(self.folder), "title": self.title, "sources": list(self.sources),
                "licenses": list(self.licenses), "synthetic": self.synthetic}


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
    synthetic = bool(raw.get(SYNTHETIC_FLAG)) or bool(copies)
    for name, p in resources.items():
        read_validated(p, SURVEY_TABLES[name])
    return Package(folder, raw["title"], tuple(_names(raw["sources"])), tuple(_names(raw["licenses"])), synthetic,
                   resources)


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
        raise DataError(str(package.folder / DESCRIPTOR), f"has no resource {name!r}, which this report needs",
                        hint=f"add {name}.csv (columns in data/synthetic/README.md) and list it in the descriptor")
    origin = "synthetic" if package.synthetic else "microdata"
    frame = load_table(package.resources[name], SURVEY_TABLES[name], origin=origin, source=package.title)
    record_package(package.summary())
    session.current().survey_package = package
    frame.attrs["synthetic"] = package.synthetic
    return frame


def last_package() -> Package | None:
    """The package the last load_survey() read from (the stand-in truth is looked up beside it)."""
    return session.current().survey_package
