"""Part of the plan stage: what is already built. Input keys over everything a variant's output depends on, and
the state of the last build (reports/build.json), with paths relative to the project so a clone elsewhere finds its
builds current.

What a variant depends on: its notebook, parameters and manifest entry; the library modules its notebook imports
(found by reading the import statements, transitively) and the renderer; the versions of the runtime packages
(not the whole lock: a development tool's update rebuilds nothing); the Chromium that prints it; the data it read.

The data part of a key follows the file that would be read *now* for each file the variant read last time: the
same reference dataset in a mirror folder or in the snapshot is hashed where it lies today.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from ...errors import FindingError, KommunelabError, shorten
from ...i18n import PSEUDO_ENV
from ...manifest import LANGUAGE, PARAMETERS_TAG, Report, Variant, declared_parameters
from ...paths import REPORTS, library_dir, relative, write_atomic
from ...provenance import sha256_file
from ...records import STATE_BACKUP, STATE_DAMAGED, STATE_FILE, BuildRecord, Outcome
from ...reference import where_now

# What turns a notebook into its outputs (execution, kernels, HTML export, printing): part of every variant's key.
RENDERER = ("kommunelab.engine.run.execute", "kommunelab.kernel", "kommunelab.engine.run.forking", "kommunelab.engine.render",
            "kommunelab.records")


@cache
def _module_file(name: str) -> Path | None:
    """The source file of a kommunelab module (``kommunelab.analysis.coi`` -> .../analysis/coi.py)."""
    parts = name.split(".")[1:]
    base = library_dir().joinpath(*parts)
    for path in (base.with_suffix(".py") if parts else None, base / "__init__.py"):
        if path is not None and path.is_file():
            return path
    return None


# An import statement at the start of a line: `import a.b, c` or `from .a import (b, c)` (parentheses may span lines).
# Read as text, not parsed: a line in a docstring that looks like an import only widens the key, never narrows it.
IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)|import[ \t]+([^\n#;]+))", re.M)


def _imported_names(source: str, package: str) -> set[str]:
    """kommunelab modules a source text imports, anywhere in it (inside functions too), relative imports resolved."""
    found = set()
    for module, names, plain in IMPORT.findall(source):
        if plain:
            found.update(part.split()[0] for part in plain.split(",") if part.strip())
            continue
        if module.startswith("."):
            level = len(module) - len(module.lstrip("."))
            base = package.split(".")[: len(package.split(".")) - level + 1]
            module = ".".join(base + ([module.lstrip(".")] if module.lstrip(".") else []))
        found.add(module)
        for part in names.strip("()").replace("\\", " ").split(","):
            if part.split():
                found.add(f"{module}.{part.split()[0]}")  # `from package import module`
    return {name for name in found if name.split(".")[0] == "kommunelab" and _module_file(name)}


@cache
def _module_imports(name: str, mtime_ns: int) -> frozenset[str]:
    path = _module_file(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return frozenset(_imported_names(path.read_text(encoding="utf-8"), package))


def _closure(roots: set[str]) -> set[str]:
    """The modules ``roots`` import, directly or not, with the packages that contain them."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # importing a.b.c runs a and a.b
        todo.extend(_module_imports(name, _module_file(name).stat().st_mtime_ns))
    return seen


def notebook_imports(notebook: Path) -> set[str] | None:
    """The kommunelab modules a notebook's code cells import (None when the notebook cannot be read)."""
    found: set[str] = set()
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return None
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        found |= _imported_names(source, "kommunelab")
    return found


# Written by Jupyter when a notebook is opened or saved, and read by nothing that makes a report.
VOLATILE_METADATA = ("kernelspec", "language_info", "widgets", "vscode", "toc")


def notebook_digest(notebook: Path) -> str:
    """SHA-256 of what in a notebook shapes its report: each cell's type, source and tags, and the notebook's
    metadata less what Jupyter writes on save. Outputs and execution counts are left out (a notebook run and saved in
    JupyterLab builds the same report), and so are the values in the parameters cell: the build injects every
    parameter from reports.toml, so an analyst's edit there changes no build (the build says it differs)."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return sha256_file(notebook) if notebook.is_file() else "missing"
    declared = declared_parameters(cells)
    shape = []
    for cell in cells:
        tags = cell.get("metadata", {}).get("tags", [])
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if PARAMETERS_TAG in tags and declared is not None:
            source = {name: kind for name, (kind, _) in declared.items()}  # names and types, not values
        shape.append([cell.get("cell_type"), source, sorted(tags)])
    metadata = {k: v for k, v in nb.get("metadata", {}).items() if k not in VOLATILE_METADATA}
    return hashlib.sha256(json.dumps([shape, metadata], sort_keys=True).encode()).hexdigest()


def library_inputs(notebook: Path) -> dict[str, str]:
    """SHA-256 of each library file a variant's output depends on: the modules its notebook imports (directly or
    not; all of them when the notebook cannot be read), the renderer's modules and the HTML templates. An edit elsewhere
    in lib/ rebuilds nothing."""
    root = library_dir()
    imported = notebook_imports(notebook)
    if imported is None:
        files = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    else:
        files = [_module_file(name) for name in _closure(imported | set(RENDERER))]
    files += [p for p in (root / "templates" / "kommunelab").rglob("*") if p.is_file()]
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(set(files))}


def catalog_inputs(report: str, language: str) -> dict[str, str]:
    """SHA-256 of each message catalog a variant in ``language`` reads (the library's and its report's): a corrected
    translation rebuilds the variants in that language, and only those."""
    from ...i18n import LIBRARY_DOMAIN, catalog_dir

    folder = catalog_dir() / language / "LC_MESSAGES"
    files = [folder / f"{domain}.po" for domain in (LIBRARY_DOMAIN, report)]
    return {p.relative_to(catalog_dir()).as_posix(): sha256_file(p) for p in files if p.is_file()}


@cache
def runtime_packages() -> dict[str, str]:
    """Versions of Python and of the packages the library declares (pyproject dependencies): what a kernel, the
    exporter and the printer run on. Development tools (pytest, ruff, jupyterlab) are not part of any output."""
    import platform
    from importlib.metadata import PackageNotFoundError, requires, version

    versions = {"python": platform.python_version()}
    for requirement in requires("kommunelab") or ():
        if "extra ==" in requirement:
            continue
        name = re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]
        try:
            versions[name.lower()] = version(name)
        except PackageNotFoundError:
            versions[name.lower()] = "missing"
    return versions


def chromium_identity() -> str:
    """Which Chromium prints the PDFs: its executable's path, size and modification time (an upgrade replaces the
    file, and so reprints every PDF). Read without starting it."""
    from ...chromium import find_chromium

    path = find_chromium()
    if not path:
        return "none"
    real = Path(path).resolve()
    stat = real.stat()
    return f"{real} {stat.st_size} {stat.st_mtime_ns}"


def current_digest(key: str, root: Path) -> str:
    """SHA-256 of the file a data key names, as it would be read now ("missing" when there is none)."""
    kind, _, rest = key.partition(":")
    if kind == "dataset":
        path = where_now(rest)
    elif kind == "project":
        path = root / rest
    elif kind == "file":
        path = Path(rest)
    else:  # a record from before keys existed: an absolute path
        path = Path(key)
    return sha256_file(path) if path is not None and path.is_file() else "missing"


def manifest_entry_digest(report: Report) -> str:
    spec = {"title": report.title, "variant_title": report.variant_title, "source": report.source,
            "params": {k: asdict(p) for k, p in report.parameters.items()}, "grid": report.grid,
            "formats": report.formats}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def input_key(variant: Variant, data_keys: list[str], root: Path, formats: tuple[str, ...],
              show_code: bool, memo: dict | None = None) -> tuple[str, dict[str, Any]]:
    """Digest of everything the variant's output depends on, and the inputs themselves (for build.json).

    ``memo`` (one dict for one build's checks) keeps what many variants share: a report's manifest digest and
    library inputs, the digest of each data file, the Chromium."""
    memo = {} if memo is None else memo
    report = variant.report

    def shared(kind: str, name: str, compute):
        if (kind, name) not in memo:
            memo[kind, name] = compute()
        return memo[kind, name]

    inputs = {
        "notebook": {relative(report.notebook, root): shared("notebook", report.id,
                                                             lambda: notebook_digest(report.notebook))},
        "params": variant.params,
        "manifest": shared("manifest", report.id, lambda: manifest_entry_digest(report)),
        "library": shared("library", report.id, lambda: library_inputs(report.notebook)),
        "packages": runtime_packages(),
        "data": {key: shared("data", key, lambda k=key: current_digest(k, root)) for key in sorted(data_keys)},
        "formats": sorted(formats),
        "show_code": show_code,
    }
    language = str(variant.params.get(LANGUAGE, "en"))
    inputs["catalogs"] = shared("catalogs", f"{report.id}/{language}", lambda: catalog_inputs(report.id, language))
    if os.environ.get(PSEUDO_ENV):
        inputs["pseudo"] = True
    if "pdf" in formats:
        inputs["chromium"] = shared("chromium", "", chromium_identity)
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest(), inputs


class DamagedState(KommunelabError):
    """reports/build.json cannot be read: refused, never taken as "no build yet" (which would drop every record)."""


# What reading a damaged build.json raises: not there, not text, not JSON, or JSON that is not a list of records.
_UNREADABLE = (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError,
               FindingError)


def _parse_state(path: Path) -> BuildRecord:
    return BuildRecord.from_record(json.loads(path.read_text(encoding="utf-8")))


def load_state(root: Path, repair: bool = False) -> dict[str, Outcome]:
    """The last build's outcomes by "report/variant" ({} when there was none); see load_record."""
    record = load_record(root, repair)
    return {} if record is None else {o.name: o for o in record.variants}


def load_record(root: Path, repair: bool = False) -> BuildRecord | None:
    """The last build's record (None when there was none).

    A damaged build.json (truncated, not JSON, records that are not records) is never read as empty. With ``repair``
    (a build or prune holding the lock) it is kept aside as build.json.damaged and the last good copy the build keeps
    (.build.json.bak) is restored; otherwise, or without a good copy, DamagedState says what to do."""
    folder = root / REPORTS
    path = folder / STATE_FILE
    if not path.is_file():
        return None
    try:
        return _parse_state(path)
    except _UNREADABLE as exc:
        problem = f"{path} is damaged ({type(exc).__name__}: {shorten(str(exc), 120)})"
    backup = folder / STATE_BACKUP
    try:
        restored = _parse_state(backup) if backup.is_file() and not backup.is_symlink() else None
    except _UNREADABLE:
        restored = None
    if restored is None:
        raise DamagedState(f"{problem}, and there is no good copy to restore. Move it aside (for example to "
                           f"{folder / STATE_DAMAGED}) to start afresh: every variant is then built again")
    if not repair:
        raise DamagedState(f"{problem}; the next `kommunelab build` keeps it as {STATE_DAMAGED} and restores the last "
                           "good copy")
    os.replace(path, folder / STATE_DAMAGED)
    write_atomic(path, backup.read_bytes())
    print(f"kommunelab: {problem}; kept it as {folder / STATE_DAMAGED} and restored the last good copy "
          f"({len(restored.variants)} variant record(s))", file=sys.stderr)
    return restored
