"""`kommunelab status`: the last build as recorded in reports/build.json and reports/drift.json, read without running
anything."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ...errors import KommunelabError
from ...paths import REPORTS
from ...records import DRIFT_FILE, STATE_FILE, BuildStatus
from ..plan.cache import load_record


def status_lines(root: Path) -> list[str]:
    """When the last build ran, from which revision, how many variants by status, what failed, what is stale, and
    how many findings changed in it."""
    build = load_record(root)
    if build is None:
        raise KommunelabError(f"no build yet: {root / REPORTS / STATE_FILE} does not exist; run `kommunelab build`")
    counts = Counter(o.status for o in build.variants)
    lines = [f"last build: {build.generated} from git revision {build.git_revision}",
             f"{len(build.variants)} variant(s): " + ", ".join(f"{counts[s]} {s.label}" for s in BuildStatus
                                                                if counts[s])]
    for o in build.variants:
        if o.status is BuildStatus.FAILED and o.failure is not None:
            f = o.failure
            cell = f", cell {f.cell}" if f.cell is not None else ""
            lines.append(f"failed: {o.name} [{f.stage}{cell}] {f.exception} (built before: "
                         f"{'kept' if o.outputs else 'none'})")
        elif o.status is BuildStatus.STALE:
            lines.append(f"stale:  {o.name}: {'; '.join(o.stale or ['inputs changed'])}")
    drift = root / REPORTS / DRIFT_FILE
    if drift.is_file():
        record = json.loads(drift.read_text(encoding="utf-8"))
        changes = record.get("changes", [])
        left = sum(1 for c in changes if c.get("left_interval"))
        lines.append(f"findings changed in the build of {record.get('generated', '?')}: {len(changes)}"
                     + (f", {left} now outside their target interval" if left else "") + f" (reports/{DRIFT_FILE})")
    return lines
