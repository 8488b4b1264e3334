"""``kommunelab microdata check PATH``: a delivery read through its codebook, reported before any build.

Per table the rows read and the weighted and unweighted n; per mapped column the codes seen against the codes
mapped and the item non-response by reason; then every problem, one line each (an unmapped code names the variable,
the code, its label and how many rows carry it). ``kommunelab build`` runs the same check before a kernel starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .codebook import CODEBOOK, Codebook, read_codebook
from .mapping import MappedTable, TableReport, map_delivery
from .stand_in import coincidence


@dataclass(frozen=True)
class CheckReport:
    folder: Path
    codebook: Codebook | None
    tables: tuple[TableReport, ...]
    stand_in: dict[str, str]  # table: why it counts as the stand-in
    problems: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return not self.problems

    @property
    def synthetic(self) -> bool:
        return bool(self.codebook and self.codebook.synthetic) or bool(self.stand_in)


def folder_of(path: str | Path) -> Path:
    path = Path(path).expanduser().resolve()
    return path.parent if path.is_file() else path


def check(path: str | Path) -> tuple[CheckReport, dict[str, MappedTable]]:
    """Read the delivery in ``path`` (its folder, or a file in it) through its codebook."""
    folder = folder_of(path)
    book_path = folder / CODEBOOK
    if not book_path.is_file():
        problem = (f"{folder}: no {CODEBOOK}; write a draft with `kommunelab microdata init {folder}` and complete it")
        return CheckReport(folder, None, (), {}, (problem,)), {}
    try:
        book = read_codebook(book_path)
    except DataError as exc:
        return CheckReport(folder, None, (), {}, (str(exc),)), {}
    mapped = map_delivery(book)
    stand_in = {t: why for t, m in mapped.items() if m.frame is not None and (why := coincidence(t, m.frame))}
    problems = tuple(p for m in mapped.values() for p in m.report.problems)
    return CheckReport(folder, book, tuple(m.report for m in mapped.values()), stand_in, problems), mapped


def _n(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def render(report: CheckReport) -> str:
    lines = [f"Delivery: {report.folder}"]
    if report.codebook:
        lines.append(f"  codebook {report.codebook.path.name}: {report.codebook.title}")
        lines.append(f"  sources: {'; '.join(report.codebook.sources)}")
        if report.synthetic:
            declared = "the codebook says so" if report.codebook.synthetic else "though the codebook does not say so"
            lines.append(f"  synthetic: yes, {declared}; the reports will carry the synthetic banner")
            lines += [f"    {table} is the project's stand-in: {why}" for table, why in report.stand_in.items()]
        else:
            lines.append("  synthetic: no (no table coincides with a stand-in)")
    for t in report.tables:
        weighted = f", {_n(t.weighted_n)} weighted" if t.weighted_n is not None else ""
        lines.append(f"\n{t.table}: {t.file} ({t.format or 'not read'}), {t.rows:,} rows; n = {t.rows:,} "
                     f"unweighted{weighted}")
        if t.columns:
            width = max(len(c.column) for c in t.columns)
            vwidth = max(len(c.variable) for c in t.columns)
            for c in t.columns:
                seen = ", ".join(f"{k}: {v:,}" for k, v in sorted(c.codes_seen.items(), key=lambda kv: kv[0]))
                codes = f"codes {seen} (mapped {', '.join(c.mapped)})" if c.mapped else "values as delivered"
                missing = ", ".join(f"{k} {v:,}" for k, v in sorted(c.reasons.items())) or "none"
                lines.append(f"  {c.column:<{width}}  {c.variable:<{vwidth}}  {codes}; non-response: {missing}")
    if report.problems:
        lines.append(f"\nProblems ({len(report.problems)}): the delivery cannot be used until each is fixed")
        lines += [f"  - {p}" for p in report.problems]
    else:
        lines.append("\nNo problems: the delivery can be used (kommunelab build ... -p data_dir=" f"{report.folder})")
    return "\n".join(lines)
