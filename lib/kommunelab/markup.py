"""Reader text written from values: the markup comes from a template, every value is escaped; and what a published
page may load.

A notebook never builds Markdown or HTML with an f-string. Values (a municipality name from a data file, a parameter,
a formatted number) go in as keyword arguments and are escaped, so a name such as ``<iframe src=file:///etc/passwd>``
or ``![x](http://example.org/x.png)`` reaches the page as the text it is::

    show_md("# {name} Municipality: profile {year}\n\n{name} lies in {region}.", name=p.name, year=p.year,
            region=p.region_name)

Only :class:`Trusted` values (the library's own cross-references, :func:`kommunelab.report.ref`) pass unescaped.
"""

from __future__ import annotations

import re
import string
from typing import Any

# Everything CommonMark (and nbconvert's math extension: $) may read as markup, plus the HTML specials.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c]+")
_FORMATTER = string.Formatter()


# What a published page may load (its Content-Security-Policy): its own inline styles and data: URLs, nothing else.
# No script, frame, object or remote resource, so text that slipped past the escaping can fetch nothing, for the
# reader's browser and for the printing one alike. The index alone runs its own inline filter script.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; "
              "form-action 'none'")
INDEX_CSP = REPORT_CSP + "; script-src 'unsafe-inline'"


class Trusted(str):
    """Markup the library wrote itself (e.g. a link to a numbered figure): :func:`md` inserts it as it is."""


def escape_md(value: Any) -> str:
    """``value`` as Markdown that shows exactly its text: HTML specials as entities, Markdown punctuation behind a
    backslash, line breaks as spaces (a value cannot open a heading, a list or a new paragraph)."""
    if isinstance(value, Trusted):
        return str(value)
    text = _LINE_BREAKS.sub(" ", str(value))
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return "".join(_HTML.get(ch, ch) for ch in text)


def md(template: str, /, **values: Any) -> str:
    """Markdown from ``template`` (``{name}`` fields, with an optional format spec: ``{share:.1f}``) and ``values``,
    each value escaped by :func:`escape_md`. A field without a value, or a value without a field, is an error:
    a typo must not pass silently into a report."""
    if not isinstance(template, str):
        raise TypeError(f"md() takes a template string, got {type(template).__name__}")
    used: set[str] = set()
    out: list[str] = []
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        out.append(literal)
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"md(): field {{{field}}} must be a plain name; compute the value and pass it by name")
        if field not in values:
            raise KeyError(f"md(): no value given for {{{field}}}")
        used.add(field)
        value = values[field]
        if conversion:
            value = _FORMATTER.convert_field(value, conversion)
        out.append(escape_md(format(value, spec) if spec else value))  # a format spec makes plain text of it
    unused = sorted(set(values) - used)
    if unused:
        raise TypeError(f"md(): value(s) given for no field: {', '.join(unused)}")
    from .i18n import tidy

    return tidy("".join(out))


def show_md(template: str, /, **values: Any) -> None:
    """Display :func:`md` of ``template`` and ``values`` as Markdown (what the reader sees)."""
    from IPython.display import display

    text = md(template, **values)
    display({"text/markdown": text, "text/plain": text}, raw=True)
