"""Stage 1: what to build. Options and the requested variants are validated before anything runs."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..errors import KommunelabError
from ..manifest import FORMATS, Variant, load_manifest, variants

DEFAULT_TIMEOUT = 600.0  # seconds for one variant, execution and printing, unless reports.toml says otherwise


@dataclass(frozen=True)
class BuildOptions:
    formats: tuple[str, ...] = FORMATS
    jobs: int = 2
    force: bool = False
    show_code: bool = False
    data_mirror: str | None = None
    timeout: float | None = None  # seconds for one variant; None: the report's `timeout` in reports.toml
    max_output_mb: float = 20.0  # what one cell may output
    kernel_memory_mb: int = 4096  # what one kernel may allocate
    wait: bool = False  # wait for another build on the same reports/ to finish instead of refusing
    refresh_data: bool = False  # refetch reference data instead of using data/raw copies
    fork_kernels: bool = True  # fork kernels from a worker's template with the libraries imported (kommunelab.forking)

    def __post_init__(self) -> None:
        if not self.formats:
            raise KommunelabError("--formats: name at least one format (html, pdf or html,pdf)")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise KommunelabError(f"--formats: unknown format(s) {', '.join(unknown)}; use html, pdf or html,pdf")
        if not isinstance(self.jobs, int) or isinstance(self.jobs, bool) or self.jobs < 1:
            raise KommunelabError(f"--jobs must be a whole number of at least 1, got {self.jobs!r}")
        for flag, value in (("--timeout", self.timeout), ("--max-output-mb", self.max_output_mb),
                            ("--kernel-memory-mb", self.kernel_memory_mb)):
            if flag == "--timeout" and value is None:
                continue
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise KommunelabError(f"{flag} must be a positive number, got {value!r}")

    def timeout_for(self, report) -> float:
        return float(self.timeout or report.timeout or DEFAULT_TIMEOUT)


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def select_variants(report_ids: list[str] | None, overrides: dict[str, str] | None = None,
                    all_variants: bool = False) -> list[Variant]:
    """Validate the request against the manifest before anything runs; errors name report and parameter."""
    manifest = load_manifest()
    ids = report_ids or list(manifest)
    unknown = [r for r in ids if r not in manifest]
    if unknown:
        raise KommunelabError(f"unknown report(s) {', '.join(unknown)}; known: {', '.join(manifest)}")
    if overrides and len(ids) > 1:
        raise KommunelabError("-p NAME=VALUE applies to one report; name exactly one report to build")
    selected = []
    for rid in ids:
        selected.extend(variants(manifest[rid], overrides or {}, all_variants))
    return selected
