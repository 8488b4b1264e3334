"""The plan stage: what a build will do, and why: the variants it selects (the requested ones, plus every variant already in
reports/ of the reports asked for), which of them must be built with the reasons, and which recorded variants left
out of this build have gone stale."""

from __future__ import annotations

from pathlib import Path

from ...errors import KommunelabError
from ...manifest import Report, Variant, validate_parameters
from ...records import OUTPUT_KINDS, BuildStatus, Outcome
from .request import BuildOptions
from .stale import stale_reasons


def formats_for(variant: Variant, options: BuildOptions) -> tuple[str, ...]:
    """The formats requested for this build that the report declares (reports.toml `formats`)."""
    return tuple(f for f in options.formats if f in variant.report.formats)


def recorded_variant(outcome: Outcome, manifest: dict[str, Report]) -> Variant | None:
    """The variant a build.json record stands for, if reports.toml still declares it (else `kommunelab prune`)."""
    report = manifest.get(outcome.report)
    if report is None or set(outcome.params) != set(report.parameters):
        return None
    try:
        variant = Variant(report, validate_parameters(report, outcome.params))
    except KommunelabError:
        return None
    return variant if variant.id == outcome.variant else None


def with_recorded(selected: list[Variant], previous: dict[str, Outcome], manifest: dict[str, Report]) -> list[Variant]:
    """``selected`` and every variant already built of the same reports (grid members, one-off -p variants): the
    scheduled `kommunelab build` keeps all of reports/ current, not only the defaults."""
    names = {f"{v.report.id}/{v.id}" for v in selected}
    reports = {v.report.id for v in selected}
    extra = []
    for name, outcome in sorted(previous.items()):
        if name in names or outcome.report not in reports:
            continue
        variant = recorded_variant(outcome, manifest)
        if variant is not None:
            extra.append(variant)
    return selected + extra


def plan(selected: list[Variant], previous: dict[str, Outcome], root: Path, options: BuildOptions,
         memo: dict) -> tuple[list[tuple[Variant, list[str]]], list[Variant]]:
    """(variants to build with why, variants current)."""
    todo, current = [], []
    for v in selected:
        if options.force:
            todo.append((v, ["--force"]))
            continue
        reasons = stale_reasons(v, previous.get(f"{v.report.id}/{v.id}"), root, formats_for(v, options),
                                options.show_code, memo)
        if reasons:
            todo.append((v, reasons))
        else:
            current.append(v)
    return todo, current


def stale_elsewhere(previous: dict[str, Outcome], selected: list[Variant], manifest: dict[str, Report], root: Path,
                    options: BuildOptions, memo: dict) -> list[Outcome]:
    """Records this build does not touch, marked "stale" (with the reasons) when their inputs changed since they
    were built, and back to "built" when they are current again. Failed records stay failed."""
    names = {f"{v.report.id}/{v.id}" for v in selected}
    out = []
    for name, outcome in previous.items():
        if name in names or outcome.status is BuildStatus.FAILED:
            continue
        variant = recorded_variant(outcome, manifest)
        if variant is None:
            continue
        formats = tuple(k for k in outcome.outputs if k in OUTPUT_KINDS and k != "ipynb") or formats_for(variant, options)
        show_code = bool(outcome.inputs.get("show_code", False))
        reasons = stale_reasons(variant, outcome, root, formats, show_code, memo)
        status = BuildStatus.STALE if reasons else BuildStatus.BUILT
        if status != outcome.status or tuple(reasons) != outcome.stale:
            out.append(outcome.but(status=status, stale=tuple(reasons)))
    return out
