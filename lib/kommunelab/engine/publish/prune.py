"""What in reports/ no longer belongs to the manifest: files of removed reports and variants, and one-off variants
(built with -p, neither a report's defaults nor a member of its grid). Listed first; removed only when asked."""

from __future__ import annotations

from pathlib import Path

from ...manifest import LANGUAGE, Report, variants
from ...paths import REPORTS
from ...records import INDEX_IN, OWN_FILES, TMP, Outcome
from ..plan import cache
from . import still_declared, write_outputs


def _members(report: Report) -> set[str]:
    """The variant ids a report declares: its default and its grid, in every language it is written in."""
    sets = [{LANGUAGE: code} for code in report.languages] or [{}]
    return {v.id for given in sets for grid in (True, False) for v in variants(report, given, all_variants=grid)} | {
        "default"}


def candidates(root: Path, manifest: dict[str, Report]) -> tuple[list[Path], list[Outcome]]:
    """(files to remove, records to drop). Kept: records the manifest still declares as defaults or grid members."""
    state = cache.load_state(root)
    kept, dropped = [], []
    for o in state.values():
        declared = still_declared(o, manifest) and o.variant in _members(manifest[o.report])
        (kept if declared else dropped).append(o)
    keep_files = {(root / REPORTS / rel).resolve() for o in kept for rel in o.outputs.values()}
    keep_files |= {(root / REPORTS / o.report / f"{o.variant}.failed.ipynb").resolve() for o in kept}
    files = []
    for path in sorted((root / REPORTS).rglob("*")):
        rel = path.relative_to(root / REPORTS)
        if rel.parts[0] == TMP or (len(rel.parts) == 1 and (rel.name in OWN_FILES or INDEX_IN.fullmatch(rel.name))):
            continue
        if path.is_symlink():  # planted: the link itself goes, never what it points to
            files.append(path)
            continue
        if not path.is_file():
            continue
        if path.resolve() not in keep_files:
            files.append(path)
    return files, dropped


def prune(root: Path, manifest: dict[str, Report], generated: str) -> list[Path]:
    files, dropped = candidates(root, manifest)
    for path in files:
        path.unlink()
    for folder in sorted({p.parent for p in files}, reverse=True):
        if folder != root / REPORTS and not any(folder.iterdir()):
            folder.rmdir()
    state = {name: o for name, o in cache.load_state(root, repair=True).items() if o not in dropped}
    write_outputs(root, [], state, manifest, generated)
    return files
