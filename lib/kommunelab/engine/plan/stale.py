"""Why a variant must be built: the inputs recorded at its last build against those it would have now, named for a
maintainer (``kommunelab build --dry-run``, "stale" in build.json and the index)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...manifest import Variant
from ...paths import REPORTS
from ...records import BuildStatus, Outcome
from .cache import input_key


def stale_reasons(variant: Variant, previous: Outcome | None, root: Path, formats: tuple[str, ...], show_code: bool,
                  memo: dict | None = None) -> list[str]:
    """Why ``variant`` must be built, one reason per changed input; empty when its outputs are current."""
    if previous is None or not previous.key:
        return ["never built"]
    if previous.status is BuildStatus.FAILED:
        return ["its last build failed"]
    missing = [rel for rel in previous.outputs.values() if not (root / REPORTS / rel).is_file()]
    if missing:
        return [f"output missing: reports/{rel}" for rel in missing]
    key, now = input_key(variant, list(previous.inputs.get("data", {})), root, formats, show_code, memo)
    if key == previous.key:
        return []
    return input_changes(previous.inputs, now) or ["its inputs changed"]


def input_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two recorded sets of inputs: "notebook notebooks/x.ipynb changed", "library module
    analysis/kl.py changed", "data file dk/population.csv changed", "runtime packages: pandas 2.2 -> 2.3", ..."""
    reasons = _changed("notebook", old.get("notebook", {}), new["notebook"])
    if old.get("params") != new["params"]:
        reasons.append("parameters changed")
    if old.get("manifest") != new["manifest"]:
        reasons.append("its entry in reports.toml changed")
    reasons += _changed("library module", old.get("library", {}), new["library"])
    packages = old.get("packages", {})
    moved = [f"{name} {packages.get(name, 'none')} -> {new['packages'].get(name, 'none')}"
             for name in sorted(set(packages) | set(new["packages"])) if packages.get(name) != new["packages"].get(name)]
    if moved:
        reasons.append("runtime packages: " + ", ".join(moved))
    reasons += _changed("data file", {_file(k): v for k, v in old.get("data", {}).items()},
                        {_file(k): v for k, v in new["data"].items()})
    if old.get("formats") != new["formats"] or old.get("show_code") != new["show_code"]:
        reasons.append("output formats or --show-code changed")
    if old.get("chromium") != new.get("chromium"):
        reasons.append("the Chromium that prints the PDF changed")
    return reasons


def _file(key: str) -> str:
    """A data key as a maintainer names the file: "dataset:dk/population.csv" -> "dk/population.csv"."""
    return key.partition(":")[2] or key


def _changed(kind: str, old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"{kind} {name} added")
        elif name not in new:
            out.append(f"{kind} {name} no longer read")
        elif old[name] != new[name]:
            out.append(f"{kind} {name} {'missing' if new[name] == 'missing' else 'changed'}")
    return out
