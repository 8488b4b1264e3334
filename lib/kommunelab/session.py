"""What one notebook run has done so far, in one object the kernel owns: the report and parameters its setup cell
validated, the figures and tables it numbered, the data files and survey packages it read.

``report.parameters()`` starts a run (a notebook run again in JupyterLab starts afresh, numbering from 1); the data
loaders, the figure and table helpers and the provenance block read and write ``current()``. Nothing else keeps
state between modules. The files read are kept across runs in one kernel, because a loader that caches its table
(``functools.cache``) does not read the file again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Session:
    report: str | None = None  # the report id the setup cell validated parameters for
    variant: str | None = None  # the id of the variant those parameters make (its files' names)
    language: str = "en"  # the report's language parameter (kommunelab.i18n); English when it has none
    parameters: dict[str, Any] = field(default_factory=dict)
    numbers: dict[str, tuple[str, int]] = field(default_factory=dict)  # label -> (kind, number), in order
    tables: dict[str, str] = field(default_factory=dict)  # label -> the file name of the CSV behind it
    files: dict[str, Any] = field(default_factory=dict)  # path -> kommunelab.provenance.FileRead, in order read
    packages: dict[str, dict] = field(default_factory=dict)  # folder -> survey package summary
    survey_package: Any = None  # the kommunelab.survey.Package read last
    nonresponse: dict[str, Any] = field(default_factory=dict)  # survey table -> why each missing answer is missing


_current = Session()


def current() -> Session:
    return _current


def begin(report: str, parameters: dict[str, Any], language: str = "en", variant: str | None = None) -> Session:
    """A new run of ``report`` in ``language``: parameters and numbering start afresh; the files read are kept (see
    above)."""
    global _current
    _current = Session(report=report, variant=variant, parameters=dict(parameters), language=language,
                       files=_current.files,
                       packages=_current.packages)
    return _current


def reset() -> None:
    """Forget everything (a test, or a kernel reused for another notebook)."""
    global _current
    _current = Session()
