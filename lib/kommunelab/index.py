"""reports/index.html: every report and variant (links, build time, status) and the findings scorecard."""

from __future__ import annotations

from collections import Counter
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .paths import library_dir


def render_index(state: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    env = Environment(loader=FileSystemLoader(library_dir() / "templates"), autoescape=select_autoescape())
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
    counts = Counter(f.get("status") for f in scorecard)
    template = env.get_template("index.html.j2")
    return template.render(state=state, reports=reports, scorecard=scorecard, counts=counts,
                           n_variants=len(state["variants"]),
                           n_failed=sum(1 for r in state["variants"] if r["status"] == "failed"))
