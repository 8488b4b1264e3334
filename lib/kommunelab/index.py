"""reports/index.html: every report and variant (links, build time, status) and the findings scorecard."""

from __future__ import annotations

from collections import Counter
from typing import Any

from jinja2 import Environment, FileSystemLoader

from .paths import library_dir


def _label(f: dict[str, Any]) -> str:
    return f.get("label") or str(f.get("status", "")).replace("-", " ")


def evidence_by_status(scorecard: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of findings by evidence kind (rows) and status (columns), for the table that opens the scorecard."""
    counts = Counter((f.get("evidence"), _label(f)) for f in scorecard)
    evidence = sorted({e for e, _ in counts}, key=str)
    order = ["reproduced", "differs", "consistent", "inconsistent", "arithmetic check: holds", "arithmetic check: fails",
             "benchmark", "pipeline check: recovered", "pipeline check: NOT recovered", "not computed"]
    statuses = [s for s in order if any(label == s for _, label in counts)]
    statuses += sorted({label for _, label in counts} - set(statuses))
    rows = {e: sum(n for (ev, _), n in counts.items() if ev == e) for e in evidence}
    columns = {s: sum(n for (_, label), n in counts.items() if label == s) for s in statuses}
    return {"evidence": evidence, "statuses": statuses, "counts": counts, "rows": rows, "columns": columns,
            "total": sum(counts.values())}


def render_index(state: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    env = Environment(loader=FileSystemLoader(library_dir() / "templates"), autoescape=True)
    reports: dict[str, dict[str, Any]] = {}
    for record in state["variants"]:
        entry = reports.setdefault(record["report"], {"title": record.get("title") or record["report"],
                                                      "variants": []})
        entry["variants"].append(record)
    # The scorecard shows each finding once per report: from the default-parameter variant when built, else the first.
    seen, scorecard = set(), []
    defaults = {(r["report"], r["variant"]) for r in state["variants"] if r.get("is_default")}
    for f in sorted(findings, key=lambda f: (f["report"], (f["report"], f["variant"]) not in defaults, f["variant"])):
        if (f["report"], f["id"]) in seen:
            continue
        seen.add((f["report"], f["id"]))
        scorecard.append(f)
    template = env.get_template("index.html.j2")
    return template.render(state=state, reports=reports, scorecard=scorecard, matrix=evidence_by_status(scorecard),
                           n_variants=len(state["variants"]),
                           n_failed=sum(1 for r in state["variants"] if r["status"] == "failed"))
