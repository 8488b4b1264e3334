"""The publish stage: put what a worker made in place and record it: each output moved into reports/<report>/ with an atomic
rename, then build.json, findings.json and index.html, each written whole. A failed variant keeps the previous good
outputs and its executed notebook as <variant>.failed.ipynb; a stale one from another failure is removed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ...errors import FileSystemError, KommunelabError
from ...manifest import Report, Variant, site_language
from ...paths import REPORTS, real_folder, relative, write_atomic, write_set
from ...provenance import git_revision
from ...records import (
    DATA_KIND,
    DRIFT_FILE,
    FINDINGS_FILE,
    FINDINGS_LABEL,
    INDEX_FILE,
    OUTPUT_KINDS,
    STATE_BACKUP,
    STATE_FILE,
    BuildRecord,
    BuildStatus,
    Failure,
    Finding,
    Outcome,
    Result,
    Stage,
    data_file,
    findings_csv,
)
from ..plan.cache import input_key


def promote(variant: Variant, result: Result, root: Path, previous: Outcome | None, built_at: str,
            formats: tuple[str, ...], show_code: bool) -> Outcome:
    """Move a finished variant's files into place and describe it."""
    dest = root / REPORTS / variant.report.id
    base = Outcome(report=variant.report.id, variant=variant.id, title=variant.title, params=dict(variant.params),
                   status=result.status, is_default=variant.params == variant.report.defaults(), seconds=round(result.seconds, 2),
                   built_at=built_at, label=variant.label, detail=variant.detail)
    failed_copy = dest / f"{variant.id}.failed.ipynb"
    try:
        real_folder(dest, root / REPORTS)
        if result.status is BuildStatus.BUILT:
            outputs = {}
            for kind in OUTPUT_KINDS:
                target = dest / f"{variant.id}.{kind}"
                if kind in result.files:
                    os.replace(result.files[kind], target)
                    outputs[kind] = relative(target, root / REPORTS)
                else:  # an HTML-only rebuild: a PDF of the earlier build would no longer match, so it goes
                    target.unlink(missing_ok=True)
            data = {**result.collected.tables, FINDINGS_LABEL: findings_csv(result.collected.findings)}
            for label, text in data.items():  # the data behind its figures and tables, and its findings
                target = write_atomic(dest / data_file(variant.id, label), text)
                outputs[DATA_KIND + label] = relative(target, root / REPORTS)
            for kind, rel in (previous.outputs if previous is not None else {}).items():
                if kind.startswith(DATA_KIND) and kind not in outputs:  # a figure the report no longer has
                    (root / REPORTS / rel).unlink(missing_ok=True)
            failed_copy.unlink(missing_ok=True)
            key, inputs = input_key(variant, list(result.collected.data_files), root, formats, show_code)
            return base.but(outputs=outputs, findings=result.collected.findings, key=key, inputs=inputs)
        failure = result.failure
        executed = result.files.get("ipynb")
        if executed and Path(executed).is_file() and Path(executed).stat().st_size > 0:
            os.replace(executed, failed_copy)
            failure = failure.but(notebook=relative(failed_copy, root))
        else:
            failed_copy.unlink(missing_ok=True)  # it belongs to an earlier, different failure
    except OSError as exc:  # a read-only folder, a full disk: this variant fails, the build goes on
        failure = Failure(stage=Stage.PUBLISH, exception=type(exc).__name__,
                          message=f"{exc.strerror or exc} ({relative(dest, root)})")
    except KommunelabError as exc:  # reports/<report> is a link or a file: nothing is written through it
        failure = Failure(stage=Stage.PUBLISH, exception=type(exc).__name__, message=str(exc))
    kept = previous.outputs if previous is not None else {}
    return base.but(status=BuildStatus.FAILED, failure=failure, outputs=dict(kept),
                    findings=previous.findings if previous is not None and kept else ())


def still_declared(outcome: Outcome, manifest: dict[str, Report]) -> bool:
    """Is this record's report still in the manifest, with the same parameters making the same variant?

    The recorded values were validated when built; this checks the declaration only (names, fixed choices, the
    variant id), so no table behind a `choices_from` is loaded for it."""
    report = manifest.get(outcome.report)
    if report is None or set(outcome.params) != set(report.parameters):
        return False
    if any(p.choices is not None and outcome.params[name] not in p.choices for name, p in report.parameters.items()):
        return False
    return Variant(report, outcome.params).id == outcome.variant


def unchanged(root: Path, previous: dict[str, Outcome], manifest: dict[str, Report]) -> bool:
    """Whether a build that built nothing would write what is already there: build.json, findings.json and the index
    exist and every recorded variant is still declared (a no-op then writes nothing and keeps its time)."""
    folder = root / REPORTS
    return (all((folder / name).is_file() for name in (STATE_FILE, FINDINGS_FILE, INDEX_FILE))
            and all(still_declared(o, manifest) for o in previous.values()))


def write_outputs(root: Path, outcomes: list[Outcome], previous: dict[str, Outcome], manifest: dict[str, Report],
                  generated: str, changes: list[dict[str, Any]] | None = None,
                  revision: str | None = None, language: str | None = None) -> list[Outcome]:
    """build.json, findings.json and index.html (and drift.json when ``changes`` are given: the findings that moved
    in this build), switched into place as one set (paths.write_set). Records of variants not built this time are
    kept while the manifest still declares them; records of removed reports and variants are dropped (``kommunelab
    prune`` lists their files). ``revision`` is the build's, when it found it already; ``language`` the index's (the
    build's --language when it gave one, else the site's: reports.toml [site] language). Returns the records written."""
    from .index import render_indexes

    merged = {name: o for name, o in previous.items() if still_declared(o, manifest)}
    merged.update({o.name: o for o in outcomes})
    records = sorted((o.but(status=BuildStatus.BUILT) if o.status is BuildStatus.CURRENT else o
                      for o in merged.values()),
                     key=lambda o: (o.report, o.variant))
    folder = root / REPORTS
    build = BuildRecord(generated=generated, git_revision=revision or git_revision(root), variants=tuple(records))
    findings = [{"report": o.report, "variant": o.variant, **f.record()} for o in records for f in o.findings]
    drift = (drift_record(_last_drift(folder), generated, revision or build.git_revision, changes)
             if changes is not None else _last_drift(folder))
    contents = {STATE_FILE: json.dumps(build.record(), indent=1, ensure_ascii=False, default=str),
                FINDINGS_FILE: json.dumps(findings, indent=1, ensure_ascii=False, default=str),
                **render_indexes(build, manifest, drift, language or site_language())}
    if changes is not None:
        contents[DRIFT_FILE] = json.dumps(drift, indent=1, ensure_ascii=False, default=str)
    try:
        folder.mkdir(exist_ok=True)
        write_set(folder, contents)
        write_atomic(folder / STATE_BACKUP, contents[STATE_FILE])  # the last good copy, should build.json be damaged
    except OSError as exc:
        raise FileSystemError(f"cannot write the build's record in {folder}: {exc.strerror or exc}; the reports built "
                              "are in place but not recorded (build.json, findings.json and index.html are the "
                              "previous ones), so the next build builds them again") from None
    return records


def _last_drift(folder: Path) -> dict[str, Any]:
    try:
        record = json.loads((folder / DRIFT_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


DRIFT_HISTORY = 100  # builds that changed a finding, kept in drift.json's history (the oldest go first)


def drift_record(last: dict[str, Any], generated: str, revision: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
    """drift.json after a build that built something: ``changes`` are this build's (top level, as before: empty when
    nothing moved), and ``history`` lists every build that changed a finding, newest first, up to DRIFT_HISTORY
    (an earlier drift.json without a history contributes its own changes as the first entry)."""
    history = list(last.get("history") or [])
    if not history and last.get("changes"):  # drift.json as written before it kept a history
        history = [{"generated": last.get("generated", "?"), "git_revision": last.get("git_revision", "?"),
                    "changes": last["changes"]}]
    if changes:
        history.insert(0, {"generated": generated, "git_revision": revision, "changes": changes})
    return {"generated": generated, "git_revision": revision, "changes": changes, "limit": DRIFT_HISTORY,
            "history": history[:DRIFT_HISTORY]}


def changed_inputs(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """The inputs whose content differs between two builds of a variant (their rebuild keys' parts, Outcome.inputs):
    data files by name ("dk/population.csv"; a file outside the project by its file name only: drift.json is
    published), the notebook, library modules, reports.toml, catalogs."""
    def name(part: str, key: str) -> str:
        kind, _, path = key.partition(":") if ":" in key else ("", "", key)
        return ("lib/kommunelab/" if part == "library" else "") + (Path(path).name if kind == "file" else path)

    names = []
    for part in ("data", "notebook", "library", "catalogs"):
        old, new = before.get(part) or {}, now.get(part) or {}
        if isinstance(old, dict) and isinstance(new, dict):
            names += [name(part, k) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    if before.get("manifest") != now.get("manifest"):
        names.append("reports.toml")
    return names


def drift(previous: dict[str, Outcome], outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """Each finding of a variant built now whose value or status differs from the previous build of that variant:
    old and new value (also as the report prints them, in its units), old and new status, whether it left (or
    entered) its target interval, and the inputs whose content changed between the two builds. For a pipeline check
    the interval test is whether it still recovers its truth."""
    changes = []
    for o in outcomes:
        prev = previous.get(o.name)
        if o.status is not BuildStatus.BUILT or prev is None:
            continue
        old: dict[str, Finding] = {f.id: f for f in prev.findings}
        for f in o.findings:
            p = old.get(f.id)
            if p is None or (p.value == f.value and p.verdict is f.verdict):
                continue
            was, now = p.meets_target, f.meets_target
            changes.append({"report": o.report, "variant": o.variant, "id": f.id, "statement": f.statement,
                            "old": p.value, "new": f.value, "old_text": p.value_text, "new_text": f.value_text,
                            "old_status": p.label, "new_status": f.label, "status_changed": p.verdict is not f.verdict,
                            "left_interval": was is True and now is False,
                            "entered_interval": was is False and now is True, "built_before": prev.built_at,
                            "inputs": changed_inputs(prev.inputs, o.inputs)})
    return changes


def drift_lines(changes: list[dict[str, Any]]) -> list[str]:
    """The build's closing lines about findings: each change, then those that left their interval."""
    lines = [f"finding changed: {c['report']}/{c['variant']} {c['id']}: {c['old_text']} -> {c['new_text']}"
             + (f" ({c['old_status']} -> {c['new_status']})" if c["status_changed"] else "")
             + (f"; changed inputs: {', '.join(c['inputs'])}" if c.get("inputs") else "") for c in changes]
    left = [c for c in changes if c["left_interval"]]
    if left:
        lines.append(f"{len(left)} finding(s) moved out of their target interval: "
                     + ", ".join(f"{c['report']}/{c['variant']} {c['id']}" for c in left))
    return lines
