"""Pieces every report shows: the synthetic-data banner, figure captions, and the provenance block.

Findings and provenance are displayed twice over in one output: as HTML for the reader and as JSON under a
kommunelab MIME type, which the build reads back from the executed notebook (collect_outputs).
"""

from __future__ import annotations

import html
import json
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

FINDING_MIME = "application/vnd.kommunelab.finding+json"
PROVENANCE_MIME = "application/vnd.kommunelab.provenance+json"
PACKAGES = ("kommunelab", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "papermill",
            "nbconvert", "babel")


def _display(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def show_html(text: str) -> None:
    _display({"text/html": text, "text/plain": html.unescape(_strip_tags(text))})


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", " ", text)


def banner_synthetic(what: str, data_dir: str | Path | None = None) -> None:
    """The banner a report must carry when it runs on the project's synthetic stand-in."""
    where = f" (<code>{html.escape(str(data_dir))}</code>)" if data_dir else ""
    show_html(
        '<div class="kl-banner"><strong>Synthetic data: pipeline check, not a reproduction.</strong> '
        f"The survey microdata behind this report are not public. This run applies the published analysis to the "
        f"project's synthetic stand-in{where}: {html.escape(what)} Every finding computed from it is a "
        "<em>pipeline check</em>: it passes when the estimate recovers the true value of the stand-in population "
        "it was drawn from (its 95% interval covers it), so it tests the computation, not the published figure, "
        "which is shown beside it as context. With 95% intervals about one check in twenty misses by chance. "
        "Point the <code>data_dir</code> parameter at the real microdata (with a datapackage.json) for real results."
        "</div>"
    )


STAND_IN_NOTE = "Synthetic stand-in data, not survey results."


def caption(text: str, *, stand_in: bool = False) -> None:
    """A figure or table caption. ``stand_in=True`` when it is drawn from the synthetic stand-in: the caption says so."""
    prefix = f"<strong>{STAND_IN_NOTE}</strong> " if stand_in else ""
    css = "kl-caption kl-caption-stand-in" if stand_in else "kl-caption"
    show_html(f'<p class="{css}">{prefix}{html.escape(text)}</p>')


def _git_revision() -> str:
    from .paths import project_root

    try:
        root = project_root()
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except Exception:
        return "unknown"


def provenance(parameters: dict[str, Any]) -> None:
    """The closing block: git revision, parameters, data files with checksums, package versions."""
    from .provenance import files_read, packages_read

    files = files_read()
    packages = packages_read()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    record = {"git_revision": _git_revision(), "generated": datetime.now(UTC).isoformat(timespec="seconds"),
              "python": platform.python_version(), "parameters": parameters, "data_files": files,
              "survey_packages": packages, "packages": versions}
    rows = "".join(
        f"<tr><td>{html.escape(Path(f['path']).name)}</td><td>{html.escape(f['origin'])}</td>"
        f"<td>{html.escape(f['table'] or f['source'])}</td><td><code>{f['sha256'][:16]}</code></td></tr>"
        for f in files
    )
    params = ", ".join(f"{html.escape(str(k))} = {html.escape(repr(v))}" for k, v in parameters.items())
    pkgs = ", ".join(f"{k} {v}" for k, v in versions.items())
    text = (
        '<div class="kl-provenance"><h3>Provenance</h3>'
        f"<p>Generated {record['generated']} from git revision <code>{record['git_revision']}</code> "
        f"with Python {record['python']}.</p><p><strong>Parameters:</strong> {params or 'none'}</p>"
        "<table><tr><th>data file</th><th>from</th><th>source / table</th><th>sha256</th></tr>"
        f"{rows}</table>{_packages_html(packages)}<p><strong>Packages:</strong> {html.escape(pkgs)}</p></div>"
    )
    _display({"text/html": text, "text/plain": f"Provenance: {json.dumps(record, default=str)[:500]}",
              PROVENANCE_MIME: record})


def _packages_html(packages: list[dict]) -> str:
    """Each survey data package read: its descriptor's title, sources and licence."""
    e = html.escape
    return "".join(
        f"<p><strong>Survey data{' (synthetic stand-in)' if p['synthetic'] else ''}:</strong> {e(p['title'])}. "
        f"Sources: {e('; '.join(p['sources']))}. Licence: {e('; '.join(p['licenses']))}.</p>"
        for p in packages)


def collect_outputs(executed: Path) -> dict[str, Any]:
    """Findings and data files that an executed notebook recorded, read back from its outputs."""
    nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    findings, data_files = [], {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if FINDING_MIME in data:
                findings.append(data[FINDING_MIME])
            if PROVENANCE_MIME in data:
                for f in data[PROVENANCE_MIME].get("data_files", []):
                    data_files[f["path"]] = f["sha256"]
    return {"findings": findings, "data_files": data_files}
