"""Stage 2: what is already built. Input keys over everything a variant's output depends on, and the state of the
last build (reports/build.json), with paths relative to the project so a clone elsewhere finds its builds current.

The data part of a key follows the file that would be read *now* for each file the variant read last time: the
same reference dataset in another mirror, or in data/raw/, is hashed where it lies today.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from ..manifest import Report, Variant
from ..mirror import where_now
from ..paths import LOCK_NAME, REPORTS, STATE_FILE, library_dir, relative
from ..provenance import sha256_file
from .results import Outcome


@cache
def library_digest() -> str:
    """One digest over the library's source and templates (any edit to lib/kommunelab rebuilds every report)."""
    h = hashlib.sha256()
    root = library_dir()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode())
            h.update(sha256_file(path).encode())
    return h.hexdigest()


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
    spec = {"title": report.title, "params": {k: asdict(p) for k, p in report.parameters.items()},
            "grid": report.grid, "formats": report.formats}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def input_key(variant: Variant, data_keys: list[str], root: Path, formats: tuple[str, ...],
              show_code: bool) -> tuple[str, dict[str, Any]]:
    """Digest of everything the variant's output depends on, and the inputs themselves (for build.json)."""
    report = variant.report
    lock = root / LOCK_NAME
    inputs = {
        "notebook": {relative(report.notebook, root): sha256_file(report.notebook)},
        "params": variant.params,
        "manifest": manifest_entry_digest(report),
        "library": library_digest(),
        "lock": sha256_file(lock) if lock.is_file() else "",
        "data": {key: current_digest(key, root) for key in sorted(data_keys)},
        "formats": sorted(formats),
        "show_code": show_code,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest(), inputs


def load_state(root: Path) -> dict[str, Outcome]:
    """The last build's outcomes by "report/variant" (a damaged state file only costs a full rebuild)."""
    path = root / REPORTS / STATE_FILE
    if not path.is_file():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8")).get("variants", [])
        outcomes = [Outcome.from_record(r) for r in records]
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
        return {}
    return {o.name: o for o in outcomes}


def is_current(variant: Variant, previous: Outcome | None, root: Path, formats: tuple[str, ...],
               show_code: bool) -> bool:
    if previous is None or previous.status == "failed" or not previous.key:
        return False
    if any(not (root / REPORTS / rel).is_file() for rel in previous.outputs.values()):
        return False
    key, _ = input_key(variant, list(previous.inputs.get("data", {})), root, formats, show_code)
    return key == previous.key
