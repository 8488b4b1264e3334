"""Pieces every report shows: its validated parameters, the synthetic-data banner, numbered figures and tables with
their captions, cross-references, and the provenance block.

Findings and provenance are displayed twice over in one output: as HTML for the reader and as JSON under a
kommunelab MIME type (kommunelab.records), which the build reads back from the executed notebook.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import math
import os
import platform
import re
import shlex
import warnings
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import session
from .i18n import LANGUAGE, N_, SOURCE, _, date, moment, tidy
from .markup import Trusted
from .records import (
    BUILD_TIME_ENV,
    DATA_MIME,
    FINDINGS_LABEL,
    PROVENANCE_MIME,
    SITE_URL_ENV,
    data_file,
    spreadsheet_safe,
)

PACKAGES = ("kommunelab", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "papermill",
            "nbconvert", "babel")
KINDS = {"figure": N_("Figure"), "table": N_("Table")}
LABEL = re.compile(r"[a-z0-9][a-z0-9_-]*")

# words shown inside markup, declared here for the catalogs
T_retrieved_date = N_('retrieved {date}')
T_provenance = N_('Provenance')
T_parameters = N_('Parameters:')
T_none = N_('none')
T_data_file = N_('data file')
T_from = N_('from')
T_source_table = N_('source / table')
T_packages = N_('Packages:')
T_data_licences_and_attribution = N_('Data licences and attribution:')
T_how_to_cite = N_('How to cite:')
T_code_licence = N_('The code is under the MIT licence; cite the data as listed above.')
T_survey_data_stand_in = N_('Survey data (synthetic stand-in):')
T_survey_data = N_('Survey data:')
T_sources = N_('Sources:')
T_licence = N_('Licence:')
T_data_csv = N_('Data (CSV)')
T_data_behind = N_('Data behind the figures and tables, and the findings (CSV, UTF-8, comma-separated, decimal '
                   'point):')
T_data_where = N_('published beside this report, at {where}')


def _display(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def show_html(text: str) -> None:
    _display({"text/html": text, "text/plain": html.unescape(_strip_tags(text))})


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", " ", text)


def parameters(report: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Validate the notebook's parameters against reports.toml, with the rules and messages of the CLI.

    Call it in the setup cell as ``params = parameters("<report id>", globals())``: a bad value raises the same
    ParameterError in JupyterLab, under papermill and in a build. Canonical values (a municipality name becomes its
    code) are written back into ``namespace``; the dict returned is what the provenance block shows.
    """
    from .manifest import Variant, describe_not_defaults, load_manifest, not_defaults, validate_parameters

    _one_line_errors()
    spec = load_manifest()[report]
    given = {name: namespace[name] for name in spec.parameters if name in namespace}
    params = validate_parameters(spec, given)
    namespace.update(params)
    differs = not_defaults(spec, params)
    if differs and not os.environ.get(BUILD_TIME_ENV):  # in JupyterLab, not in a build (which injects its values)
        _display({"text/plain": "Parameters not at reports.toml's defaults: "  # for the analyst, in English
                  + "; ".join(describe_not_defaults(spec, params)) + ". The scheduled build uses reports.toml; build "
                  f"this variant with `kommunelab build {report} "
                  + " ".join("-p " + shlex.quote(f"{n}={v}") for n, v in differs.items()) + "`."})
    variant = Variant(spec, {**spec.defaults(), **params}).id  # once: every CSV link and the provenance name it
    session.begin(report, params, str(params.get(LANGUAGE, SOURCE)), variant)
    return dict(params)


def _one_line_errors() -> None:
    """In a kernel, a KommunelabError (a bad parameter, a damaged data file) shows as its message alone: the message
    is complete, and a four-frame traceback only hides it. The cell still fails, under papermill too."""
    from IPython import get_ipython

    from .errors import KommunelabError

    shell = get_ipython()
    if shell is None:
        return

    def one_line(shell, etype, value, tb, tb_offset=None):
        shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])

    shell.set_custom_exc((KommunelabError,), one_line)


def banner_synthetic(what: str, data_dir: str | Path | None = None) -> None:
    """The banner a report must carry when it runs on the project's synthetic stand-in (or a copy of it: the banner
    says which stand-in the data coincide with, kommunelab.survey.Package.why_synthetic)."""
    where = f' (<code translate="no">{html.escape(str(data_dir))}</code>)' if data_dir else ""
    package = session.current().survey_package
    from .paths import synthetic_dir

    given = package is not None and Path(package.folder).resolve() != synthetic_dir().resolve()
    if given and package.why_synthetic:  # data given that are a copy of the stand-in, or close to one
        tables = ", ".join(f"<code translate='no'>{html.escape(t)}</code>" for t in package.coinciding)
        where += "; " + html.escape(_("the data given coincide with it")) + (f" ({tables})" if tables else "")
    text = _("<strong>Synthetic data: pipeline check, not a reproduction.</strong> The survey microdata behind this "
             "report are not public. This run applies the published analysis to the project's synthetic "
             "stand-in{where}: {what} Every finding computed from it is a <em>pipeline check</em>: it passes when "
             "the estimate recovers the true value of the stand-in population it was drawn from (its 95% interval "
             "covers it), so it tests the computation, not the published figure, which is shown beside it as "
             "context. With 95% intervals about one check in twenty misses by chance. Point the <code>data_dir</code> "
             "parameter at the real microdata (a delivery with its codebook: README, \"Using your own survey "
             "data\") for real results.")
    show_html('<div class="kl-banner">' + text.format(where=where, what=html.escape(what)) + "</div>")


STAND_IN_NOTE = N_("Synthetic stand-in data, not survey results.")


def _number(kind: str, label: str) -> int:
    """The figure's or table's number: the next of its kind, or the one it already has (a cell run again in
    JupyterLab keeps its number)."""
    if not isinstance(label, str) or not LABEL.fullmatch(label):
        raise ValueError(f"label must be lower-case letters, digits, '-' or '_' (e.g. 'population'), got {label!r}")
    numbers = session.current().numbers
    if label in numbers:
        known, n = numbers[label]
        if known != kind:
            raise ValueError(f"label {label!r} already names {known} {n}; give this {kind} its own label")
        return n
    n = 1 + sum(1 for k, _ in numbers.values() if k == kind)
    numbers[label] = (kind, n)
    return n


# What a reference says in JupyterLab, before the export has numbered what it names (it may come further down)
BELOW = {"figure": N_("the figure below"), "table": N_("the table below"), None: N_("the figure or table below")}


def ref(label: str, kind: str | None = None) -> Trusted:
    """A Markdown link to a numbered figure or table, for :func:`kommunelab.markup.show_md`:
    ``show_md("see {fig}", fig=ref("unemployment", "figure"))`` -> "see Figure 2". A label captioned further down is
    numbered when the report is exported; in JupyterLab it reads "the figure below" (``kind``: "figure" or "table",
    checked against what the label names once it is known)."""
    if not isinstance(label, str) or not LABEL.fullmatch(label):
        raise ValueError(f"label must be lower-case letters, digits, '-' or '_' (e.g. 'population'), got {label!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if label in session.current().numbers:
        known, n = session.current().numbers[label]
        if kind is not None and kind != known:
            raise ValueError(f"label {label!r} names {known} {n}, not a {kind}")
        text = f"{_(KINDS[known])} {n}"
    else:  # numbered when exported
        text = _(BELOW[kind])
    return Trusted(f"[{text}](#kl-{label})")


def _caption(kind: str, label: str, text: str, stand_in: bool) -> tuple[str, str]:
    """(plain text, HTML figcaption): "Figure 2. [Synthetic stand-in data, not survey results.] <text>"."""
    name = f"{_(KINDS[kind])} {_number(kind, label)}."
    note = f"{_(STAND_IN_NOTE)} " if stand_in else ""
    css = "kl-caption kl-caption-stand-in" if stand_in else "kl-caption"
    markup = (f'<figcaption class="{css}"><span class="kl-caption-number">{name}</span> '
              + (f"<strong>{_(STAND_IN_NOTE)}</strong> " if stand_in else "") + f"{html.escape(text)}</figcaption>")
    return f"{name} {note}{text}", markup


def _data(label: str, data) -> tuple[str, dict[str, Any]]:
    """The link to the CSV behind figure or table ``label`` and the output that carries it to the build, which
    writes it beside the report (kommunelab.records.data_file). ``data`` is a DataFrame of what the figure or table
    shows: its rows, at the precision shown, its columns named with their units. A text that a spreadsheet would
    run as a formula is written as text (kommunelab.records.spreadsheet_safe)."""
    if label == FINDINGS_LABEL:
        raise ValueError(f"label {label!r} names the findings' CSV; give this figure or table another label")
    text = data.map(spreadsheet_safe).rename(columns=spreadsheet_safe).to_csv(index=False, lineterminator="\n")
    session.current().tables[label] = data_file(session.current().variant or "notebook", label)
    link = (f'<a class="kl-data" href="{html.escape(session.current().tables[label])}" download translate="no">'
            f'{html.escape(_(T_data_csv))}</a>')
    return link, {DATA_MIME: {"label": label, "csv": text}}


def shares_data(frame, by: str, share: str = "share", low: str = "low", high: str = "high", decimals: int = 1):
    """The data of a figure of shares (percent) with 95% intervals, for :func:`figure`'s ``data``: the category
    column ``by``, then share, low and high at the report's precision, headed with their unit."""
    return frame[[by, share, low, high]].round(decimals).rename(
        columns={share: "share (%)", low: "95% low (%)", high: "95% high (%)"})


MIN_TEXT_PX = 9  # no text of a figure is drawn smaller than this on any screen


def _min_width(svg: str) -> str:
    """A style attribute keeping the SVG wide enough that its smallest text is MIN_TEXT_PX on screen: a figure shrinks
    with the page, and on a phone it stops shrinking there and scrolls in its box instead."""
    sizes = [float(x) for x in re.findall(r"font-size: ?([\d.]+)px", svg)]
    view = re.search(r'viewBox="0 0 ([\d.]+) ', svg)
    if not sizes or view is None:
        return ""
    return f' style="min-width: {math.ceil(float(view.group(1)) * MIN_TEXT_PX / min(sizes))}px"'


def figure(fig, caption: str, *, label: str, data, stand_in: bool = False, tall: bool = False) -> None:
    """Show a matplotlib figure as a numbered figure: vector (SVG, text kept as text), its caption below and the
    caption as its alt text, and a link to ``data`` as CSV (a DataFrame of what the figure draws: its points at the
    precision shown, columns named with units, interval columns where it draws intervals). ``stand_in=True`` when it
    is drawn from the synthetic stand-in: the caption says so. ``tall=True`` for a figure that needs its height on
    paper (a map): it may print up to 130 mm high instead of 64 mm. The figure is closed (nothing else shows it)."""
    import matplotlib.pyplot as plt

    plain, markup = _caption("figure", label, tidy(caption), stand_in)
    buffer = io.StringIO()
    with warnings.catch_warnings():  # a layout engine giving up on a long title is not the reader's business
        warnings.filterwarnings("ignore", message="constrained_layout not applied", category=UserWarning)
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    opening = svg.index(">") + 1
    svg = (svg[:opening - 1] + ' role="img" aria-label="' + html.escape(plain) + '"' + _min_width(svg) + ">"
           + f"<title>{html.escape(plain)}</title>" + svg[opening:])
    link, carried = _data(label, data)
    markup = markup.replace("</figcaption>", f" {link}</figcaption>")
    css = "kl-figure kl-tall" if tall else "kl-figure"
    _display({"text/html": f'<figure class="{css}" id="kl-{label}" data-kl-number="{_(KINDS["figure"])} '
                           f'{session.current().numbers[label][1]}"><div class="kl-scroll">{svg}</div>{markup}</figure>',
              "text/plain": plain, **carried})


def show_table(frame, caption: str, *, label: str, data=None, stand_in: bool = False, index: bool = False) -> None:
    """Show a table (a DataFrame of display strings, or a Styler from :func:`table`) as a numbered table with its
    caption above and a link to its data as CSV: ``data`` (the numbers behind the display strings, at the precision
    shown, columns named with units), else the table as shown. Text columns are left-aligned, number columns
    right-aligned; a table wider than the page scrolls in its box with its first column fixed."""
    from pandas.io.formats.style import Styler

    styler = frame if isinstance(frame, Styler) else table(frame, index=index)
    plain, markup = _caption("table", label, tidy(caption), stand_in)
    link, carried = _data(label, styler.data.reset_index() if data is None and index else
                          styler.data if data is None else data)
    markup = markup.replace("</figcaption>", f" {link}</figcaption>")
    _display({"text/html": f'<figure class="kl-table" id="kl-{label}" data-kl-number="{_(KINDS["table"])} '
                           f'{session.current().numbers[label][1]}">{markup}<div class="kl-scroll">'
                           f'{styler.to_html()}</div></figure>',
              "text/plain": f"{plain}\n{styler.data.to_string(index=False)}", **carried})


NUMERIC = re.compile(r"^(DKK |[-\u2212+]|[<>] ?)?\d")


def _numeric(column) -> bool:
    values = [v for v in column if not (isinstance(v, str) and not v.strip())]
    return bool(values) and all(not isinstance(v, str) or NUMERIC.match(v.strip()) for v in values)


def table(frame, *, index: bool = False):
    """A pandas Styler for a report table: every cell escaped as HTML, numbers (also numbers already formatted as
    text: "1.234", "56%", "DKK 3.8 billion", "3 of 98") right-aligned and text left-aligned, and a table id derived
    from the content, so two builds of the same data give the same page (pandas otherwise draws a random id)."""
    digest = hashlib.sha256(frame.to_json(default_handler=str).encode()).hexdigest()[:10]
    styler = frame.style.format(escape="html").set_uuid(f"kl{digest}")
    styler = styler.format_index(escape="html", axis=1)
    align = {col: [{"selector": "th, td", "props": "text-align: right; white-space: nowrap" if _numeric(frame[col])
                    else "text-align: left"}] for col in frame.columns}
    styler = styler.set_table_styles(align, overwrite=False)
    return styler if index else styler.hide(axis="index")


# where a data file came from (kommunelab.provenance.FileRead.origin), in a reader's words
ORIGINS = {"snapshot": N_("the project's snapshot"), "mirror": N_("a mirror folder"), "project": N_("the project"),
           "synthetic": N_("synthetic stand-in"), "microdata": N_("survey microdata"), "user": N_("the user")}


def build_time() -> str:
    """The time shown as "generated": the build's recorded time when built, else now (in JupyterLab)."""
    return os.environ.get(BUILD_TIME_ENV) or datetime.now(UTC).isoformat(timespec="seconds")


def provenance(parameters: dict[str, Any] | None = None) -> None:
    """The closing block: git revision, parameters, data files with checksums, survey packages, package versions.

    ``parameters`` defaults to those the setup cell validated with :func:`parameters`.
    """
    from .paths import project_root
    from .provenance import files_read, git_revision, packages_read

    parameters = dict(session.current().parameters) if parameters is None else parameters
    files = files_read()
    packages = packages_read()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = _("not installed")
    record = {"git_revision": git_revision(project_root()), "generated": build_time(),
              "python": platform.python_version(), "parameters": parameters, "data_files": files,
              "survey_packages": packages, "packages": versions}
    e = html.escape
    rows = "".join(
        f"<tr><td><code translate='no'>{e(Path(f['path']).name)}</code></td><td>{e(_(ORIGINS.get(f['origin'], f['origin'])))}"
        f"{' (' + e(_(T_retrieved_date).format(date=date(f['retrieved']))) + ')' if f.get('retrieved') else ''}</td>"
        f"<td translate='no' lang='{'und' if f['origin'] == 'user' else 'en'}'>"
        f"{e(f['source'] if f['origin'] == 'user' else f['table'] or f['source'])}</td>"
        f"<td><code translate='no'>{f['sha256'][:16]}</code></td></tr>"
        for f in files
    )
    params = ", ".join(f"{e(str(k))} = {e(repr(v))}" for k, v in parameters.items())
    pkgs = ", ".join(f"{k} {v}" for k, v in versions.items())
    text = (
        f'<div class="kl-provenance"><h3>{e(_(T_provenance))}</h3><p>'
        + _("Generated {when} from git revision {revision} with Python {python}.").format(
            when=f'<time class="kl-build-field" datetime="{e(record["generated"])}">{e(moment(record["generated"]))}</time>',
            revision=f"<code translate='no'>{e(record['git_revision'])}</code>", python=record["python"])
        + f"</p><p><strong>{e(_(T_parameters))}</strong> "
        + (f"<code translate='no'>{params}</code>" if params else e(_(T_none))) + "</p>"
        f"<div class='kl-scroll'><table><tr><th>{e(_(T_data_file))}</th><th>{e(_(T_from))}</th>"
        f"<th>{e(_(T_source_table))}</th><th translate='no'>SHA-256</th></tr>"
        f"{rows}</table></div>{_downloads_html()}{_attributions_html(files)}{_packages_html(packages)}"
        f"<p><strong>{e(_(T_packages))}</strong> <span translate='no'>{e(pkgs)}</span></p>{_citation_html(record)}</div>"
    )
    _display({"text/html": text, "text/plain": f"Provenance: {json.dumps(record, default=str)[:500]}",
              PROVENANCE_MIME: record})


def _downloads_html() -> str:
    """The CSV files behind this report's figures and tables and its findings, linked, and where they are published
    (so a printed copy says where to find them)."""
    variant = session.current().variant
    if variant is None:
        return ""
    e = html.escape
    site = os.environ.get(SITE_URL_ENV, "").strip()
    report = session.current().report
    where = f"{site.rstrip('/')}/{report}/" if site else f"reports/{report}/"
    names = [*session.current().tables.values(), data_file(variant, FINDINGS_LABEL)]
    links = ", ".join(f'<a href="{e(name)}" download><code translate="no">{e(name)}</code></a>' for name in names)
    return (f'<p class="kl-downloads"><strong>{e(_(T_data_behind))}</strong> '
            + e(_(T_data_where)).format(where=f"<code translate='no'>{e(where)}</code>") + f": {links}.</p>")


def _attributions_html(files: list[dict]) -> str:
    """The credit each licence asks for, once per attribution, for the reference tables this report read."""
    seen: dict[str, str] = {}
    for f in files:
        if f.get("attribution"):
            seen.setdefault(f["attribution"], f.get("licence", ""))
    if not seen:
        return ""
    items = "".join(f"<li>{html.escape(text)}{' (' + html.escape(licence) + ')' if licence else ''}</li>"
                    for text, licence in seen.items())
    # the credit as the licence asks for it, quoted as the data's publisher words it
    return (f'<p><strong>{html.escape(_(T_data_licences_and_attribution))}</strong></p>'
            f'<ul class="kl-attribution" translate="no" lang="en">{items}</ul>')


def _citation_html(record: dict[str, Any]) -> str:
    """How to cite this report: title, revision, date, address (where it is published), and what it rests on."""
    if session.current().report is None:
        return ""
    from .manifest import Variant, load_manifest

    report = load_manifest()[session.current().report]
    variant = Variant(report, {**report.defaults(), **record["parameters"]})
    site = os.environ.get(SITE_URL_ENV, "").strip()
    address = f"{site.rstrip('/')}/{report.id}/{variant.id}.html" if site else ""
    e = html.escape
    text = e(_("kommunelab, \u201c{title}\u201d, git revision {revision}, built {date}")).format(
        title=e(variant.title), revision=f"<span translate='no'>{e(record['git_revision'])}</span>",
        date=e(date(record["generated"]))) + (f", <span translate='no'>{e(address)}</span>" if address else "") + "."
    rests_on = " " + _("It rests on: {source}.").format(source=_(report.source)) if report.source else ""
    return (f'<p class="kl-cite"><strong>{e(_(T_how_to_cite))}</strong> {text}'
            f'{e(rests_on)} {e(_(T_code_licence))}'
            "</p>")


def _packages_html(packages: list[dict]) -> str:
    """Each survey data package read: its descriptor's title, sources and licence."""
    e = html.escape
    return "".join(
        f"<p><strong>{e(_(T_survey_data_stand_in) if p['synthetic'] else _(T_survey_data))}</strong> "
        f"<span translate='no'>{e(p['title'])}</span>. {e(_(T_sources))} <span translate='no'>"
        f"{e('; '.join(p['sources']))}</span>. {e(_(T_licence))} <span translate='no'>{e('; '.join(p['licenses']))}"
        "</span>.</p>"
        for p in packages)
