"""Stage 1: what to build. Options and the requested variants are validated before anything runs."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import KommunelabError, shorten
from ...manifest import FORMATS, LANGUAGE, Variant, load_manifest, variants
from ...names import did_you_mean

DEFAULT_TIMEOUT = 600.0  # seconds for one variant, execution and printing, unless reports.toml says otherwise


MIN_KERNEL_MB = 256  # what a kernel with pandas, seaborn and statsmodels imported needs to start, with room


@dataclass(frozen=True)
class BuildOptions:
    formats: tuple[str, ...] = FORMATS
    jobs: int = field(default_factory=lambda: default_jobs())  # one worker per core: the API's and the CLI's default
    force: bool = False
    show_code: bool = False
    data_mirror: str | None = None
    timeout: float | None = None  # seconds for one variant; None: the report's `timeout` in reports.toml
    max_output_mb: float = 20.0  # what one cell may output
    kernel_memory_mb: int = 4096  # what one kernel may allocate
    wait: bool = False  # wait for another build on the same reports/ to finish instead of refusing
    fork_kernels: bool = True  # fork kernels from a worker's template with the libraries imported (kommunelab.engine.run.forking)
    executor: str = "local"  # local: a pool of worker processes; dask: tasks on the Dask cluster at `scheduler`
    scheduler: str | None = None  # a Dask scheduler's address, tcp://HOST:8786
    languages: tuple[str, ...] = ()  # --language: build each report in these (of those it offers); () its default

    def __post_init__(self) -> None:
        if not self.formats:
            raise KommunelabError("--formats: name at least one format (html, pdf or html,pdf)")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise KommunelabError(f"--formats: unknown format(s) {', '.join(unknown)}; use html, pdf or html,pdf")
        if self.executor not in ("local", "dask"):
            raise KommunelabError(f"--executor must be local or dask, got {self.executor!r}")
        if self.executor == "dask" and not self.scheduler:
            raise KommunelabError("--executor dask needs --scheduler tcp://HOST:8786 (start one with `dask scheduler`)")
        if self.executor == "local" and self.scheduler:
            raise KommunelabError("--scheduler is for --executor dask")
        from ...i18n import LANGUAGES

        unknown = [code for code in self.languages if code not in LANGUAGES and code != ALL_LANGUAGES]
        if unknown:
            raise KommunelabError(f"--language: unknown {', '.join(map(repr, unknown))}; use one or more of "
                                  f"{', '.join(LANGUAGES)} (comma-separated), or {ALL_LANGUAGES}")
        if not isinstance(self.jobs, int) or isinstance(self.jobs, bool) or self.jobs < 1:
            raise KommunelabError(f"--jobs must be a whole number of at least 1, got {self.jobs!r}")
        if isinstance(self.kernel_memory_mb, int) and 0 < self.kernel_memory_mb < MIN_KERNEL_MB:
            raise KommunelabError(f"--kernel-memory-mb {self.kernel_memory_mb}: a kernel needs about 200 MB to start; "
                                  f"give at least {MIN_KERNEL_MB}")
        for flag, value in (("--timeout", self.timeout), ("--max-output-mb", self.max_output_mb),
                            ("--kernel-memory-mb", self.kernel_memory_mb)):
            if flag == "--timeout" and value is None:
                continue
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise KommunelabError(f"{flag} must be a positive number, got {value!r}")

    def timeout_for(self, report) -> float:
        return float(self.timeout or report.timeout or DEFAULT_TIMEOUT)


ALL_LANGUAGES = "all"  # --language all: every language each report offers


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def select_variants(report_ids: list[str] | None, overrides: dict[str, Any] | list[dict[str, Any]] | None = None,
                    all_variants: bool = False, languages: tuple[str, ...] = ()) -> list[Variant]:
    """Validate the request against the manifest before anything runs; errors name report and parameter.
    ``overrides`` is one parameter set or a list of them (a parameter file): one variant (or grid) each.
    ``languages`` (--language) builds each report in those of them it offers ("all": every one it offers); a report
    named explicitly that offers none of them is an error, one not named is left out."""
    manifest = load_manifest()
    ids = report_ids or list(manifest)
    unknown = [r for r in ids if r not in manifest]
    if unknown:
        hints = "".join(did_you_mean(u, manifest) for u in unknown[:1])
        raise KommunelabError(f"unknown report(s) {', '.join(shorten(u, 60) for u in unknown)}{hints} "
                              f"(known: {', '.join(manifest)})")
    sets = overrides if isinstance(overrides, list) else [overrides or {}]
    if any(sets) and not report_ids and len(ids) > 1:
        raise KommunelabError("-p NAME=VALUE and -f FILE apply to the reports you name; name them "
                              "(e.g. kommunelab build coi_citizens_volunteers kl_collaborations -p data_dir=DIR)")
    if any(sets) and len(ids) > 1:  # several named reports: each must declare every parameter given
        for rid in ids:
            lacking = sorted({name for params in sets for name in params} - set(manifest[rid].parameters))
            if lacking:
                raise KommunelabError(f"report {rid!r} has no parameter {', '.join(map(repr, lacking))}; with several "
                                      "reports, -p and -f give parameters that every one of them declares")
    if languages:
        if any(LANGUAGE in params for params in sets):
            raise KommunelabError("give the language once: --language, or -p language=..., not both")
        offered = {rid: [code for code in manifest[rid].languages
                         if ALL_LANGUAGES in languages or code in languages] for rid in ids}
        if report_ids:
            lacking = [rid for rid in ids if not offered[rid]]
            if lacking:
                raise KommunelabError(f"--language {','.join(languages)}: not a language of " + "; ".join(
                    f"{rid} (its languages: {', '.join(manifest[rid].languages) or 'English only'})"
                    for rid in lacking))
        ids = [rid for rid in ids if offered[rid]]
        if not ids:
            raise KommunelabError(f"--language {','.join(languages)}: no report is written in it")
    selected, seen = [], set()
    for rid in ids:
        in_languages = [{LANGUAGE: code} for code in offered[rid]] if languages else [{}]
        for params in [{**given, **language} for given in sets for language in in_languages]:
            for v in variants(manifest[rid], params, all_variants):
                if (rid, v.id) not in seen:
                    seen.add((rid, v.id))
                    selected.append(v)
    return selected


ASSIGNMENT = re.compile(r"\s*([A-Za-z_]\w*)\s*[=:](.*)", re.S)


def parse_assignments(items: list[str]) -> dict[str, str]:
    """['year=2016', 'municipality:Gribskov'] -> {'year': '2016', 'municipality': 'Gribskov'} (NAME=VALUE, or
    NAME:VALUE as papermill writes it; the value is everything after the first = or :)."""
    out = {}
    for item in items:
        match = ASSIGNMENT.fullmatch(item)
        if not match:
            raise KommunelabError(f"-p {item!r}: expected NAME=VALUE or NAME:VALUE, e.g. -p year=2016")
        out[match.group(1)] = match.group(2)
    return out


PARAMETER_FILE_LIMIT = 1024 * 1024  # bytes: a parameter file is a few lines; past this it is a mistake or worse


def read_parameter_sets(path: Path) -> list[dict[str, Any]]:
    """A YAML (or JSON) file of parameters, as papermill's -f takes it: one mapping (one variant) or a list of
    mappings (one variant each). YAML aliases (``*name``) are refused: a few hundred bytes of nested aliases expand
    to gigabytes, and a parameter file has no use for them."""
    import yaml

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(f"line {mark.line + 1}: aliases (*name) are not allowed in a parameter file; "
                                     "write each value out")
            return super().compose_node(parent, index)

    try:
        if Path(path).stat().st_size > PARAMETER_FILE_LIMIT:
            raise KommunelabError(f"-f {path}: larger than {PARAMETER_FILE_LIMIT // 1024} KB; a parameter file holds "
                                  "a few NAME: VALUE lines")
        loaded = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=NoAliases)  # noqa: S506 (a SafeLoader)
    except OSError as exc:
        raise KommunelabError(f"-f {path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise KommunelabError(f"-f {path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise KommunelabError(f"-f {path}: not valid YAML: {shorten(str(exc))}") from None
    sets = loaded if isinstance(loaded, list) else [loaded]
    for n, item in enumerate(sets, start=1):
        if not isinstance(item, dict) or not all(isinstance(k, str) for k in item):
            raise KommunelabError(f"-f {path}: parameter set {n} must be a mapping of NAME: VALUE, got "
                                  f"{shorten(repr(item), 80)}")
    return [dict(item) for item in sets]
