"""`kommunelab status`: the last build as recorded in reports/build.json and reports/drift.json, read without running
anything."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..errors import KommunelabError
from ..paths import DRIFT_FILE, REPORTS, STATE_FILE


def status_lines(root: Path) -> list[str]:
    """When the last build ran, from which revision, how many variants by status, what failed, what is stale, and
    how many findings changed in it."""
    path = root / REPORTS / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KommunelabError(f"no build yet: {path} does not exist; run `kommunelab build`") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KommunelabError(f"{path} is damaged ({exc}); the next build keeps it aside and restores the last good "
                              "copy it kept") from None
    variants = state.get("variants", [])
    counts = Counter(v.get("status", "?") for v in variants)
    lines = [f"last build: {state.get('generated', '?')} from git revision {state.get('git_revision', '?')}",
             f"{len(variants)} variant(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    for v in variants:
        name = f"{v['report']}/{v['variant']}"
        if v.get("status") == "failed" and v.get("failure"):
            f = v["failure"]
            cell = f", cell {f['cell']}" if f.get("cell") is not None else ""
            lines.append(f"failed: {name} [{f.get('stage')}{cell}] {f.get('exception')} (built before: "
                         f"{'kept' if v.get('outputs') else 'none'})")
        elif v.get("status") == "stale":
            lines.append(f"stale:  {name}: {'; '.join(v.get('stale') or ['inputs changed'])}")
    drift = root / REPORTS / DRIFT_FILE
    if drift.is_file():
        record = json.loads(drift.read_text(encoding="utf-8"))
        changes = record.get("changes", [])
        left = sum(1 for c in changes if c.get("left_interval"))
        lines.append(f"findings changed in the build of {record.get('generated', '?')}: {len(changes)}"
                     + (f", {left} now outside their target interval" if left else "") + f" (reports/{DRIFT_FILE})")
    return lines
