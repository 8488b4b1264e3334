"""The render stage: an executed notebook to HTML (nbconvert, house template), and that HTML printed to PDF
(Chromium). A worker calls ``RENDER``: ``warm`` before it executes a variant, ``render_variant`` after.

nbconvert's own webpdf exporter downloads a browser at run time, which fails offline, so the PDF is printed by
the system's headless Chromium (driven by Playwright, which downloads nothing when given its executable) from the very
HTML the reader gets.
"""

from __future__ import annotations

import atexit
import os
import re
from datetime import datetime
from functools import cache
from html import escape, unescape
from pathlib import Path
from urllib.parse import quote

import nbformat
from nbconvert import HTMLExporter

from ...chromium import browser_command
from ...errors import KommunelabError
from ...i18n import SOURCE, _, date, using
from ...manifest import LANGUAGE
from ...markup import REPORT_CSP
from ...paths import library_dir
from ...records import SITE_URL_ENV, Failure, Stage, Task, status_css


def render_variant(task: Task, executed: Path, seconds_left: float) -> tuple[dict[str, str], Failure | None]:
    """The HTML and PDF ``task`` asks for, made from its executed notebook beside it: (kind -> path, None), or
    ({}, the failure naming its stage). Never raises."""
    files: dict[str, str] = {}
    if "html" not in task.formats and "pdf" not in task.formats:
        return files, None
    stage = Stage.EXPORT
    language = str(task.params.get(LANGUAGE, SOURCE))
    try:
        html = executed.with_suffix(".html")
        with using(language, task.report):
            html.write_text(notebook_to_html(executed, task.show_code, task.title, task.shown, language),
                            encoding="utf-8")
        if "html" in task.formats:
            files["html"] = str(html)
        if "pdf" in task.formats:
            stage = Stage.PRINT
            pdf = executed.with_suffix(".pdf")
            with using(language, task.report):
                site = os.environ.get(SITE_URL_ENV, "").strip()
                html_to_pdf(html, pdf, task.chromium, timeout=seconds_left, created=task.build_time,
                            links_base=f"{site.rstrip('/')}/{task.report}/" if site else "",
                            scratch=_scratch(task))
            files["pdf"] = str(pdf)
    except Exception as exc:
        return {}, Failure(stage=stage, exception=type(exc).__name__, message=str(exc))
    return files, None


def warm(task: Task) -> None:
    """Start what rendering ``task`` needs ahead of its first use: the HTML exporter and, for a PDF, this process's
    Chromium. A worker calls it before it executes a variant, so on its first one the browser starts while the kernel
    template is still importing (a one-profile build took 5.5-5.7 s with this, 5.7-6.1 s without). What fails to
    start here is started again where it is used, and its failure reported there (the export's, the print's)."""
    try:
        if "html" in task.formats or "pdf" in task.formats:
            _exporter(task.show_code)
        if "pdf" in task.formats and task.chromium:
            printer(task.chromium, _scratch(task))
    except Exception:
        pass


class RenderStage:
    """The render stage as a worker calls it (engine.run.worker.Render): render_variant, and warm ahead of it."""

    def __call__(self, task: Task, executed: Path, seconds_left: float) -> tuple[dict[str, str], Failure | None]:
        return render_variant(task, executed, seconds_left)

    def warm(self, task: Task) -> None:
        warm(task)


RENDER = RenderStage()


def _scratch(task: Task) -> Path:
    """The build's temporary folder (above the variant's own), where the browser keeps its profile."""
    return Path(task.workdir).parents[1]


def notebook_to_html(notebook: Path, show_code: bool = False, title: str | None = None,
                     shown: tuple[tuple[str, str], ...] = (), language: str = SOURCE) -> str:
    """The reader's HTML page of an executed notebook: ``title`` in <title> (and so the PDF's metadata), ``shown``
    (the parameters that tell a variant apart, e.g. (("breakdown", "region"),)) under the page heading when the
    heading does not say them; ``language`` on the page's <html lang> (hyphenation and screen readers follow it; the
    printed PDF's /Lang too)."""
    nb = nbformat.read(notebook, as_version=4)
    if title:
        nb.metadata["title"] = title
    if not show_code:
        # Cells tagged "remove-cell" (imports, setup) and papermill's injected parameters stay out of the report.
        hidden = {"remove-cell", "injected-parameters"}
        nb.cells = [c for c in nb.cells if not hidden & set(c.metadata.get("tags", []))]
    exporter = _exporter(show_code)
    exporter.language_code = language  # the exporter writes its own trait into <html lang>, whatever resources say
    body, _resources = exporter.from_notebook_node(
        nb, resources={"csp": REPORT_CSP,
                       "status_css": status_css()})
    return finish_html(body, shown)


HEADING = re.compile(r"<h([12])(\s[^>]*)?>(.*?)</h\1>", re.S)
REF = re.compile(r'<a href="#(kl-[a-z0-9_-]+)">[^<]*</a>')
FIGURE_TAG = re.compile(r"<figure\s[^>]*>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def _text(markup: str) -> str:
    return re.sub(r"<[^>]+>", "", re.sub(r'<a class="anchor-link".*?</a>', "", markup, flags=re.S)).strip()


def finish_html(body: str, shown: tuple[tuple[str, str], ...] = ()) -> str:
    """What the reader's page needs beyond nbconvert: cross-references numbered as their figures and tables are (a
    reference may come before what it names), an id on every section heading, the variant's parameters under the page
    heading when the heading does not carry it, and a table of contents after the heading when there are two
    sections or more."""
    numbers = {}
    for tag in FIGURE_TAG.findall(body):
        attrs = dict(ATTRIBUTE.findall(tag))
        if "data-kl-number" in attrs and "id" in attrs:
            numbers[attrs["id"]] = attrs["data-kl-number"]
    body = REF.sub(lambda m: (f'<a class="kl-ref" href="#{m.group(1)}">{numbers[m.group(1)]}</a>'
                              if m.group(1) in numbers else m.group(0)), body)
    missing = sorted(set(REF.findall(body)) - set(numbers))
    if missing:
        raise KommunelabError(f"the report refers to {', '.join(missing)}, which no figure or table is labelled as; "
                              "give figure()/show_table() that label or correct the ref()")
    sections, used = [], set(re.findall(r'\sid="([^"]+)"', body))

    def section(m: re.Match) -> str:
        level, attrs, inner = m.group(1), m.group(2) or "", m.group(3)
        if level != "2":
            return m.group(0)
        found = re.search(r'\sid="([^"]+)"', attrs)
        if found:
            ident = found.group(1)
        else:
            base = re.sub(r"[^a-z0-9]+", "-", _text(inner).lower()).strip("-") or "section"
            ident, k = base, 2
            while ident in used:
                ident, k = f"{base}-{k}", k + 1
            used.add(ident)
            attrs = f'{attrs} id="{ident}"'
        sections.append((ident, _text(inner)))
        return f"<h2{attrs}>{inner}</h2>"

    body = HEADING.sub(section, body)
    after_heading = ""
    first = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
    page_heading = unescape(_text(first.group(1))).lower() if first else ""
    if first and any(value.lower() not in page_heading for _, value in shown):
        text = "; ".join(f"{name}: {value}" for name, value in shown)
        after_heading += f'<p class="kl-subtitle">{escape(text[:1].upper() + text[1:])}</p>'
    if len(sections) >= 2:
        items = "".join(f'<li><a href="#{ident}">{text}</a></li>' for ident, text in sections)
        contents = escape(_("Contents"))
        after_heading += f'<nav class="kl-toc" aria-label="{contents}"><p>{contents}</p><ol>{items}</ol></nav>'
    if first and after_heading:
        body = body[:first.end()] + after_heading + body[first.end():]
    return body


@cache
def _exporter(show_code: bool) -> HTMLExporter:
    """One exporter per process and setting: its templates are compiled once."""
    return HTMLExporter(
        template_name="kommunelab",
        extra_template_basedirs=[str(library_dir() / "templates")],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


class Printer:
    """One headless Chromium, driven by Playwright over its DevTools pipe, that prints every PDF of a worker: a PDF
    costs a page load and a print, not a browser start. Print settings: A4 from the page's CSS (@page), backgrounds,
    no browser header or footer, and a document outline (PDF bookmarks) from the headings."""

    def __init__(self, chromium: str, scratch: Path | None = None):
        from playwright.sync_api import sync_playwright

        self.chromium = chromium
        self.blocked: list[str] = []  # the requests the last page made that were refused (see print_pdf)
        self._page = None
        self._document: tuple[str, bytes] = ("", b"")  # the address and bytes of the page being printed
        self._printed = 0
        # The browser's profile goes where Playwright's driver makes temporary folders: into ``scratch`` (the build's
        # temporary folder, removed even after a killed build) rather than /tmp.
        saved = os.environ.get("TMPDIR")
        if scratch is not None:
            scratch.mkdir(parents=True, exist_ok=True)
            os.environ["TMPDIR"] = str(scratch)
        try:
            self._playwright = sync_playwright().start()
        finally:
            if saved is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = saved
        flags = [f for f in browser_command(chromium, "")[1:] if f != "--headless" and not f.startswith("--user-data-dir")]
        try:
            # The browser itself gets this process's environment (its TMPDIR): Chromium puts a socket in a temporary
            # folder, and a socket's path may not be long.
            self._browser = self._playwright.chromium.launch(executable_path=chromium, args=flags, headless=True,
                                                             env=dict(os.environ))
        except Exception:
            self._playwright.stop()
            raise

    def alive(self) -> bool:
        return self._browser.is_connected()

    def _tab(self):
        """The one tab every document is printed in, opened on first use: a new tab costs Chromium a renderer process
        (about 0.4 s of CPU), more than loading and printing a report. Each print navigates it to a new document (a
        report cannot run script, REPORT_CSP), which the route answers alone."""
        if self._page is None or self._page.is_closed():
            self._page = self._browser.new_page()
            self._page.route("**/*", self._answer)
        return self._page

    def _answer(self, route) -> None:
        url, body = self._document
        if route.request.url == url:
            route.fulfill(status=200, body=body, content_type="text/html; charset=utf-8")
        else:
            self.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def print_pdf(self, html: Path, pdf: Path, timeout: float = 180, footer: str = "", links_base: str = "") -> None:
        """Print ``html`` to ``pdf``. The page is served from a closed origin (PRINT_ORIGIN), never as a file: a
        file: URL in it is then refused by the browser itself, and every other request (http, https, ws, blob)
        is aborted before it leaves, so a page can embed nothing but what it carries inline (data: URLs).

        A link relative to the page (a CSV beside the report) would point into that closed origin from the PDF: it
        points to ``links_base`` (where the site publishes the report's folder) or, without one, is left as text."""
        self._printed += 1  # a new address each time: a navigation, never a reload of the last document
        self._document = (f"{PRINT_ORIGIN}{self._printed}/{quote(html.name)}", html.read_bytes())
        self.blocked = []
        page = self._tab()
        try:
            page.goto(self._document[0], wait_until="load", timeout=timeout * 1000)
            page.evaluate(RELATIVE_LINKS, links_base)
            pdf.write_bytes(page.pdf(prefer_css_page_size=True, print_background=True, outline=True, tagged=True,
                                     display_header_footer=True, header_template="<span></span>",
                                     footer_template=FOOTER.format(footer=escape(footer), page=escape(_("page")),
                                                                   of=escape(_("of")))))
        except Exception:
            try:
                page.close()  # the next document gets a new tab, whatever state this one was left in
            except Exception:  # the browser itself went away (the caller closes the Printer)
                pass
            raise

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._playwright.stop()


# Links relative to the page, for the PDF: made absolute against a base, or removed (the text stays)
RELATIVE_LINKS = """(base) => {
  for (const a of document.querySelectorAll("a[href]")) {
    const href = a.getAttribute("href");
    if (href.startsWith("#") || /^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
    if (base) a.setAttribute("href", new URL(href, base).href); else a.removeAttribute("href");
  }
}"""

# The origin a page is printed from: a reserved name (RFC 2606) that no request may reach; only the page itself is
# answered there, by the Printer.
PRINT_ORIGIN = "http://kommunelab.invalid/"

# The running footer of every page: the report's title (the page's <title>), what ``footer`` says (the build date)
# and the page number. Chromium fills the elements of class title, pageNumber and totalPages.
FOOTER = ('<div style="font-family: \'DejaVu Sans\', sans-serif; font-size: 7.5pt; color: #52606d; width: 100%; '
          'margin: 0 14mm; display: flex; justify-content: space-between; gap: 1em;">'
          '<span><span class="title"></span>{footer}</span>'
          '<span style="white-space: nowrap">{page} <span class="pageNumber"></span> {of} <span class="totalPages"></span>'
          "</span></div>")

_printer: Printer | None = None


def printer(chromium: str, scratch: Path | None = None) -> Printer:
    """This process's Printer for ``chromium``, started on first use and again if its browser went away."""
    global _printer
    if _printer is not None and (_printer.chromium != chromium or not _printer.alive()):
        close_printer()
    if _printer is None:
        _printer = Printer(chromium, scratch)
        atexit.register(close_printer)  # a worker leaving its pool closes the browser before the build cleans up
    return _printer


def close_printer() -> None:
    global _printer
    if _printer is not None:
        try:
            _printer.close()
        except Exception:  # a browser killed by the watchdog: nothing left to close
            pass
        _printer = None


def html_to_pdf(html: Path, pdf: Path, chromium: str, timeout: float = 180, created: str | None = None,
                scratch: Path | None = None, links_base: str = "") -> None:
    """Print ``html`` to ``pdf`` with this process's Chromium (see Printer; ``scratch`` holds its profile).

    ``created`` (ISO 8601) replaces the print time Chromium writes as the PDF's CreationDate and ModDate, and the
    tagged structure's ids are renumbered by rank, so two prints of the same page are byte-identical.
    """
    footer = " · " + _("built {date}").format(date=date(created)) if created else ""
    try:
        printer(chromium, scratch).print_pdf(html, pdf, timeout, footer, links_base)
    except Exception as exc:
        close_printer()  # the next PDF starts a new browser
        lines = str(exc).strip().splitlines()
        raise KommunelabError(f"Chromium failed to print {html} to PDF: {lines[0] if lines else type(exc).__name__}"
                              ) from None
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise KommunelabError(f"Chromium printed an empty PDF for {html}")
    data = stable_node_ids(pdf.read_bytes())
    pdf.write_bytes(set_pdf_dates(data, created) if created else data)


NODE_ID = re.compile(rb"\(node(\d{8})\)")


def stable_node_ids(data: bytes) -> bytes:
    """Number the tagged PDF's structure-element ids ("(node00000059)", taken from Chromium's DOM node ids, which
    shift with timing) by their rank: two prints of one page then give the same bytes. Order and length are kept,
    so the id tree stays sorted and the cross-reference offsets stay valid."""
    ranks = {old: str(i).zfill(8).encode() for i, old in enumerate(sorted(set(NODE_ID.findall(data)), key=int), 1)}
    return NODE_ID.sub(lambda m: b"(node" + ranks[m.group(1)] + b")", data)


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
