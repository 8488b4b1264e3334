"""What the kernel and the build agree on: the MIME types that findings and provenance travel under in a notebook's
outputs, the fields of a finding record, and how the build reads them back from an executed notebook.

Both sides import this module and nothing else of each other, so either can change without the other noticing
until this contract does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FINDING_MIME = "application/vnd.kommunelab.finding+json"
PROVENANCE_MIME = "application/vnd.kommunelab.provenance+json"

# Every finding record carries exactly these fields (kommunelab.findings.finding builds it; a test checks).
FINDING_FIELDS = (
    "id", "facts_id", "statement", "published", "published_text", "unit", "target", "target_rule", "target_text",
    "value", "ci", "bounds", "n", "value_text", "in_target", "ci_overlaps_target", "status", "check", "truth",
    "truth_text", "recovered", "passed", "label", "evidence", "source", "note", "scope",
)


@dataclass(frozen=True)
class Collected:
    """What one executed notebook recorded: its findings, and every data file it read (rebuild key -> sha256)."""

    findings: tuple[dict[str, Any], ...] = ()
    data_files: dict[str, str] = field(default_factory=dict)


def collect_outputs(notebook: dict[str, Any] | Path) -> Collected:
    nb = notebook if isinstance(notebook, dict) else json.loads(Path(notebook).read_text(encoding="utf-8"))
    findings, data_files = [], {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if FINDING_MIME in data:
                findings.append(data[FINDING_MIME])
            if PROVENANCE_MIME in data:
                for f in data[PROVENANCE_MIME].get("data_files", []):
                    data_files[f.get("key") or f["path"]] = f["sha256"]
    return Collected(tuple(findings), data_files)
