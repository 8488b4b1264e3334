"""Record a computed value against its published claim: ``finding("kora.cross_area", 38.6, ci=(35.1, 42.2), n=612)``.

The published claim (its wording, the interval that wording allows, unit, evidence kind, the kind of check, source)
lives in data/published/findings.csv; a notebook supplies only the computed value. The call shows a card in the
report and emits the record under a kommunelab MIME type, from which the build collects reports/findings.json
and the index scorecard.

Status, decided here and nowhere else (the statuses, their labels and colours are declared in kommunelab.records):
- ``pipeline-check``: computed on the synthetic stand-in. Passes (``recovered``) when the estimate recovers the
  true value the stand-in generator recorded in its population: the 95% interval covers it, or for ranks and
  yes/no claims they match. The published claim is context only, never the pass criterion.
- ``reproduced`` / ``differs``: a recomputation from data by the report's method; reproduced when the estimate lies
  in the interval the published wording allows (whether the estimate's own interval overlaps it is recorded too).
- ``consistent`` / ``inconsistent``: a published figure checked against bounds derived from its published parts.
- ``arithmetic-check``: arithmetic on quoted figures (``passed`` says whether it lands in the target interval);
  never a reproduction.
- ``benchmark``: a comparison that is not the report's method; never "differs".
- ``what-if``: computed at an assumption the user set (DI's savings rate); never a reproduction.
- ``not-computed``: the inputs are not available (the card says which).
"""

from __future__ import annotations

import html
import math
from statistics import NormalDist
from typing import Any

from . import fmt, targets
from .data.published import findings_path, published_findings, spec  # noqa: F401 (part of this module's API)
from .errors import FindingError
from .i18n import N_, _, language, tidy
from .records import EVIDENCE, EVIDENCE_NAME, FINDING_MIME, Check, Finding, FindingStatus
from .report import _display

CHECKS = tuple(Check)
EVIDENCE_TEXT = {
    "public-data": N_("recomputed from public data"),
    "published-tables": N_("computed from the report's own published figures"),
    "synthetic": N_("synthetic stand-in (the survey microdata are not public); the check passes when the estimate "
                    "recovers the stand-in's own true value, and the published figure is context"),
    "microdata": N_("recomputed from survey microdata supplied by the analyst (data_dir)"),
    "user-data": N_("computed from a file the user supplied; its source and retrieval date are as the user declares "
                    "them (provenance below), not checked by the project"),
}

# words shown inside markup, declared here for the catalogs
T_status = N_('status')
T_in_the_source_s_words = N_('In the source’s words:')



def recovers(unit: str, value: float, ci: tuple[float, float] | None, truth: float) -> bool:
    """Does an estimate recover the stand-in's true value? Ranks, yes/no and counts must match; other values need
    a 95% interval that covers the truth."""
    if unit in ("rank", "yes/no", "count") or ci is None:
        return bool(abs(value - truth) <= 1e-9 * max(1.0, abs(truth)))
    return bool(ci[0] - 1e-9 <= truth <= ci[1] + 1e-9)


def _status(row: dict[str, Any], value: float | None, evidence: str,
            bounds: tuple[float, float] | None) -> FindingStatus:
    if value is None and bounds is None:
        return FindingStatus.NOT_COMPUTED
    if evidence == "synthetic":
        return FindingStatus.PIPELINE_CHECK
    check = Check(row["check"])
    if check is Check.BOUNDS:
        lo, hi = bounds if bounds is not None else (value, value)
        inside = lo - 1e-9 <= row["published_value"] <= hi + 1e-9
        return FindingStatus.CONSISTENT if inside else FindingStatus.INCONSISTENT
    if check is Check.ARITHMETIC:
        return FindingStatus.ARITHMETIC_CHECK
    if check is Check.BENCHMARK:
        return FindingStatus.BENCHMARK
    if check is Check.WHAT_IF:
        return FindingStatus.WHAT_IF
    inside = targets.contains(row["target_low"], row["target_high"], value, row["target_rule"])
    return FindingStatus.REPRODUCED if inside else FindingStatus.DIFFERS


def finding(finding_id: str, value: float | None = None, *, ci: tuple[float, float] | None = None,
            bounds: tuple[float, float] | None = None, evidence: str | None = None, note: str = "",
            n: int | None = None, scope: str = "all", check: str | None = None, locale: str | None = None,
            decimals: int = 0, excluded: dict[str, int] | None = None) -> Finding:
    """Record and show one finding. ``value=None`` (with a ``note`` saying why) records it as not computed.

    ``evidence`` defaults to the kind in findings.csv; a notebook run on real microdata passes the kind that
    applies. ``bounds`` records a consistency check of the published figure against an interval derived from
    published parts. ``n`` is the number of answers behind the estimate (item non-response excluded); ``scope``
    names the subset a stand-in truth is looked up for (e.g. a sector), "all" by default. ``check`` overrides the
    kind of check in findings.csv when a run cannot use the report's method (e.g. "benchmark"). ``excluded`` counts
    the answers left out by why they are missing (kommunelab.survey.excluded), shown beside ``n``.
    """
    row = spec(finding_id)
    locale = locale or language()
    if check is not None:
        if check not in CHECKS:
            raise FindingError(f"finding {finding_id!r}: check must be one of {', '.join(CHECKS)}, got {check!r}")
        row = {**row, "check": check}
    evidence = evidence or row["evidence"]
    if evidence not in EVIDENCE:
        raise FindingError(f"finding {finding_id!r}: evidence must be one of {', '.join(EVIDENCE)}, got {evidence!r}")
    if value is not None:
        value = float(value)
        if not math.isfinite(value):
            raise FindingError(f"finding {finding_id!r}: the computed value is {value}; check the inputs")
    if ci is not None:
        ci = (float(ci[0]), float(ci[1]))
    if value is None and bounds is None and not note:
        raise FindingError(f"finding {finding_id!r}: not computed, so say why in note=")
    if row["check"] == Check.BOUNDS and bounds is None and value is not None:
        raise FindingError(f"finding {finding_id!r} is a bounds check: pass bounds=(low, high)")
    status = _status(row, value, evidence, bounds)
    unit = row["unit"]
    truth = recovered = passed = truth_basis = power_text = None
    if status is FindingStatus.PIPELINE_CHECK:
        from .synthetic import truth_record

        truth, truth_basis = truth_record(finding_id, scope)
        recovered = recovers(unit, value, ci, truth)
        power_text = power(unit, ci, truth_basis, locale)
    elif status is FindingStatus.ARITHMETIC_CHECK:
        passed = targets.contains(row["target_low"], row["target_high"], value, row["target_rule"])
    in_target = None if value is None else targets.contains(row["target_low"], row["target_high"], value,
                                                            row["target_rule"])
    overlap = None if ci is None else targets.overlaps(row["target_low"], row["target_high"], ci)

    def show(x: float | None) -> str:
        if x is None:
            return "—"
        if unit == "yes/no":
            return _("yes") if x >= 0.5 else _("no")
        return fmt.value(x, unit, locale, decimals)

    value_text = show(value) if bounds is None else _("{low} to {high}").format(low=show(bounds[0]),
                                                                                  high=show(bounds[1]))
    if ci is not None:
        value_text += " " + _("(95% CI {low} to {high})").format(low=show(ci[0]), high=show(ci[1]))
    statement, worded = row["statement_en"], row["published_text"]  # in findings.csv; their words in the catalogs
    record = Finding(
        id=finding_id, facts_id=row["facts_id"], statement=_(statement), published=row["published_value"],
        published_text=_(worded), unit=unit, target=(row["target_low"], row["target_high"]),
        target_rule=row["target_rule"], target_text=target_text(row, locale), value=value, ci=ci, bounds=bounds,
        n=None if n is None else int(n), value_text=value_text, in_target=in_target, ci_overlaps_target=overlap,
        status=status, check=row["check"], truth=truth, truth_text=None if truth is None else show(truth),
        recovered=recovered, passed=passed, evidence=evidence, source=row["source"], note=note, scope=scope,
        truth_basis=truth_basis, power=power_text, excluded=dict(excluded) if excluded else None)
    _display({"text/html": card_html(record, row), "text/plain": f"{finding_id}: {value_text} ({record.label})",
              FINDING_MIME: record.record()})
    return record


def recorded(figure_id: str, value: float, *, statement: str, unit: str, source: str, locale: str | None = None,
             decimals: int = 0) -> Finding:
    """Record a key figure that no report published (a municipality profile's population): status "recorded", so a
    data update that moves it shows in the build's changes (drift.json), never a check. ``statement`` is already in
    the reader's language; ``source`` names the table it comes from. Shown as one line."""
    locale = locale or language()
    value = float(value)
    if not math.isfinite(value):
        raise FindingError(f"key figure {figure_id!r}: the computed value is {value}; check the inputs")
    text = fmt.value(value, unit, locale, decimals)
    record = Finding(
        id=figure_id, facts_id="", statement=statement, published=None, published_text="", unit=unit,
        target=(None, None), target_rule="", target_text=_("no published value"), value=value, ci=None, bounds=None,
        n=None, value_text=text, in_target=None, ci_overlaps_target=None, status=FindingStatus.RECORDED,
        check=Check.RECORDED, truth=None, truth_text=None, recovered=None, passed=None, evidence="public-data",
        source=source, note="", scope="all")
    e = html.escape
    _display({"text/html": f"<div class='kl-card kl-card-line kl-status-{e(record.verdict)}' id='finding-{e(figure_id)}' "
                           f"data-finding='{e(figure_id)}'><span class='kl-statement'>{e(statement)}:</span> "
                           f"<strong>{e(text)}</strong> <span class='kl-meta'>({e(_(source))})</span> "
                           f"<span class='kl-pill kl-pill-status'>{e(_(record.label))}</span></div>",
              "text/plain": f"{figure_id}: {text} ({record.label})", FINDING_MIME: record.record()})
    return record


# z(0.975) + z(0.80): an error this many standard errors from the truth is detected 80% of the time at the 95% level
Z95 = NormalDist().inv_cdf(0.975)
POWER_Z = Z95 + NormalDist().inv_cdf(0.80)


EXACT = {"rank": N_("exact: any error that changes the rank fails; an error too small to change the rank passes"),
         "yes/no": N_("exact: any error that changes the answer fails; an error too small to change the answer "
                      "passes"),
         "count": N_("exact: any error that changes the count fails; an error too small to change the count passes"),
         None: N_("exact: any error that changes the value fails; an error too small to change the value passes")}


def power(unit: str, ci: tuple[float, float] | None, truth_basis: str, locale: str | None = None) -> str:
    """What a pipeline check can detect, from the stand-in's design (the estimate's own interval): the smallest
    error in the estimator it catches 80% of the time, or what an exact check and a census count amount to."""
    if truth_basis == "census":
        return _("census count: the stand-in holds the whole population, so this compares a count of it with the "
                 "generator's own count; it checks the counting code, not an estimator")
    if unit in EXACT or ci is None:
        return _(EXACT.get(unit, EXACT[None]))
    se = (ci[1] - ci[0]) / (2 * Z95)
    if unit == "ratio" and ci[0] > 0:
        factor = math.exp(POWER_Z * (math.log(ci[1]) - math.log(ci[0])) / (2 * Z95))
        return _("detects the ratio off by a factor of about {factor} or more, 80% of the time at the 95% level (n "
                 "and design as in the stand-in); smaller errors pass").format(factor=fmt.number(factor, 2, locale))
    shown = fmt.points(POWER_Z * se, 1, locale) if unit in ("pct", "pp") else fmt.value(POWER_Z * se, unit, locale, 2)
    return _("detects an error of about {size} or more, 80% of the time at the 95% level (n and design as in the "
             "stand-in); smaller errors pass").format(size=shown)


def target_text(row: dict[str, Any], locale: str | None = None) -> str:
    """The interval the published wording allows, in the finding's unit ("79.5% to 80.5%")."""
    low, high, unit = row["target_low"], row["target_high"], row["unit"]
    if low is None and high is None:
        return _("no numeric claim")
    if unit == "yes/no":
        return _("yes") if low >= 0.5 else _("no")
    if unit == "rank":
        if high is not None and high != low:
            ranks = [fmt.ordinal(r, locale) for r in range(int(low), int(high) + 1)]
            return _("{first} or {last}").format(first=", ".join(ranks[:-1]), last=ranks[-1])
        return fmt.ordinal(int(low), locale)
    if low == high:
        return fmt.value(low, unit, locale, 0)

    def show(x: float) -> str:  # as many decimals as the interval's ends have, so no end is rounded away
        if unit == "dkk":
            scale = 1e9 if abs(x) >= 1e9 else 1e6 if abs(x) >= 1e6 else 1
            return fmt.dkk(x, locale, decimals=_decimals(x / scale))
        return fmt.value(x, unit, locale, _decimals(x))

    if high is None:
        return _("above {low}").format(low=show(low))
    low_open, high_open = targets.open_ends(row["target_rule"])
    ends = {(False, False): N_("{low} to {high}"), (True, False): N_("over {low} to {high}"),
            (False, True): N_("{low} to under {high}"), (True, True): N_("over {low} to under {high}")}
    return _(ends[low_open, high_open]).format(low=show(low), high=show(high))


def _decimals(x: float) -> int:
    """The decimals ``x`` has (up to 3: a derived end such as 255.5/3850 is shown to 3)."""
    return next((d for d in range(4) if abs(round(x, d) - x) < 1e-9 * max(1.0, abs(x))), 3) if math.isfinite(x) else 0


def evidence_text(evidence: str, check: str) -> str:
    if check == Check.BENCHMARK:
        return _("{evidence}, used for a benchmark that is not the report's method").format(
            evidence=_(EVIDENCE_NAME[evidence]))
    if check == Check.ARITHMETIC:
        return _("arithmetic on figures quoted in the report's source, not a finding of its analysis")
    if check == Check.WHAT_IF:
        return _("{evidence}; at an assumption the user set, so a what-if, not a result").format(
            evidence=_(EVIDENCE_TEXT[evidence]))
    return _(EVIDENCE_TEXT[evidence])


PUBLISHERS = {"co-pi.dk": "Center for Offentlig Innovation (COI)", "coi.dk": "Center for Offentlig Innovation (COI)",
              "ks.no": "KS", "kora.dk": "KORA", "kl.dk": "KL", "danskindustri.dk": "DI", "di.dk": "DI"}


def publisher(url: str) -> str:
    """Who published the page at ``url``, from its domain ("https://www.ks.no/..." -> "KS"); the domain if unknown."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or url
    for domain, name in PUBLISHERS.items():
        if host == domain or host.endswith("." + domain):
            return name
    return host.removeprefix("www.")


def card_html(record: Finding, row: dict[str, Any]) -> str:
    e = html.escape
    synthetic = record.evidence == "synthetic"
    rows = [(_("published"), record.published_text
             + (" " + _("(the wording allows {target})").format(target=record.target_text)
                if record.target_text != record.published_text and record.target != (None, None) else ""))]
    left_out = ", ".join(_("{n} {why}").format(n=fmt.number(n), why=_(why))
                         for why, n in (record.excluded or {}).items())
    computed = (_("computed") if synthetic else _("recomputed") if record.check is Check.RECOMPUTATION
                else _("value"))
    rows.append((computed, record.value_text
                 + ("; " + _("n = {n} answered").format(n=fmt.number(record.n)) if record.n is not None else "")
                 + ("; " + _("left out: {which}").format(which=left_out) if left_out else "")))
    if record.truth_text is not None:
        rows.append((_("stand-in truth"), _("{value} (the value in the generated population)").format(
            value=record.truth_text)))
    if record.power:
        rows.append((_("power"), record.power))
    note = f"<div class='kl-meta'>{e(tidy(record.note))}</div>" if record.note else ""
    status = record.verdict
    source = record.source
    link = (f"<span translate='no'>{e(publisher(source))}</span>, <a href='{e(source)}' translate='no'>{e(source)}</a>"
            if source.startswith("http") else e(_(source)))  # a source without an address, described in words
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    evidence = _("Evidence") if record.status is not FindingStatus.NOT_COMPUTED else _("Evidence when computed")
    return (
        f"<div class='kl-card kl-status-{e(status)}' id='finding-{e(record.id)}' data-finding='{e(record.id)}' "
        f"data-facts='{e(record.facts_id)}'>"
        f"<div class='kl-statement'>{e(record.statement)}</div>"
        f"<table>{body}"
        f"<tr><th>{e(_(T_status))}</th><td><span class='kl-pill kl-pill-status'>{e(_(record.label))}</span> "
        f"<span class='kl-pill'>{e(_(EVIDENCE_NAME[record.evidence]))}</span></td></tr>"
        "</table>"
        f"<div class='kl-meta'>{e(evidence)}: {e(evidence_text(record.evidence, record.check))}.</div>"
        f"<div class='kl-meta'>{e(_(T_in_the_source_s_words))} "
        f"<q lang='{e(quote_language(row['report']))}'>{e(row['quote'])}</q> — {link}</div>"
        f"{note}</div>"
    )


def quote_language(report: str) -> str:
    """The language the source of ``report``'s findings is written in (its ``source_language`` in reports.toml)."""
    from .manifest import load_manifest

    found = load_manifest().get(report)
    return found.source_language if found is not None else "und"
