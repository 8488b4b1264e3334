"""Every value that crosses a stage or a process, declared once: the statuses (with their labels, meanings and
colours), a finding, a failure, a task and its result, a variant's outcome, the MIME types findings and provenance
travel under in a notebook's outputs, and the names of the build's own files in reports/.

The notebook side (kommunelab.findings, kommunelab.report) and the engine (kommunelab.engine) both import this
module and nothing else of each other. Records are frozen and keyword-only; they validate themselves when made, and
their serial forms (build.json, findings.json) are ``record()`` / ``from_record()``. A status string written anywhere
else in the library is a test failure (tests/test_repository.py).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import FindingError
from .i18n import N_

# -- the build's own files in reports/ ------------------------------------------------------------------------------

STATE_FILE = "build.json"  # every variant's outcome
STATE_BACKUP = ".build.json.bak"  # the last good build.json, restored when build.json is found damaged
STATE_DAMAGED = "build.json.damaged"  # a damaged build.json, kept aside for a person to look at
FINDINGS_FILE = "findings.json"  # every finding of every variant
INDEX_FILE = "index.html"
INDEX_IN = re.compile(r"index\.[a-z]{2}\.html")  # the index in each other language built: index.en.html
DRIFT_FILE = "drift.json"  # the findings that changed in the last build that built something
LOCK_FILE = ".build.lock"
TMP = ".tmp"  # a build's scratch folder, per process
OWN_FILES = frozenset({STATE_FILE, STATE_BACKUP, STATE_DAMAGED, FINDINGS_FILE, INDEX_FILE, DRIFT_FILE, LOCK_FILE,
                       "README.md"})  # never pruned
OUTPUT_KINDS = ("ipynb", "html", "pdf")  # what a built variant leaves in reports/<report>/
DATA_KIND = "csv:"  # an output kind "csv:<label>": the data behind a figure or table, as CSV beside the report
FINDINGS_LABEL = "findings"  # the CSV of a variant's findings: <variant>.findings.csv


def data_file(variant: str, label: str) -> str:
    """The file name of the CSV behind figure or table ``label`` of ``variant`` (or its findings), beside its HTML:
    "language-da_municipality-270.population.csv"."""
    return f"{variant}.{label}.csv"


# -- what the build tells the kernels it starts, through their environment ------------------------------------------
BUILD_TIME_ENV = "KOMMUNELAB_BUILD_TIME"  # the build's one recorded time, for every field that shows it
REVISION_ENV = "KOMMUNELAB_GIT_REVISION"  # the revision the build found once, for every kernel it starts
MEMORY_ENV = "KOMMUNELAB_KERNEL_MEMORY_MB"  # what one kernel may allocate
OUTPUT_ENV = "KOMMUNELAB_MAX_OUTPUT_BYTES"  # what one cell may print; past it the cell fails (kommunelab.kernel)
SITE_URL_ENV = "KOMMUNELAB_SITE_URL"  # where the reports are published (the nightly workflow sets it), for citations

FINDING_MIME = "application/vnd.kommunelab.finding+json"
PROVENANCE_MIME = "application/vnd.kommunelab.provenance+json"
DATA_MIME = "application/vnd.kommunelab.data+json"  # {"label": ..., "csv": ...}: the data behind a figure or table


# -- statuses -------------------------------------------------------------------------------------------------------

class _Status(StrEnum):
    """A status: its value (what build.json and findings.json hold), the words a reader sees, what it means, and the
    colours of its pill (background) and card edge (border)."""

    def __new__(cls, value: str, label: str, meaning: str, background: str, border: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label, member.meaning, member.background, member.border = label, meaning, background, border
        return member


# (pill background, card edge): each colour written once
GOOD, BAD, PENDING = ("#c6f6d5", "#2f855a"), ("#fed7d7", "#c53030"), ("#feebc8", "#c05621")


class BuildStatus(_Status):
    BUILT = "built", N_("built"), N_("built from the inputs it has now (in this build or an earlier one)"), *GOOD
    CURRENT = ("current", N_("up to date"), N_("up to date: nothing it depends on changed, so it was not built again"),
               *GOOD)
    FAILED = "failed", N_("failed"), N_("this build failed; the last good outputs, if any, are kept"), *BAD
    STALE = "stale", N_("stale"), N_("its inputs changed since it was built; the next build rebuilds it"), *PENDING


class FindingStatus(StrEnum):
    """What kind of comparison a finding is (decided by kommunelab.findings); its outcome is its Verdict."""

    REPRODUCED = "reproduced"
    DIFFERS = "differs"
    CONSISTENT = "consistent"
    INCONSISTENT = "inconsistent"
    ARITHMETIC_CHECK = "arithmetic-check"
    BENCHMARK = "benchmark"
    WHAT_IF = "what-if"
    PIPELINE_CHECK = "pipeline-check"
    NOT_COMPUTED = "not-computed"
    RECORDED = "recorded"


class Verdict(_Status):
    """What a reader is told about a finding: its status with the outcome of the check (a pipeline check that
    recovered its truth or not, arithmetic that holds or not). The value is the CSS class of its card and pill."""

    REPRODUCED = ("reproduced", N_("reproduced"), N_("recomputed from data by the report's method; inside the "
                  "interval the published wording allows"), *GOOD)
    DIFFERS = ("differs", N_("differs"), N_("recomputed from data by the report's method; outside the interval the "
               "published wording allows"), *BAD)
    CONSISTENT = ("consistent", N_("consistent"), N_("the published figure lies within bounds derived from its "
                  "published parts"), *GOOD)
    INCONSISTENT = ("inconsistent", N_("inconsistent"), N_("the published figure lies outside bounds derived from "
                    "its published parts"), *BAD)
    ARITHMETIC_HOLDS = ("arithmetic-check", N_("arithmetic check: holds"), N_("arithmetic on figures quoted in the "
                        "report's source lands in the target interval; never a reproduction"), "#e6fffa", "#2f855a")
    ARITHMETIC_FAILS = ("arithmetic-failed", N_("arithmetic check: fails"), N_("arithmetic on figures quoted in the "
                        "report's source misses the target interval"), *BAD)
    BENCHMARK = ("benchmark", N_("benchmark"), N_("a comparison that is not the report's method (e.g. Copenhagen's "
                 "population share); never \"differs\""), "#e9d8fd", "#6b46c1")
    WHAT_IF = ("what-if", N_("what-if"), N_("computed at an assumption the user set (e.g. a savings rate DI did not "
               "publish); never a reproduction"), "#bee3f8", "#2b6cb0")
    RECOVERED = ("pipeline-check", N_("pipeline check: recovered"), N_("on the synthetic stand-in (the survey "
                 "microdata are not public): the estimate's 95% interval covers the stand-in population's own true "
                 "value; the published figure is context only"), "#fefcbf", "#b7791f")
    NOT_RECOVERED = ("pipeline-failed", N_("pipeline check: NOT recovered"), N_("on the synthetic stand-in: the "
                     "estimate missed the stand-in's true value (about 1 check in 20 does by chance at 95%)"), *BAD)
    NOT_COMPUTED = ("not-computed", N_("not computed"), N_("the inputs are not available; the card says which"),
                    "#edf2f7", "#718096")
    RECORDED = ("recorded", N_("recorded"), N_("a key figure computed from public data with no published value to "
                "compare with (a municipality profile's population, unemployment, income); recorded so that a data "
                "update shows in the changes"), "#e2e8f0", "#4a5568")


# What a reader must see first: a check that did not pass.
NOT_PASSED = frozenset({Verdict.DIFFERS, Verdict.INCONSISTENT, Verdict.ARITHMETIC_FAILS, Verdict.NOT_RECOVERED})


def verdict(status: FindingStatus, recovered: bool | None = None, passed: bool | None = None) -> Verdict:
    if status is FindingStatus.PIPELINE_CHECK:
        return Verdict.RECOVERED if recovered else Verdict.NOT_RECOVERED
    if status is FindingStatus.ARITHMETIC_CHECK:
        return Verdict.ARITHMETIC_HOLDS if passed else Verdict.ARITHMETIC_FAILS
    return Verdict(status.value)


def status_css() -> str:
    """The status colours as CSS, for the report template (cards and pills, ``kl-status-*``) and the index
    (``s-*``): generated here so a colour is written once."""
    rules = [f".s-{s} {{ background: {s.background}; }}" for s in (*BuildStatus, *Verdict)]
    rules += [f".kl-card.kl-status-{v} {{ border-left-color: {v.border}; }}\n"
              f".kl-status-{v} .kl-pill-status {{ background: {v.background}; }}" for v in Verdict]
    return "\n".join(dict.fromkeys(rules))


def status_table() -> str:
    """README's table of what a finding's status means (a test keeps README equal to it)."""
    return "\n".join(["| status | meaning |", "|---|---|", *(f"| {v.label} | {v.meaning} |" for v in Verdict)])


# -- a finding ------------------------------------------------------------------------------------------------------

class Check(StrEnum):
    """How a finding is checked (data/published/findings.csv `check`)."""

    RECOMPUTATION = "recomputation"
    BOUNDS = "bounds"
    ARITHMETIC = "arithmetic"
    BENCHMARK = "benchmark"
    WHAT_IF = "what-if"  # computed at an assumption the user sets (DI's savings rate, which DI did not publish)
    RECORDED = "recorded"  # a key figure with no published claim (a profile's population): tracked, not checked


EVIDENCE = ("public-data", "published-tables", "synthetic", "microdata", "user-data")
# The evidence kinds in a reader's words (a card's pill, the index's scorecard), translated where shown
EVIDENCE_NAME = {"public-data": N_("public data"), "published-tables": N_("published tables"),
                 "synthetic": N_("synthetic"), "microdata": N_("microdata"), "user-data": N_("user data")}
UNITS = ("pct", "pp", "count", "dkk", "rank", "ratio", "yes/no")


def _pair(value) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]) if value[0] is not None else None,
                                       float(value[1]) if value[1] is not None else None)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One computed value recorded against its published claim (kommunelab.findings.finding makes it)."""

    id: str
    facts_id: str
    statement: str
    published: float | None
    published_text: str
    unit: str
    target: tuple[float | None, float | None]
    target_rule: str
    target_text: str
    value: float | None
    ci: tuple[float, float] | None
    bounds: tuple[float, float] | None
    n: int | None
    value_text: str
    in_target: bool | None
    ci_overlaps_target: bool | None
    status: FindingStatus
    check: Check
    truth: float | None
    truth_text: str | None
    recovered: bool | None
    passed: bool | None
    evidence: str
    source: str
    note: str
    scope: str
    truth_basis: str | None = None  # a pipeline check's truth: population, census or model (kommunelab.synthetic)
    power: str | None = None  # what a pipeline check can detect, in a reader's words (kommunelab.findings.power)
    excluded: dict[str, int] | None = None  # answers left out of the estimate, by why they are missing

    def __post_init__(self) -> None:
        def fail(problem: str) -> FindingError:
            return FindingError(f"finding {self.id!r}: {problem}")

        try:
            object.__setattr__(self, "status", FindingStatus(self.status))
            object.__setattr__(self, "check", Check(self.check))
        except ValueError as exc:
            raise fail(str(exc)) from None
        for name in ("target", "ci", "bounds"):
            object.__setattr__(self, name, _pair(getattr(self, name)))
        if self.evidence not in EVIDENCE:
            raise fail(f"evidence must be one of {', '.join(EVIDENCE)}, got {self.evidence!r}")
        if self.unit not in UNITS:
            raise fail(f"unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.value is not None and not math.isfinite(self.value):
            raise fail(f"the computed value is {self.value}; check the inputs")
        if (self.status is FindingStatus.PIPELINE_CHECK) != (self.recovered is not None):
            raise fail("a pipeline check, and only a pipeline check, says whether it recovered its truth")
        if (self.status is FindingStatus.ARITHMETIC_CHECK) != (self.passed is not None):
            raise fail("an arithmetic check, and only an arithmetic check, says whether it passed")
        if self.status is FindingStatus.NOT_COMPUTED and not self.note:
            raise fail("not computed, so the note must say why")

    @property
    def verdict(self) -> Verdict:
        return verdict(self.status, self.recovered, self.passed)

    @property
    def label(self) -> str:
        return self.verdict.label

    @property
    def meets_target(self) -> bool | None:
        """Whether the finding meets its target: a pipeline check recovers its truth; otherwise the value lies in
        the interval the published wording allows (None when there is no such test)."""
        return self.recovered if self.status is FindingStatus.PIPELINE_CHECK else self.in_target

    def record(self) -> dict[str, Any]:
        """The JSON form (findings.json, the notebook's output): the fields, and the label a reader sees."""
        out = asdict(self)
        out.update(status=str(self.status), check=str(self.check), label=self.label)
        for name in ("target", "ci", "bounds"):
            out[name] = None if out[name] is None else list(out[name])
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Finding:
        return cls(**{f.name: record.get(f.name) for f in fields(cls)})

    def _ipython_display_(self) -> None:
        """Already shown as a card when made: a cell that ends with a finding() call shows nothing more."""


FORMULA = re.compile(r"[=+\-@\t\r]")  # how a spreadsheet formula starts


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet will show as text, not run as a formula: a text that starts like one (``=``,
    ``+``, ``-``, ``@``, a tab; a name in the data could) gets a leading apostrophe. Numbers are left as they are."""
    if isinstance(value, str) and FORMULA.match(value):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


FINDINGS_COLUMNS = ("id", "statement", "published_text", "value", "ci_low", "ci_high", "unit", "value_text",
                    "target_low", "target_high", "status", "evidence", "n", "source")


def findings_csv(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """A variant's findings as CSV (<variant>.findings.csv): one row each, the value at full precision with its 95%
    interval, the unit (FINDINGS_COLUMNS; units as in UNITS: pct = percent, pp = percentage points, dkk = kroner),
    the value as the report prints it, the target interval and the status (Verdict's value); text cells
    spreadsheet-safe."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FINDINGS_COLUMNS)
    for f in findings:
        ci = f.ci or (None, None)
        writer.writerow([spreadsheet_safe(v) for v in (f.id, f.statement, f.published_text, f.value, ci[0], ci[1],
                                                       f.unit, f.value_text, f.target[0], f.target[1], str(f.verdict),
                                                       f.evidence, f.n, f.source)])
    return out.getvalue()


class Basis(StrEnum):
    """How much of a finding is real, for the sentence that opens the index: what it rests on, in a reader's words,
    for one finding and for several (the first three are results; a pipeline check tests the code, not a result)."""

    def __new__(cls, value: str, one: str, many: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.one, member.many = one, many
        return member

    def phrase(self, n: int) -> str:
        """"3 are pipeline checks on ...", in the run's language, in the form the count takes."""
        from .i18n import _

        return _(self.one if n == 1 else self.many).format(n=n)  # (n == 1: the singular in da and nb too)

    RECOMPUTED = ("recomputed", N_("{n} is recomputed from real data by the report's method"),
                  N_("{n} are recomputed from real data by the report's method"))
    OWN_FIGURES = ("own-figures", N_("{n} is checked against the report's own published figures"),
                   N_("{n} are checked against the report's own published figures"))
    USER_DATA = ("user-data", N_("{n} is recomputed from data a user supplied (its declared source is in the "
                                 "provenance)"),
                 N_("{n} are recomputed from data a user supplied (their declared source is in the provenance)"))
    BENCHMARK = ("benchmark", N_("{n} is a benchmark, not the report's method"),
                 N_("{n} are benchmarks, not the report's method"))
    WHAT_IF = ("what-if", N_("{n} is a what-if at an assumption the user set"),
               N_("{n} are what-ifs at assumptions the user set"))
    STAND_IN = ("stand-in", N_("{n} is a pipeline check on a synthetic stand-in (the survey microdata are not public)"),
                N_("{n} are pipeline checks on synthetic stand-ins (the survey microdata are not public)"))
    NOT_COMPUTED = ("not-computed", N_("{n} cannot be computed from what is public"),
                    N_("{n} cannot be computed from what is public"))


def basis(finding: Finding) -> Basis:
    if finding.status is FindingStatus.RECORDED:
        raise ValueError(f"{finding.id} is a recorded key figure, not a check of a published finding")
    if finding.status is FindingStatus.NOT_COMPUTED:
        return Basis.NOT_COMPUTED
    if finding.status is FindingStatus.PIPELINE_CHECK:
        return Basis.STAND_IN
    if finding.status is FindingStatus.BENCHMARK:
        return Basis.BENCHMARK
    if finding.status is FindingStatus.WHAT_IF:
        return Basis.WHAT_IF
    if finding.evidence == "user-data":
        return Basis.USER_DATA
    if finding.evidence == "published-tables":
        return Basis.OWN_FIGURES
    return Basis.RECOMPUTED


# -- a build's work -------------------------------------------------------------------------------------------------

class Stage(StrEnum):
    """Where a variant failed."""

    REQUEST = "request"
    EXECUTE = "execute"
    EXPORT = "export"
    PRINT = "print"
    LIMIT = "limit"
    WORKER = "worker"
    PUBLISH = "publish"


PUBLISHED_FAILURE_FIELDS = ("stage", "exception", "cell", "notebook")


@dataclass(frozen=True, kw_only=True)
class Failure:
    """Where and how a variant failed, modelled on papermill's PapermillExecutionError."""

    stage: Stage
    exception: str
    message: str = ""
    cell: int | None = None  # index in the *source* notebook (papermill's injected and marker cells not counted)
    cell_source: str = ""
    traceback: str = ""
    notebook: str = ""  # project-relative path of the executed notebook kept for inspection

    def __post_init__(self) -> None:
        object.__setattr__(self, "stage", Stage(self.stage))

    def line(self) -> str:
        where = f"{self.stage}" + (f", cell {self.cell}" if self.cell is not None else "")
        return f"[{where}] {self.exception}: {self.message}".strip()

    def but(self, **changes: Any) -> Failure:
        return replace(self, **changes)


@dataclass(frozen=True)
class Collected:
    """What one executed notebook recorded: its findings, every data file it read (rebuild key -> sha256), and the
    data behind its figures and tables (label -> CSV text)."""

    findings: tuple[Finding, ...] = ()
    data_files: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)


def collect_outputs(notebook: dict[str, Any] | Path) -> Collected:
    """The findings, the data files read and the data behind figures and tables, from an executed notebook's
    outputs."""
    nb = notebook if isinstance(notebook, dict) else json.loads(Path(notebook).read_text(encoding="utf-8"))
    findings, data_files, tables = [], {}, {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if FINDING_MIME in data:
                findings.append(Finding.from_record(data[FINDING_MIME]))
            if DATA_MIME in data:
                tables[data[DATA_MIME]["label"]] = data[DATA_MIME]["csv"]
            if PROVENANCE_MIME in data:
                for f in data[PROVENANCE_MIME].get("data_files", []):
                    data_files[f.get("key") or f["path"]] = f["sha256"]
    return Collected(tuple(findings), data_files, tables)


@dataclass(frozen=True, kw_only=True, eq=False)  # identity equality: one unit of work, used as a key by the runner
class Task:
    """Everything a worker process needs to build one variant (picklable)."""

    report: str
    variant: str
    title: str
    notebook: str
    params: dict[str, Any]
    formats: tuple[str, ...]
    show_code: bool
    chromium: str | None
    workdir: str
    env: dict[str, str]
    timeout: float  # seconds for the whole variant: execution and printing
    max_output_mb: float
    kernel_memory_mb: int
    record_paths: tuple[str, str]  # (notebook, executed notebook) as they will be named once published
    build_time: str
    fork_kernels: bool = True  # kernels forked from the worker's template (engine.run.forking) or started fresh
    shown: tuple[tuple[str, str], ...] = ()  # (parameter, value label) that tell the variant apart: under the heading

    def but(self, **changes: Any) -> Task:
        return replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class Result:
    """What a worker hands back for one task: built (with its files) or failed (with why)."""

    status: BuildStatus
    files: dict[str, str] = field(default_factory=dict)  # kind -> temporary path
    collected: Collected = field(default_factory=Collected)
    failure: Failure | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", BuildStatus(self.status))
        if self.status not in (BuildStatus.BUILT, BuildStatus.FAILED):
            raise ValueError(f"a worker's result is built or failed, not {self.status}")
        if (self.status is BuildStatus.FAILED) != (self.failure is not None):
            raise ValueError("a failed result carries its failure, and only a failed one")

    def but(self, **changes: Any) -> Result:
        return replace(self, **changes)

    @classmethod
    def failed(cls, stage: Stage, exc: BaseException | str, message: str = "", **more: Any) -> Result:
        name = exc if isinstance(exc, str) else type(exc).__name__
        text = message or ("" if isinstance(exc, str) else str(exc))
        return cls(status=BuildStatus.FAILED, failure=Failure(stage=stage, exception=name, message=text),
                   **more)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """One variant of one report after a build: what was done, from which inputs, and what came out."""

    report: str
    variant: str
    title: str
    params: dict[str, Any]
    status: BuildStatus
    is_default: bool = False
    key: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # kind -> path relative to reports/
    findings: tuple[Finding, ...] = ()
    seconds: float = 0.0
    built_at: str = ""
    failure: Failure | None = None
    label: str = ""  # what tells the variant apart, for readers ("Gribskov, 2021"); empty for the default
    detail: str = ""  # more about the label ("Region Hovedstaden")
    stale: tuple[str, ...] = ()  # why a recorded variant is no longer current (status "stale"), until it is rebuilt

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", BuildStatus(self.status))

    @property
    def name(self) -> str:
        return f"{self.report}/{self.variant}"

    def record(self) -> dict[str, Any]:
        """The JSON record in build.json (paths relative to the project or reports/, never absolute). A failure is
        published by kind, stage and cell only: its message can quote a file the user passed, so the message, the
        cell source and the traceback stay in the terminal and the kept notebook."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["status"] = str(self.status)
        out["findings"] = [f.record() for f in self.findings]
        out["stale"] = list(self.stale)
        if self.failure is not None:
            out["failure"] = {k: (str(v) if k == "stage" else v) for k, v in asdict(self.failure).items()
                              if k in PUBLISHED_FAILURE_FIELDS}
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Outcome:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in record.items() if k in known}
        failure = values.get("failure")
        values["failure"] = Failure(**failure) if isinstance(failure, dict) else None
        values["findings"] = tuple(Finding.from_record(f) for f in values.get("findings") or ())
        values["stale"] = tuple(values.get("stale") or ())
        return cls(**values)

    def but(self, **changes: Any) -> Outcome:
        return replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class BuildRecord:
    """reports/build.json: when the last build ran, from which revision, and every variant's outcome."""

    generated: str
    git_revision: str
    variants: tuple[Outcome, ...]

    def record(self) -> dict[str, Any]:
        return {"generated": self.generated, "git_revision": self.git_revision,
                "variants": [o.record() for o in self.variants]}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> BuildRecord:
        return cls(generated=str(record.get("generated", "?")), git_revision=str(record.get("git_revision", "?")),
                   variants=tuple(Outcome.from_record(r) for r in record["variants"]))


# -- item non-response: why an answer is not there ------------------------------------------------------------------

class Reason(StrEnum):
    """Why an answer is missing (kommunelab.delivery maps a delivery's codes to these; each is item non-response and
    left out of every estimate unless the codebook maps the code to an answer). The value is the codebook's key."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    DONT_KNOW = "dont_know", N_("don't know")
    REFUSED = "refused", N_("refused")
    NOT_ASKED = "not_asked", N_("not asked")
    BLANK = "blank", N_("blank")
