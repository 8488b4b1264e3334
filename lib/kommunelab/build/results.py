"""What a build stage hands the next: frozen results, never string-keyed dicts. build.json is their serial form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

PUBLISHED_FAILURE_FIELDS = ("stage", "exception", "cell", "notebook")


@dataclass(frozen=True)
class Failure:
    """Where and how a variant failed, modelled on papermill's PapermillExecutionError."""

    stage: str  # request | execute | export | print | limit | worker | publish
    exception: str
    message: str
    cell: int | None = None  # index in the *source* notebook (papermill's injected and marker cells not counted)
    cell_source: str = ""
    traceback: str = ""
    notebook: str = ""  # project-relative path of the executed notebook kept for inspection

    def line(self) -> str:
        where = f"{self.stage}" + (f", cell {self.cell}" if self.cell is not None else "")
        return f"[{where}] {self.exception}: {self.message}".strip()


@dataclass(frozen=True)
class Outcome:
    """One variant of one report after a build: what was done, from which inputs, and what came out."""

    report: str
    variant: str
    title: str
    params: dict[str, Any]
    status: str  # built (now) | current (up to date) | failed (the last good output is kept) | stale (inputs changed)
    is_default: bool = False
    key: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # kind -> path relative to reports/
    findings: tuple[dict[str, Any], ...] = ()
    seconds: float = 0.0
    built_at: str = ""
    failure: Failure | None = None
    label: str = ""  # what tells the variant apart, for readers ("Gribskov, 2021"); empty for the default
    detail: str = ""  # more about the label ("Region Hovedstaden")
    stale: tuple[str, ...] = ()  # why a recorded variant is no longer current (status "stale"), until it is rebuilt

    @property
    def name(self) -> str:
        return f"{self.report}/{self.variant}"

    def record(self) -> dict[str, Any]:
        """The JSON record in build.json (paths relative to the project or reports/, never absolute). A failure is
        published by kind, stage and cell only: its message can quote a file the user passed, so the message, the
        cell source and the traceback stay in the terminal and the kept notebook."""
        out = asdict(self)
        out["findings"] = list(self.findings)
        if self.failure is not None:
            out["failure"] = {k: v for k, v in out["failure"].items() if k in PUBLISHED_FAILURE_FIELDS}
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Outcome:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in record.items() if k in known}
        failure = values.get("failure")
        values["failure"] = Failure(**{"message": "", **failure}) if isinstance(failure, dict) else None
        values["findings"] = tuple(values.get("findings") or ())
        values["stale"] = tuple(values.get("stale") or ())
        return cls(**values)

    def but(self, **changes: Any) -> Outcome:
        return replace(self, **changes)
