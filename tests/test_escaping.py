"""Text from data reaches a report as text: escaped where it is written (kommunelab.markup), refused by the page's
Content-Security-Policy, and refused again by the printing browser, each layer tested on its own."""

from __future__ import annotations

import ast
import io
import socket
import threading
import time
from pathlib import Path

import pytest

from kommunelab.markup import Trusted, escape_md, md

from .conftest import edit_snapshot

REPO = Path(__file__).resolve().parents[1]
PASSWD_LINE = "root:x:0:0"  # the first line of /etc/passwd on every Linux machine this runs on


def test_md_escapes_every_value_and_keeps_the_template():
    hostile = "<iframe src=file:///etc/passwd></iframe> ![x](http://example.org/x.png) *b* $x$\n\n# heading"
    text = md("# {name} Municipality\n\n**{n}** {link}", name=hostile, n="40,971", link=Trusted("[Figure 1](#kl-a)"))
    assert text.startswith("# ") and "\n\n**40,971** [Figure 1](#kl-a)" in text
    assert "<" not in text and "](" not in text.split("**")[0] and "\n# " not in text
    assert "&lt;iframe src=file\\:///etc/passwd&gt;" in text and "\\!\\[x\\]\\(http\\://" in text
    assert escape_md(Trusted("[a](#b)")) == "[a](#b)"


@pytest.mark.parametrize("call, error", [
    (lambda: md("{name}"), KeyError),  # a field without a value
    (lambda: md("{name}", name="a", other="b"), TypeError),  # a value without a field
    (lambda: md("{p.name}", p=object()), ValueError),  # an expression in a field: compute it outside
])
def test_md_refuses_templates_and_values_that_do_not_match(call, error):
    with pytest.raises(error):
        call()


def _constant_template(node) -> bool:
    """A constant string, or its translation: ``_("...")`` (kommunelab.i18n; the catalogs hold only constants)."""
    if isinstance(node, ast.Constant):
        return True
    return (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_" and len(node.args) == 1
            and isinstance(node.args[0], ast.Constant))


def _reader_text_calls(source: str, where: str) -> list[str]:
    """What in ``source`` writes Markdown or HTML other than through md()/show_md() with a constant template."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("Markdown", "HTML", "display_markdown", "display_html", "show_html"):
                problems.append(f"{where}: {name}() (use kommunelab.markup.show_md)")
            if name in ("md", "show_md") and not (node.args and _constant_template(node.args[0])):
                problems.append(f"{where}: {name}() with a template that is not a constant string or _() of one")
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if keys & {"text/markdown", "text/html"}:
                problems.append(f"{where}: a raw display bundle (use kommunelab.markup.show_md)")
    return problems


def test_notebooks_write_reader_text_only_through_md():
    import nbformat

    from kommunelab.scaffold import EXAMPLE, SETUP

    problems = _reader_text_calls(SETUP + "\n" + EXAMPLE, "kommunelab new's scaffold")
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                problems += _reader_text_calls(cell.source, f"{path.name}, cell {i}")
    assert problems == []
    # and the check itself finds what it must
    assert len(_reader_text_calls('display(Markdown(f"# {name}"))\nshow_md(f"{x}")\n'
                                  'display({"text/markdown": x}, raw=True)', "probe")) == 3


class _Listener:
    """A loopback server that records every connection it gets (and answers none)."""

    def __init__(self):
        self.seen: list[bytes] = []
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.seen.append(conn.recv(200))
            except OSError:
                self.seen.append(b"")
            conn.close()

    def close(self) -> list[bytes]:
        time.sleep(1)
        self._stop.set()
        self._thread.join(2)
        self._socket.close()
        return self.seen


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


@pytest.mark.slow
def test_the_printing_browser_fetches_nothing_and_embeds_no_file_even_from_raw_markup(tmp_path, monkeypatch):
    """The last layer alone: a page with no escaping and no Content-Security-Policy still prints without a request
    and without the file its iframe names."""
    from kommunelab.chromium import PROXY_ENV, ensure_chromium
    from kommunelab.engine.render import close_printer, html_to_pdf, printer

    server = _Listener()
    monkeypatch.setenv(PROXY_ENV, server.url)
    page = tmp_path / "page.html"
    page.write_text(f'<html><body><h1>Gribskov</h1><img src="{server.url}/img.png">'
                    '<iframe src="file:///etc/passwd" width="600" height="300"></iframe>'
                    f'<iframe src="{server.url}/frame"></iframe><link rel="stylesheet" href="{server.url}/x.css">'
                    f'<object data="file:///etc/passwd"></object><script>fetch("{server.url}/js")</script>'
                    "</body></html>", encoding="utf-8")
    chromium = ensure_chromium(install=False)
    close_printer()  # this test's own browser, started behind the listener
    try:
        html_to_pdf(page, tmp_path / "page.pdf", chromium, scratch=tmp_path / "scratch")
        blocked = printer(chromium).blocked
    finally:
        close_printer()
    # Chromium may open a connection to its proxy ahead of a request (a preconnect); no request is sent on it.
    assert [request for request in server.close() if request] == []
    text = _pdf_text(tmp_path / "page.pdf")
    assert "Gribskov" in text and PASSWD_LINE not in text
    assert any(url.startswith(server.url) for url in blocked)  # refused by the route, not merely unanswered


@pytest.mark.slow
def test_one_tab_prints_every_document_as_a_fresh_browser_would(tmp_path, monkeypatch):
    """The Printer keeps one tab for all the PDFs of a worker: a document printed after others is byte for byte what
    a new browser prints, its refused requests are its own, and a print that fails leaves the next one a new tab."""
    from kommunelab.chromium import PROXY_ENV, ensure_chromium
    from kommunelab.engine.render import close_printer, html_to_pdf, printer

    server = _Listener()
    monkeypatch.setenv(PROXY_ENV, server.url)
    chromium = ensure_chromium(install=False)
    pages = {}
    for name, body in (("a", "<h1>Gribskov</h1><h2>Befolkning</h2><table><tr><th>År</th><td>40.971</td></tr></table>"),
                       ("b", f'<h1>Bornholm</h1><img src="{server.url}/b.png"><p>{"tekst " * 400}</p>')):
        pages[name] = tmp_path / f"{name}.html"
        pages[name].write_text(f"<html><head><title>{name}</title></head><body>{body}</body></html>", encoding="utf-8")
    when = "2026-11-29T10:00:00+00:00"

    def pdf(name: str, out: str) -> tuple[bytes, list[str]]:
        html_to_pdf(pages[name], tmp_path / out, chromium, created=when, scratch=tmp_path / "scratch")
        return (tmp_path / out).read_bytes(), printer(chromium).blocked

    close_printer()
    try:
        alone, _ = pdf("a", "alone.pdf")
        close_printer()
        _, blocked_b = pdf("b", "b.pdf")
        tab = printer(chromium)._page
        after, blocked_a = pdf("a", "after.pdf")
        assert printer(chromium)._page is tab  # the same tab printed both
        tab.close()  # as a failed print leaves it
        again, _ = pdf("a", "again.pdf")
        assert printer(chromium)._page is not tab
    finally:
        close_printer()
    server.close()
    assert after == alone and again == alone
    assert any(url.startswith(server.url) for url in blocked_b) and blocked_a == []


def _rename_municipality(code: int, name: str):
    """An edit of the municipality list that calls municipality ``code`` ``name`` (for :func:`edit_snapshot`)."""
    import csv

    def edit(path: Path) -> None:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        for row in rows:
            if int(row["municipality_code"]) == code:
                row["name_da"] = row["name_en"] = name
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    return edit


@pytest.mark.slow
def test_a_municipality_name_holding_markup_reaches_the_report_as_text(project, monkeypatch):
    from kommunelab.chromium import PROXY_ENV
    from kommunelab.engine.build import BuildOptions, build

    server = _Listener()
    monkeypatch.setenv(PROXY_ENV, server.url)
    hostile = (f'Gribskov<img src="{server.url}/name.png"><iframe src="file:///etc/passwd"></iframe>'
               f"![x]({server.url}/md.png)")
    edit_snapshot(project / "data" / "reference", "dk/municipalities.csv", _rename_municipality(270, hostile))
    (outcome,) = build(["municipality_profile"], None, False, BuildOptions(formats=("html", "pdf"), jobs=1),
                       out=io.StringIO())
    assert outcome.status == "built", outcome.failure
    html_path = project / "reports" / "municipality_profile" / "language-da_municipality-270.html"
    page = html_path.read_text(encoding="utf-8")
    assert "<img" not in page and "<iframe" not in page and f'href="{server.url}' not in page
    assert "&lt;iframe src=" in page  # the name is there, as text
    assert "Content-Security-Policy" in page
    assert 'class="kl-subtitle"' not in page  # the heading carries the name (escaped): it is not repeated under it
    assert "UserWarning" not in page  # a long name squeezes the charts; the layout engine's warning is not shown
    index = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert "<iframe" not in index and "<img" not in index
    assert [request for request in server.close() if request] == []
    text = _pdf_text(html_path.with_suffix(".pdf"))
    assert PASSWD_LINE not in text and "<iframe src=" in text  # the name printed as the text it is
