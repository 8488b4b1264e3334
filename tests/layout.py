"""What a reader would see wrong in a page or a printed PDF, measured rather than looked at: text cut off, a word
broken inside, chart text too small to read (in a browser, at any width), a table header left alone at a page's
foot, a page left nearly empty (in the PDF). Used by tests/test_layout.py."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kommunelab.report import MIN_TEXT_PX  # the smallest chart text a reader is asked to read, on any screen

# In the page: each problem as one line. Words may break only at a space, a hyphen or a slash; code (file names,
# checksums) and addresses may wrap anywhere on a phone, as they must.
PAGE_PROBLEMS = """(minPx) => {
  const width = document.documentElement.clientWidth, problems = [];
  const where = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + (e.getAttribute("class") || "")
    .split(" ")[0] + " \\"" + e.textContent.trim().slice(0, 40) + "\\"";
  const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.width === 0) continue;
    if ((r.right > width + 1 || r.left < -1) && !scrolls(e)) problems.push("sticks out of the page: " + where(e));
    const o = getComputedStyle(e).overflowX;
    if ((o === "hidden" || o === "clip") && e.scrollWidth > e.clientWidth + 1) problems.push("clipped: " + where(e));
  }
  const blocks = "h1, h2, h3, th, td, figcaption, p, li, time, .kl-statement, summary, label";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !el.closest(blocks) || el.closest("code, svg, style, script, [hidden]")) continue;
    const text = node.textContent;
    const word = /[^\\s\\-\\u2010\\u2013\\u2014\\/]+/g;
    for (let m = word.exec(text); m; m = word.exec(text)) {
      if (m[0].length < 2 || /:\\/\\/|^www\\./.test(m[0])) continue;
      const range = document.createRange(); range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      const tops = new Set(Array.from(range.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top)));
      if (tops.size > 1) problems.push("word broken inside: \\"" + m[0] + "\\" in " + where(el));
    }
  }
  for (const t of document.querySelectorAll("svg text")) {
    const m = t.getScreenCTM(), r = t.getBoundingClientRect();
    if (!m || r.width === 0 || !t.textContent.trim()) continue;
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    if (px < minPx - 0.05) problems.push("chart text of " + px.toFixed(1) + " px: \\"" + t.textContent.trim() + "\\"");
  }
  return problems;
}"""


def page_problems(page) -> list[str]:
    """The problems of the page loaded in a Playwright ``page`` at its viewport's width."""
    return page.evaluate(PAGE_PROBLEMS, MIN_TEXT_PX)


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def table_headers(html: str) -> list[str]:
    """Each report table's header row as the PDF's text shows it (cells joined by spaces)."""
    rows = []
    for table in re.findall(r'<figure class="kl-table".*?</figure>', html, re.S):
        head = re.search(r"<thead>(.*?)</thead>", table, re.S)
        if head:
            cells = re.findall(r"<th[^>]*>(.*?)</th>", head.group(1), re.S)
            text = _normal(" ".join(re.sub(r"<[^>]+>", "", c) for c in cells))
            if text:
                rows.append(text)
    return rows


def pdf_problems(pdf: Path, html: str, min_fill: float = 0.25) -> list[str]:
    """Each page but the last filled to less than ``min_fill`` of its height; each table header that is the last
    thing on its page (its rows all on the next)."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    headers = table_headers(html)
    problems = []
    for number, page in enumerate(reader.pages, start=1):
        height = float(page.mediabox.height)
        margin = 16 / 25.4 * 72  # the @page margin, 16 mm: the footer sits in it
        ys: list[float] = []
        lines: list[tuple[float, str]] = []

        def visit(text, cm, tm, font, size, ys=ys, lines=lines, margin=margin, height=height):
            y = tm[5] * cm[3] + cm[5] if cm[3] else tm[5]
            if text.strip() and margin - 2 < y < height - margin + 2:
                ys.append(y)
                lines.append((y, text))

        page.extract_text(visitor_text=visit)
        used = (max(ys) - min(ys)) / (height - 2 * margin) if ys else 0.0
        if number < len(reader.pages) and used < min_fill:
            problems.append(f"page {number} of {len(reader.pages)} is {used:.0%} filled")
        if lines and number < len(reader.pages):
            bottom = min(y for y, _ in lines)
            last_line = _normal(" ".join(t for y, t in sorted(lines, key=lambda x: -x[0]) if abs(y - bottom) < 3))
            for header in headers:
                if last_line and (last_line in header or header.endswith(last_line)):
                    problems.append(f"page {number} ends with a table's header: {header!r}")
    return problems


@contextmanager
def chromium_thread() -> Iterator[Callable]:
    """``run(fn, *args)`` calls ``fn(browser, *args)`` with one headless Chromium (the system's: Playwright downloads
    nothing when given an executable). Playwright's sync API runs in a thread of its own: a notebook run earlier in
    the test process may have left an asyncio loop running in the main one. Skips the test without a Chromium."""
    from concurrent.futures import ThreadPoolExecutor

    import pytest

    from kommunelab.chromium import browser_command, find_chromium

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium on this machine (make setup installs one as root)")
    flags = [f for f in browser_command(chromium, "")[1:] if f != "--headless" and not f.startswith("--user-data-dir")]
    thread = ThreadPoolExecutor(max_workers=1)

    def start():
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        return pw, pw.chromium.launch(executable_path=chromium, args=flags, headless=True)

    pw, chrome = thread.submit(start).result()
    try:
        yield lambda fn, *args: thread.submit(fn, chrome, *args).result()
    finally:
        thread.submit(lambda: (chrome.close(), pw.stop())).result()
        thread.shutdown()
