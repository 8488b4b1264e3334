"""reports/index.html: every report and variant (links, build time, status) and the findings scorecard, rendered from
the build's typed records."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from ...i18n import LANGUAGES, SOURCE, _, date, language_name, moment, ngettext, sort_key, translator, using
from ...manifest import LANGUAGE
from ...markup import INDEX_CSP
from ...paths import library_dir
from ...records import (
    DATA_KIND,
    EVIDENCE_NAME,
    FINDINGS_LABEL,
    INDEX_FILE,
    NOT_PASSED,
    SITE_URL_ENV,
    Basis,
    BuildRecord,
    BuildStatus,
    Finding,
    FindingStatus,
    Verdict,
    basis,
    status_css,
)


@dataclass(frozen=True)
class Scored:
    """A finding on the scorecard, with the variant it was computed in."""

    report: str
    variant: str
    finding: Finding


def checked(finding: Finding) -> bool:
    """Is this finding checked against something published (on the scorecard)? A recorded key figure is not: it
    shows in the changes only."""
    return finding.status is not FindingStatus.RECORDED


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
    when none is), then what the others rest on (in the language being written)."""
    counts = Counter(basis(s.finding) for s in scorecard)
    others = [b.phrase(counts[b]) for b in Basis if counts[b] and b is not Basis.RECOMPUTED]
    first = Basis.RECOMPUTED.phrase(counts[Basis.RECOMPUTED])
    if others:
        first += "; " + (_("{items}; and {last}").format(items="; ".join(others[:-1]), last=others[-1])
                         if len(others) > 1 else others[0])
    return ngettext("Of the {n} published finding these reports check (default parameters), {rest}.",
                    "Of the {n} published findings these reports check (default parameters), {rest}.",
                    len(scorecard)).format(n=len(scorecard), rest=first)


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


def index_file(code: str, main: str) -> str:
    """index.html in the site's language, index.<language>.html in each other language built."""
    return INDEX_FILE if code == main else f"index.{code}.html"


def render_indexes(build: BuildRecord, manifest: dict[str, Any] | None, drift: dict[str, Any] | None,
                   main: str) -> dict[str, str]:
    """The index in ``main`` (index.html) and in every other language a variant is built in (index.<code>.html)."""
    codes = [main, *sorted({language_of(o) for o in build.variants} - {main})]
    files = {code: index_file(code, main) for code in codes}
    return {files[code]: render_index(build, manifest, drift, code, files) for code in codes}


def language_of(outcome) -> str:
    return str((outcome.params or {}).get(LANGUAGE, SOURCE))


def _in_language(records, code: str, manifest: dict[str, Any]) -> list:
    """Of each variant built in several languages, the version in ``code``; else the one in its report's default
    language; else the first built."""
    groups: dict[tuple, list] = {}
    for o in records:
        rest = tuple(sorted((k, str(v)) for k, v in (o.params or {}).items() if k != LANGUAGE))
        groups.setdefault((o.report, rest), []).append(o)
    chosen = []
    for (rid, _rest), versions in groups.items():
        report = manifest.get(rid)
        preferred = [code, *(report.languages if report is not None else ())]
        chosen.append(min(versions, key=lambda o: (preferred.index(language_of(o)) if language_of(o) in preferred
                                                   else len(preferred), o.variant)))
    return sorted(chosen, key=lambda o: (o.report, o.variant))


def render_index(build: BuildRecord, manifest: dict[str, Any] | None = None, drift: dict[str, Any] | None = None,
                 code: str = SOURCE, files: dict[str, str] | None = None) -> str:
    """The index page in language ``code``: each report with its description and its grid variants listed by label
    (with a filter box when there are many), the findings scorecard linking each finding to the card that records it,
    and the build details. ``build`` is build.json's record; ``manifest`` (reports.toml) the reports' order, titles
    and descriptions; ``drift`` (drift.json) the findings that changed in the last build; ``files`` the index page of
    each language (links between them)."""
    with using(code):
        return _render_index(build, manifest or {}, drift or {}, code, files or {code: INDEX_FILE})


def _render_index(build: BuildRecord, manifest: dict[str, Any], drift: dict[str, Any], code: str,
                  files: dict[str, str]) -> str:
    env = Environment(loader=FileSystemLoader(library_dir() / "templates"), autoescape=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=True)  # _("...%(n)s", n=...) in the template
    env.globals["t"] = _  # a message held in a value (a status's label): translated, never %-formatted
    env.tests["data_output"] = lambda kind: str(kind).startswith(DATA_KIND)  # a CSV behind a figure, not a page
    everything = build.variants
    records = _in_language(everything, code, manifest)

    def written_in(r) -> str:  # a report not written in this index's language is listed in its own
        return code if code in r.languages or not r.languages else r.languages[0]

    def tr(rid: str, text: str) -> str:  # a report's own text (title, description, source), from its catalog
        return translator(written_in(manifest[rid]), rid).gettext(text) if text else text

    reports: dict[str, dict[str, Any]] = {
        rid: {"title": tr(rid, r.title), "description": tr(rid, r.description), "source": tr(rid, r.source),
              "lang": written_in(r), "variants": [],
              "grid_names": _(" and ").join(tr(rid, name.replace("_", " ")) for name in r.grid)}
        for rid, r in manifest.items()}
    for o in records:
        entry = reports.setdefault(o.report, {"title": o.title or o.report, "description": "", "variants": [],
                                              "grid_names": ""})
        entry["variants"].append(o)
    reports = {rid: e for rid, e in reports.items() if e["variants"]}
    for entry in reports.values():
        outcomes = entry["variants"]
        main = [o for o in outcomes if o.is_default] or (outcomes if len(outcomes) == 1 else [])
        main = main or [o for o in outcomes if not o.label][:1]  # the default's version in this language
        entry["main"] = main[0] if main else None
        entry["alternates"] = _alternates(entry["main"], everything, code) if entry["main"] else []
        # Variants told apart by a label (grid members, one-off parameter sets), listed by it.
        key = sort_key(code)
        entry["grid"] = sorted((o for o in outcomes if o.label), key=lambda o: key(o.label))
        entry["search"] = {o.variant: search_terms(o, manifest.get(o.report)) for o in entry["grid"]}
        entry["groups"] = grouped(entry["grid"], manifest.get(outcomes[0].report), entry["search"])
        entry["pages"] = {o.variant: o.outputs["html"] for o in outcomes if o.outputs.get("html")}
        entry["languages"] = {o.variant: language_of(o) for o in outcomes}
        entry["map"] = municipality_map(outcomes, manifest[outcomes[0].report].defaults()
                                        if outcomes[0].report in manifest else {})
    # The scorecard shows each finding once per report: from the default-parameter variant when built, else the first.
    seen, scorecard = set(), []
    for o in sorted(records, key=lambda o: (o.report, not o.is_default, o.variant)):
        for f in o.findings:
            if (o.report, f.id) not in seen and checked(f):
                seen.add((o.report, f.id))
                scorecard.append(Scored(o.report, o.variant, f))
    scorecard.sort(key=lambda s: s.report)
    every = [Scored(o.report, o.variant, f) for o in records for f in o.findings if checked(f)]  # every variant's
    not_passed = [s for s in every if s.finding.verdict in NOT_PASSED]
    labels = {(o.report, o.variant): o.label or o.variant for o in records}
    history = [{**entry, "when": moment(entry.get("generated", ""), code)} for entry in drift_history(drift)]
    template = env.get_template("index.html.j2")
    return template.render(csp=INDEX_CSP, site_url=os.environ.get(SITE_URL_ENV, "").strip(), state=build,
                           reports=reports, scorecard=scorecard, matrix=evidence_by_status(every),
                           real=how_much_is_real(scorecard), not_passed=not_passed, labels=labels,
                           n_checked=len(every), lang=code, generated=moment(build.generated, code),
                           generated_date=date(build.generated, code),
                           revision_code=Markup(f'<code translate="no">{escape(build.git_revision)}</code>'),
                           language_names={c: language_name(c, code) for c in LANGUAGES},
                           other_indexes=[(c, language_name(c), f) for c, f in files.items() if c != code],
                           evidence_name={k: _(v) for k, v in EVIDENCE_NAME.items()},
                           n_variants=len(records), verdicts=Verdict, status_css=status_css(),
                           attention=(BuildStatus.FAILED, BuildStatus.STALE),
                           n_failed=sum(o.status is BuildStatus.FAILED for o in records),
                           n_stale=sum(o.status is BuildStatus.STALE for o in records),
                           findings_kind=DATA_KIND + FINDINGS_LABEL,
                           latest=history[0] if history else None, earlier=history[1:],
                           history_limit=drift.get("limit") or len(history))


GROUP_OVER = 60  # a list of more variants than this, varying in two parameters or more, is grouped by the first


@dataclass(frozen=True)
class Group:
    """Variants that share the value of a report's first varying parameter (a municipality), listed as one item:
    its label and detail, and each member's page under the values of the other parameters ("2021")."""

    label: str
    detail: str
    members: tuple[tuple[Any, str], ...]  # (outcome, what tells it apart within the group)
    search: str


def grouped(outcomes: list, report, search: dict[str, str]) -> list[Group] | None:
    """The grid's variants grouped by the first parameter that varies among them (in the grid's order), when there
    are more than GROUP_OVER and at least two parameters vary (every municipality x 14 years: 98 items, not 1,372);
    None when the plain list is short enough."""
    from ...manifest import value_label

    if report is None or len(outcomes) <= GROUP_OVER:
        return None
    names = [n for n in [*report.grid, *report.parameters] if n != LANGUAGE and n in report.parameters]
    varying = [n for n in dict.fromkeys(names) if len({str((o.params or {}).get(n)) for o in outcomes}) > 1]
    if len(varying) < 2:
        return None
    first, rest = varying[0], varying[1:]
    by: dict[str, list] = {}
    for o in outcomes:
        by.setdefault(str(o.params.get(first)), []).append(o)
    groups = []
    for value, members in by.items():
        label, detail = value_label(report.parameters[first], value)
        named = sorted(((o, ", ".join(value_label(report.parameters[n], o.params.get(n))[0] for n in rest))
                        for o in members), key=lambda m: [str(m[0].params.get(n)) for n in rest])
        terms = " ".join(sorted({t for o in members for t in search.get(o.variant, "").split()}))
        groups.append(Group(label, detail, tuple(named), terms))
    key = sort_key()
    return sorted(groups, key=lambda g: key(g.label))


MAP_PARAMETER = "municipality"  # a grid over this parameter (a Danish municipality's code) is shown on a map


def municipality_map(outcomes: list, defaults: dict[str, Any]) -> Markup | None:
    """The map of Denmark for a report whose variants are municipalities (kommunelab.geo.svg_map): each one built
    links to its page; of several variants of one municipality (years), the one with the report's other defaults,
    else the last by its parameters. None when the variants are not municipalities or the boundaries cannot be read."""
    from ...errors import KommunelabError
    from ...geo import svg_map

    def rank(o) -> tuple:
        others = {k: v for k, v in (o.params or {}).items() if k not in (MAP_PARAMETER, LANGUAGE)}
        return (all(str(defaults.get(k)) == str(v) for k, v in others.items()), sorted(map(str, others.values())))

    links = {}
    for o in sorted(outcomes, key=rank):  # the preferred last: it overwrites the others
        code, page = str((o.params or {}).get(MAP_PARAMETER, "")), o.outputs.get("html") or o.outputs.get("pdf")
        if code.isdigit() and page:
            links[int(code)] = (page, o.label or o.title or code)
    if not links:
        return None
    try:
        return Markup(svg_map(links))
    except KommunelabError:  # no boundaries to draw: the list still links every variant
        return None


def drift_history(drift: dict[str, Any]) -> list[dict[str, Any]]:
    """The builds that changed a finding, newest first (drift.json's history; an older drift.json: its changes)."""
    if drift.get("history"):
        return list(drift["history"])
    return [{"generated": drift.get("generated", ""), "changes": drift["changes"]}] if drift.get("changes") else []


def _alternates(main, everything, code: str) -> list[tuple[str, str]]:
    """(language name, page) of the same variant in the other languages it is built in."""
    rest = {k: str(v) for k, v in (main.params or {}).items() if k != LANGUAGE}
    found = [(language_of(o), o.outputs.get("html") or o.outputs.get("pdf")) for o in everything
             if o.report == main.report and language_of(o) not in (code, language_of(main))
             and {k: str(v) for k, v in (o.params or {}).items() if k != LANGUAGE} == rest]
    return [(c, language_name(c), page) for c, page in sorted(found) if page]
