"""reports/index.html: every report and variant (links, build time, status) and the findings scorecard, rendered from
the build's typed records."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader

from ...markup import INDEX_CSP
from ...paths import library_dir
from ...records import NOT_PASSED, SITE_URL_ENV, Basis, BuildRecord, BuildStatus, Finding, Verdict, basis, status_css


@dataclass(frozen=True)
class Scored:
    """A finding on the scorecard, with the variant it was computed in."""

    report: str
    variant: str
    finding: Finding


def evidence_by_status(scorecard: list[Scored]) -> dict[str, Any]:
    """Counts of findings by evidence kind (rows) and verdict (columns, in Verdict's order), for the table that opens
    the scorecard."""
    counts = Counter((s.finding.evidence, s.finding.verdict) for s in scorecard)
    evidence = sorted({e for e, _ in counts}, key=str)
    verdicts = [v for v in Verdict if any(v is seen for _, seen in counts)]
    rows = {e: sum(n for (ev, _), n in counts.items() if ev == e) for e in evidence}
    columns = {v: sum(n for (_, seen), n in counts.items() if seen is v) for v in verdicts}
    return {"evidence": evidence, "verdicts": verdicts, "counts": counts, "rows": rows, "columns": columns,
            "total": sum(counts.values())}


def how_much_is_real(scorecard: list[Scored]) -> str:
    """The sentence the index opens with: how many of the findings checked are recomputed from real data (said even
    when none is), then what the others rest on."""
    counts = Counter(basis(s.finding) for s in scorecard)
    others = [b.phrase(counts[b]) for b in Basis if counts[b] and b is not Basis.RECOMPUTED]
    rest = ("; ".join(others[:-1]) + "; and " + others[-1]) if len(others) > 1 else "".join(others)
    return (f"Of the {len(scorecard)} published findings these reports check (default parameters), "
            f"{Basis.RECOMPUTED.phrase(counts[Basis.RECOMPUTED])}" + (f"; {rest}" if rest else "") + ".")


def search_terms(outcome, report=None) -> str:
    """What the index's filter box matches for a variant: its label and detail, its parameter values, and every
    spelling the command line accepts for them (a parameter's ``choices_from``: the code, the Danish and English
    names, case- and accent-folded, "kobenhavn", "koebenhavn", "copenhagen", "101"), casefolded."""
    from ...errors import KommunelabError
    from ...manifest import choices_table

    terms = {outcome.label or "", outcome.detail or "", *(str(v) for v in (outcome.params or {}).values())}
    for name, value in (outcome.params or {}).items():
        parameter = report.parameters.get(name) if report is not None else None
        if parameter is not None and parameter.choices_from:
            try:
                table = choices_table(parameter.choices_from)
            except KommunelabError:
                continue  # no data to spell from: the label and value still match
            terms |= {spelling for spelling, canonical in table.items() if str(canonical) == str(value)}
    return " ".join(sorted({t.casefold() for t in terms if t}))


def render_index(build: BuildRecord, manifest: dict[str, Any] | None = None, drift: dict[str, Any] | None = None) -> str:
    """The index page: each report with its description and its grid variants listed by label (with a filter box
    when there are many), the findings scorecard linking each finding to the card that records it, and the build
    details. ``build`` is build.json's record; ``manifest`` (reports.toml) the reports' order, titles
    and descriptions; ``drift`` (drift.json) the findings that changed in the last build."""
    env = Environment(loader=FileSystemLoader(library_dir() / "templates"), autoescape=True)
    manifest = manifest or {}
    records = build.variants
    reports: dict[str, dict[str, Any]] = {
        rid: {"title": r.title, "description": r.description, "source": r.source, "variants": [],
              "grid_names": " and ".join(r.grid)}
        for rid, r in manifest.items()}
    for o in records:
        entry = reports.setdefault(o.report, {"title": o.title or o.report, "description": "", "variants": [],
                                              "grid_names": ""})
        entry["variants"].append(o)
    reports = {rid: e for rid, e in reports.items() if e["variants"]}
    for entry in reports.values():
        outcomes = entry["variants"]
        main = [o for o in outcomes if o.is_default] or (outcomes if len(outcomes) == 1 else [])
        entry["main"] = main[0] if main else None
        # Variants told apart by a label (grid members, one-off parameter sets), listed by it.
        entry["grid"] = sorted((o for o in outcomes if o.label), key=lambda o: o.label.lower())
        entry["search"] = {o.variant: search_terms(o, manifest.get(o.report)) for o in entry["grid"]}
        entry["pages"] = {o.variant: o.outputs["html"] for o in outcomes if o.outputs.get("html")}
    # The scorecard shows each finding once per report: from the default-parameter variant when built, else the first.
    seen, scorecard = set(), []
    for o in sorted(records, key=lambda o: (o.report, not o.is_default, o.variant)):
        for f in o.findings:
            if (o.report, f.id) not in seen:
                seen.add((o.report, f.id))
                scorecard.append(Scored(o.report, o.variant, f))
    scorecard.sort(key=lambda s: s.report)
    every = [Scored(o.report, o.variant, f) for o in records for f in o.findings]  # every built variant's findings
    not_passed = [s for s in every if s.finding.verdict in NOT_PASSED]
    labels = {(o.report, o.variant): o.label or o.variant for o in records}
    template = env.get_template("index.html.j2")
    return template.render(csp=INDEX_CSP, site_url=os.environ.get(SITE_URL_ENV, "").strip(), state=build,
                           reports=reports, scorecard=scorecard, matrix=evidence_by_status(every),
                           real=how_much_is_real(scorecard), not_passed=not_passed, labels=labels,
                           n_checked=len(every),
                           n_variants=len(records), verdicts=Verdict, status_css=status_css(),
                           attention=(BuildStatus.FAILED, BuildStatus.STALE),
                           n_failed=sum(o.status is BuildStatus.FAILED for o in records),
                           n_stale=sum(o.status is BuildStatus.STALE for o in records), drift=drift or {})
