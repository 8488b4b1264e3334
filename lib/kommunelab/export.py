"""Export an executed notebook to HTML (nbconvert, house template) and print that HTML to PDF (Chromium).

nbconvert's own webpdf exporter downloads a browser at run time, which fails offline, so the PDF is printed by
a headless Chromium from the very HTML the reader gets.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from .chromium import browser_command
from .errors import KommunelabError
from .lifetime import die_with_parent
from .paths import library_dir


def notebook_to_html(notebook: Path, show_code: bool = False, title: str | None = None) -> str:
    nb = nbformat.read(notebook, as_version=4)
    if title:
        nb.metadata["title"] = title
    if not show_code:
        # Cells tagged "remove-cell" (imports, setup) and papermill's injected parameters stay out of the report.
        hidden = {"remove-cell", "injected-parameters"}
        nb.cells = [c for c in nb.cells if not hidden & set(c.metadata.get("tags", []))]
    exporter = HTMLExporter(
        template_name="kommunelab",
        extra_template_basedirs=[str(library_dir() / "templates")],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"language_code": nb.metadata.get("language_code", "en")})
    return body


def html_to_pdf(html: Path, pdf: Path, chromium: str, timeout: float = 180, created: str | None = None) -> None:
    """Print ``html`` to ``pdf`` (A4, no browser header/footer) with headless Chromium.

    ``created`` (ISO 8601) replaces the print time Chromium writes as the PDF's CreationDate and ModDate, so two
    prints of the same page are byte-identical: the dates are the only bytes that differ.
    """
    # The profile lives beside the output, in the build's temporary folder, which the build removes even when a
    # worker is killed; Chromium dies with the worker that started it.
    with tempfile.TemporaryDirectory(prefix=".chromium-", dir=pdf.parent) as profile:
        cmd = browser_command(chromium, profile) + [
            "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000",
            f"--print-to-pdf={pdf}", html.resolve().as_uri(),
        ]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=die_with_parent)
        except subprocess.TimeoutExpired:
            raise KommunelabError(f"Chromium did not finish printing {html} within {timeout} s") from None
    if result.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = "\n".join((result.stderr or "").strip().splitlines()[-5:])
        raise KommunelabError(f"Chromium failed to print {html} to PDF (exit {result.returncode}): {tail}")
    if created:
        pdf.write_bytes(set_pdf_dates(pdf.read_bytes(), created))


PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[^)]*\)")


def set_pdf_dates(data: bytes, when: str) -> bytes:
    """Replace the PDF's CreationDate and ModDate with ``when``, keeping each string's length (so the cross-reference
    offsets stay valid)."""
    stamp = datetime.fromisoformat(when).strftime("%Y%m%d%H%M%S").encode()

    def repl(match: re.Match) -> bytes:
        old = match.group(0)
        new = old[: old.index(b"(D:") + 3] + stamp + old[old.index(b"(D:") + 3 + 14:]
        return new

    return PDF_DATE.sub(repl, data)
