"""reports/index.html: every report and variant (links, build time, status) and the findings scorecard."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from jinja2 import Environment, FileSystemLoader

from .markup import INDEX_CSP
from .paths import library_dir
from .report import SITE_URL_ENV


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


def render_index(state: dict[str, Any], findings: list[dict[str, Any]], manifest: dict[str, Any] | None = None,
                 drift: dict[str, Any] | None = None) -> str:
    """The index page: each report with its description and its grid variants listed by label (with a filter box
    when there are many), the findings scorecard linking each finding to the card that records it, and the build
    details. ``manifest`` (reports.toml) gives the reports' order, titles and descriptions; ``drift`` (drift.json)
    the findings that changed in the last build."""
    env = Environment(loader=FileSystemLoader(library_dir() / "templates"), autoescape=True)
    manifest = manifest or {}
    reports: dict[str, dict[str, Any]] = {
        rid: {"title": r.title, "description": r.description, "source": r.source, "variants": [],
              "grid_names": " and ".join(r.grid)}
        for rid, r in manifest.items()}
    for record in state["variants"]:
        entry = reports.setdefault(record["report"], {"title": record.get("title") or record["report"],
                                                      "description": "", "variants": [], "grid_names": ""})
        entry["variants"].append(record)
    reports = {rid: e for rid, e in reports.items() if e["variants"]}
    for entry in reports.values():
        records = entry["variants"]
        main = [r for r in records if r.get("is_default")] or (records if len(records) == 1 else [])
        entry["main"] = main[0] if main else None
        # Variants told apart by a label (grid members, one-off parameter sets), listed by it.
        entry["grid"] = sorted((r for r in records if r.get("label")), key=lambda r: str(r["label"]).lower())
        entry["pages"] = {r["variant"]: r["outputs"]["html"] for r in records if r.get("outputs", {}).get("html")}
    # The scorecard shows each finding once per report: from the default-parameter variant when built, else the first.
    seen, scorecard = set(), []
    defaults = {(r["report"], r["variant"]) for r in state["variants"] if r.get("is_default")}
    for f in sorted(findings, key=lambda f: (f["report"], (f["report"], f["variant"]) not in defaults, f["variant"])):
        if (f["report"], f["id"]) in seen:
            continue
        seen.add((f["report"], f["id"]))
        scorecard.append(f)
    template = env.get_template("index.html.j2")
    site_url = os.environ.get(SITE_URL_ENV, "").strip()
    return template.render(csp=INDEX_CSP, site_url=site_url, state=state, reports=reports, scorecard=scorecard,
                           matrix=evidence_by_status(scorecard),
                           n_variants=len(state["variants"]),
                           n_failed=sum(1 for r in state["variants"] if r["status"] == "failed"),
                           n_stale=sum(1 for r in state["variants"] if r["status"] == "stale"), drift=drift or {})
