"""Exceptions that say what was wrong, where, and what to do.

Every error the library raises on purpose derives from KommunelabError, so the CLI can print it as one
clean message (no traceback) and exit non-zero.
"""

from __future__ import annotations


def shorten(text: str, limit: int = 300) -> str:
    """``text`` as one line of at most ``limit`` characters: what an error message may quote of a value or of
    another error (a 200 MB one-line input must not come back whole)."""
    line = " ".join(str(text)[: limit * 4].split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def network_reason(exc: BaseException) -> str:
    """Why a request to a statistics office failed, in a few words (the HTTP library's own text runs to lines)."""
    text = str(exc)
    if "NameResolution" in text or "Failed to resolve" in text or "Name or service not known" in text:
        return "its name did not resolve (no network?)"
    if "Connection refused" in text:
        return "the connection was refused"
    if "timed out" in text.lower() or type(exc).__name__.endswith("Timeout"):
        return "it did not answer in time"
    return shorten(f"{type(exc).__name__}: {text}", 160)


class KommunelabError(Exception):
    """Base class: the message is complete (what, where, what to do)."""


class FileSystemError(KommunelabError):
    """The machine refused to write or read what the build needs (a read-only folder, a full disk) outside any single
    variant: the CLI exits 4, the documented code for this, not 2 (a bad request)."""


class ManifestError(KommunelabError):
    """reports.toml is malformed or refers to something that does not exist."""


class ParameterError(KommunelabError):
    """A parameter given for a report is unknown, of the wrong type or out of range."""

    def __init__(self, report: str, parameter: str, problem: str, allowed: str = ""):
        problem = shorten(problem, 400)  # a value quoted in it may be long: a prefix says enough
        self.report, self.parameter, self.problem, self.allowed = report, parameter, problem, allowed
        msg = f"report {report!r}, parameter {parameter!r}: {problem}"
        if allowed:
            msg += f" (allowed: {shorten(allowed, 400)})"
        super().__init__(msg)


class DataError(KommunelabError):
    """A data file is missing, unreadable or fails validation."""

    def __init__(self, file: str, problem: str, *, row: int | None = None, column: str | None = None,
                 hint: str = ""):
        self.file, self.problem, self.row, self.column, self.hint = file, problem, row, column, hint
        where = str(file)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        msg = f"{where}: {problem}"
        if hint:
            msg += f". {hint}"
        super().__init__(msg)


class DownloadError(KommunelabError):
    """A statistics office's API could not be reached or answered something unexpected."""


class FindingError(KommunelabError):
    """A finding id is unknown or a finding is recorded inconsistently with findings.csv."""


class ChromiumNotFound(KommunelabError):
    """No Chromium/Chrome executable for printing PDFs."""
