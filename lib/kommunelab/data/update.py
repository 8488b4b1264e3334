"""Refresh and check the pinned reference snapshot (data/reference/): ``kommunelab data update`` and ``data verify``.

An update downloads a table by its route, validates the whole download, and compares it with the snapshot (rows
added, removed and changed, the largest changes, new years). Only with ``write=True`` does it replace the snapshot's
file, its checksum and its retrieval date, so that the change can be read in a diff, reviewed and committed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..errors import DataError, KommunelabError, shorten
from ..paths import write_atomic
from ..provenance import sha256_file
from ..reference import CHECKSUMS, DESCRIPTOR, checksums, descriptor, reference_dir, resource, resources, verified
from .schema import read_table
from .sources import Dataset, fetch


@dataclass(frozen=True)
class TableDiff:
    """What a download would change in one table of the snapshot."""

    name: str
    path: str
    rows_before: int
    rows_after: int
    added: int
    removed: int
    changed: int
    largest: tuple[str, ...]  # the largest changes of a value, as text
    new_years: tuple[int, ...]

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def lines(self) -> list[str]:
        head = (f"{self.name} ({self.path}): {self.rows_before:,} -> {self.rows_after:,} rows; "
                + ("no change" if self.identical else
                   f"{self.added:,} added, {self.removed:,} removed, {self.changed:,} changed"))
        out = [head]
        if self.new_years:
            out.append(f"  new years: {', '.join(map(str, self.new_years))}")
        out += [f"  {line}" for line in self.largest]
        return out


def compare(name: str, path: str, old: pd.DataFrame, new: pd.DataFrame, key: tuple[str, ...],
            most: int = 5) -> TableDiff:
    """Compare two validated versions of a table by its key."""
    key = list(key)
    both = old.merge(new, on=key, how="outer", suffixes=("_old", "_new"), indicator=True)
    added = int((both["_merge"] == "right_only").sum())
    removed = int((both["_merge"] == "left_only").sum())
    common = both[both["_merge"] == "both"]
    values = [c for c in old.columns if c not in key]
    changed_mask = pd.Series(False, index=common.index)
    moves = []
    for column in values:
        a, b = common[f"{column}_old"], common[f"{column}_new"]
        differs = ~((a == b) | (a.isna() & b.isna()))
        changed_mask |= differs
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            for i in common.index[differs]:
                moves.append((abs(float(b[i]) - float(a[i])), column, i))
        else:
            moves += [(float("inf"), column, i) for i in common.index[differs]]
    moves.sort(key=lambda m: -m[0])
    largest = []
    for _, column, i in moves[:most]:
        where = ", ".join(f"{k} {common.loc[i, k]}" for k in key)
        a, b = common.loc[i, f"{column}_old"], common.loc[i, f"{column}_new"]
        numbers = pd.api.types.is_number(a) and pd.api.types.is_number(b) and not (pd.isna(a) or pd.isna(b))
        delta = f" ({float(b) - float(a):+,g})" if numbers else ""
        largest.append(f"{where}: {column} {_text(a)} -> {_text(b)}{delta}")
    years = ()
    if "year" in old.columns:
        years = tuple(sorted(int(y) for y in set(new["year"]) - set(old["year"])))
    return TableDiff(name, path, len(old), len(new), added, removed, int(changed_mask.sum()), tuple(largest), years)


def _text(value) -> str:
    """A value as the file has it (an outer merge turns whole numbers into floats: 41107.0 is shown as 41107)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Update:
    dataset: Dataset
    diff: TableDiff
    frame: pd.DataFrame


def download(dataset: Dataset, root: Path | None = None) -> Update:
    """Fetch ``dataset`` by its route, validate it whole, and compare it with the snapshot's copy."""
    new = fetch(dataset).sort_values(list(dataset.schema.key)).reset_index(drop=True)
    path = reference_dir(root) / dataset.path
    old = read_table(path, dataset.schema) if path.is_file() else new.iloc[0:0]
    return Update(dataset, compare(dataset.name, dataset.path, old, new, dataset.schema.key), new)


def updates_for(names: list[str]) -> tuple[list[Update], list[str], list[str]]:
    """Download the named tables (every one when none is named): the updates, one line per table that could not be
    fetched or failed its checks, and one line per table without a download route (naming its source)."""
    from . import DATASETS

    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        raise KommunelabError(f"unknown table(s) {', '.join(map(shorten, unknown))}; known: {', '.join(DATASETS)}")
    updates, failures, notes = [], [], []
    for dataset in (DATASETS[n] for n in (names or DATASETS)):
        if dataset.download is None:
            about = resource(dataset.path)
            notes.append(f"{dataset.name} ({dataset.path}): no verified download route; get it from "
                         f"{about.publisher}, {about.address}, and replace data/reference/{dataset.path} as a "
                         "reviewed change")
            continue
        try:
            updates.append(download(dataset))
        except KommunelabError as exc:  # a download that failed, or failed its checks
            failures.append(f"{dataset.name}: {shorten(str(exc))}")
    return updates, failures, notes


def write(updates: list[Update], root: Path | None = None, today: str | None = None) -> list[Path]:
    """Replace the snapshot's files by the downloads, with their checksums and retrieval dates. Each file is
    written whole or not at all; the header keeps the spelling the snapshot's file uses (so a diff shows data, not
    renamed columns)."""
    folder = reference_dir(root)
    today = today or datetime.now(UTC).date().isoformat()
    written = []
    for u in updates:
        target = folder / u.dataset.path
        frame = u.frame.rename(columns=_header_spelling(target, u.dataset))
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, frame.to_csv(index=False, lineterminator="\n"))
        written.append(target)
    sums = dict(checksums(folder)) if (folder / CHECKSUMS).is_file() else {}
    for u in updates:
        sums[u.dataset.path] = sha256_file(folder / u.dataset.path)
    write_atomic(folder / CHECKSUMS, "".join(f"{sums[p]}  {p}\n" for p in sorted(sums)))
    package = json.loads(json.dumps(descriptor(folder)))  # a copy to change
    by_path = {r["path"]: r for r in package["resources"]}
    for u in updates:
        entry = by_path[u.dataset.path]
        entry["retrieved"] = today
        entry["retrieval_note"] = f"downloaded by `kommunelab data update {u.dataset.name}`"
    write_atomic(folder / DESCRIPTOR, json.dumps(package, indent=2, ensure_ascii=False) + "\n")
    return [*written, folder / CHECKSUMS, folder / DESCRIPTOR]


def _header_spelling(path: Path, dataset: Dataset) -> dict[str, str]:
    """Our column name -> the header the snapshot's file has for it (a source's own name where it kept that)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
    except (OSError, StopIteration):
        return {}
    return {c.name: c.source_name for c in dataset.schema.columns if c.source_name and c.source_name in header}


def verify(root: Path | None = None) -> list[str]:
    """Every problem with the snapshot: a file not described or not listed, a checksum that differs, a table that
    fails its schema or completeness checks. Empty when all is well."""
    from . import DATASETS

    folder = reference_dir(root)
    problems = []
    try:
        described = resources(folder)
        sums = checksums(folder)
    except DataError as exc:
        return [str(exc)]
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if p.is_file() and p.name not in (CHECKSUMS, DESCRIPTOR)}
    for path in sorted(on_disk - set(described)):
        problems.append(f"{path}: in {folder} but not described in {DESCRIPTOR}")
    for path in sorted(set(described) - on_disk):
        problems.append(f"{path}: described in {DESCRIPTOR} but missing")
    for path in sorted(set(sums) - on_disk):
        problems.append(f"{path}: listed in {CHECKSUMS} but missing")
    for path in sorted(on_disk & set(described)):
        try:
            verified(folder, path)
        except DataError as exc:
            problems.append(str(exc))
    for dataset in DATASETS.values():
        if dataset.path in on_disk:
            try:
                read_table(folder / dataset.path, dataset.schema)
            except DataError as exc:
                problems.append(str(exc))
    for path in sorted(p for p in on_disk if p.endswith(".topojson")):
        try:
            topology = json.loads((folder / path).read_text(encoding="utf-8"))
            if topology.get("type") != "Topology" or not topology.get("objects"):
                problems.append(f"{path}: not a TopoJSON topology with objects")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            problems.append(f"{path}: not readable as TopoJSON: {exc}")
    return problems
