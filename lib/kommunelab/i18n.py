"""Reader text in the report's language: gettext message catalogs, managed with Babel.

Every word a reader sees goes through :func:`_` (or :func:`ngettext` where a count decides the form, or :func:`N_`
where a text is declared before the language is known and translated where it is shown). The catalogs are
``locale/<language>/LC_MESSAGES/<domain>.po`` under this package, one domain for the library, the templates and the
index (``kommunelab``) and one per report (its notebook's reader text and its rows of data/published/findings.csv),
so a report is translated into the languages its ``language`` parameter offers and no others. The ``.po`` files are
committed; their compiled ``.mo`` files are made from them when missing or older (once per process, at first use,
or by ``kommunelab translations``), never by hand. ``kommunelab translations`` extracts the messages, updates the
catalogs and compiles them.

The language of a run is the report's ``language`` parameter (kommunelab.report.parameters sets it in the session);
number formats follow it (kommunelab.fmt). With $KOMMUNELAB_PSEUDO_LOCALE set, every message is shown
pseudo-translated (its letters accented, its fields and markup kept), so text that is not in a catalog stands out in
a built page (tests/test_i18n.py).
"""

from __future__ import annotations

import gettext
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.support import Translations


@dataclass(frozen=True)
class Language:
    code: str  # the report parameter's value and the HTML lang attribute: "da", "nb", "en"
    babel: str  # Babel's locale, for numbers, dates and the language's name (language_name)


LANGUAGES = {language.code: language for language in (
    Language("da", "da_DK"),
    Language("nb", "nb_NO"),
    Language("en", "en_GB"),
)}
SOURCE = "en"  # the language the messages are written in (the msgids)
LANGUAGE = "language"  # the report parameter a report is written in (reports.toml)
LIBRARY_DOMAIN = "kommunelab"
PSEUDO_ENV = "KOMMUNELAB_PSEUDO_LOCALE"


def N_(text: str) -> str:
    """Marks ``text`` for the catalogs where it is declared; :func:`_` translates it where it is shown."""
    return text


def warm() -> None:
    """Load Babel's data for each language's locale (CLDR, installed with Babel) into Babel's own cache: a build's
    kernel template calls it (kommunelab.kernel.WARM), so that a variant's first number or date does not read it."""
    from babel import localedata

    for lang in LANGUAGES.values():
        localedata.load(str(Locale.parse(lang.babel)))


def language() -> str:
    """The language of the run (the report's ``language`` parameter; English before a report declared one)."""
    from .session import current

    return current().language


def _(text: str) -> str:
    """``text`` in the run's language (the report's catalog first, then the library's)."""
    from .session import current

    return translator(current().language, current().report).gettext(text)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the run's language ("1 check did not pass" / "3 checks did not pass")."""
    from .session import current

    return translator(current().language, current().report).ngettext(singular, plural, n)


@contextmanager
def using(code: str, report: str | None = None):
    """Text in ``code`` (and ``report``'s catalog) inside the block: the index and the render stage, which run
    outside a report's kernel, speak the language of what they make."""
    from .session import current

    check_language(code)
    session = current()
    before = session.language, session.report
    session.language, session.report = code, report
    try:
        yield
    finally:
        session.language, session.report = before


def catalog_dir() -> Path:
    return Path(__file__).resolve().parent / "locale"


def check_language(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {code!r}") from None


def translator(code: str = SOURCE, report: str | None = None) -> gettext.NullTranslations:
    """The translations for ``code``: the report's domain first, then the library's; pseudo-translation when
    $KOMMUNELAB_PSEUDO_LOCALE is set."""
    return _translator(code, report, bool(os.environ.get(PSEUDO_ENV)))


@cache
def _translator(code: str, report: str | None, pseudo_mode: bool) -> gettext.NullTranslations:
    if pseudo_mode:
        return Pseudo()
    check_language(code)
    if code == SOURCE:
        return gettext.NullTranslations()
    compiled = _compiled_once()
    library = Translations.load(str(compiled), [code], LIBRARY_DOMAIN)
    if report is not None and (compiled / code / "LC_MESSAGES" / f"{report}.mo").is_file():
        own = Translations.load(str(compiled), [code], report)
        own.add_fallback(library)
        return own
    return library


@cache
def _compiled_once() -> Path:
    """compile_catalogs() once per process: the translators are cached for the process's life anyway."""
    return compile_catalogs()


def compiled_dir() -> Path:
    """Where the compiled catalogs go: beside the .po files, or, where the package cannot be written (installed
    read-only, e.g. on a cluster's workers), a folder of this user's in the temporary directory."""
    if _writable(catalog_dir()):
        return catalog_dir()
    return Path(tempfile.gettempdir()) / f"kommunelab-locale-{os.getuid()}"


def _writable(folder: Path) -> bool:
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            return True
    except OSError:
        return False


def compile_catalogs(force: bool = False) -> Path:
    """Compile every ``.po`` whose ``.mo`` is missing or older (into :func:`compiled_dir`), and return that folder.
    Each is written to a temporary file and moved into place, so two builds at once never read half a catalog."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    out = compiled_dir()
    for po in sorted(catalog_dir().glob("*/LC_MESSAGES/*.po")):
        mo = out / po.relative_to(catalog_dir()).with_suffix(".mo")
        if not force and mo.is_file() and mo.stat().st_mtime_ns >= po.stat().st_mtime_ns:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parts[-3])
        mo.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        os.replace(tmp, mo)
    return out


# -- formats that are words, not numbers ------------------------------------------------------------------------------

def date(iso: str, code: str | None = None) -> str:
    """An ISO date (or time) as a reader of ``code`` writes it: "29. november 2026", "29 November 2026"."""
    from datetime import date as _date

    try:
        day = _date.fromisoformat(str(iso)[:10])
    except ValueError:
        return str(iso)
    return format_date(day, "long", locale=check_language(code or language()).babel)


_DOUBLE_STOP = re.compile(r"\b(kr|pct|mio|mia|mill|mrd)(\\?)\.\.")


def tidy(text: str) -> str:
    """One full stop where an abbreviation ends a sentence: "229,6 mia. kr.." -> "229,6 mia. kr." (a value that
    ends in "kr." or "pct." put before a sentence's full stop; also when Markdown escaped the value's stop)."""
    return _DOUBLE_STOP.sub(r"\1\2.", text)


# a date and time as each language's statistics office writes it: "29. november 2026 kl. 18.07"
MOMENT = {"da": "d. MMMM y 'kl.' HH.mm", "nb": "d. MMMM y 'kl.' HH.mm", "en": "d MMMM y, HH:mm"}


def moment(iso: str, code: str | None = None) -> str:
    """An ISO time (UTC) as a reader of ``code`` writes it, with "UTC" after it."""
    from datetime import datetime

    from babel.dates import format_datetime

    code = code or language()
    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return f"{format_datetime(when, MOMENT[code], locale=check_language(code).babel)} UTC"


def sort_key(code: str | None = None):
    """A key that sorts names as the language's dictionary does: in Danish and Norwegian æ, ø and å come last."""
    import unicodedata

    order = {"æ": "{0", "ä": "{0", "ø": "{1", "ö": "{1", "å": "{2", "aa": "{2"}
    nordic = (code or language()) in ("da", "nb")

    def key(text: str) -> str:
        text = str(text).casefold()
        if nordic:
            text = re.sub("aa|æ|ä|ø|ö|å", lambda m: order[m.group(0)], text)
        return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))

    return key


def join(items: list[str], code: str | None = None) -> str:
    """Items as a reader of ``code`` lists them: "Halsnæs, Helsingør og Hillerød" (Babel's list patterns)."""
    from babel.lists import format_list

    if not items:
        return ""
    if os.environ.get(PSEUDO_ENV):  # the connecting words come from Babel, not the catalogs: shown accented too
        marks = [f"\x00{i}\x00" for i in range(len(items))]
        joined = pseudo(format_list(marks, locale=check_language(code or language()).babel))
        return re.sub(r"\x00(\d+)\x00", lambda m: str(items[int(m.group(1))]), joined)
    return format_list([str(i) for i in items], locale=check_language(code or language()).babel)


def language_name(code: str, in_language: str | None = None) -> str:
    """The language's name, in ``in_language`` (its own name by default): "Danish" / "dansk"."""
    return Locale.parse(check_language(code).babel).get_language_name(
        check_language(in_language or code).babel) or code


# -- pseudo-translation -----------------------------------------------------------------------------------------------

# Every ASCII letter has a non-ASCII twin, so a translated text holds no ASCII letter at all and any that a page shows
# came from outside the catalogs.
_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ACCENTED = "áƀçďéƒĝĥíĵķľɱñóþʠŕšťúṽŵẋýžÁƁÇĎÉƑĜĤÍĴĶĽṀÑÓÞǪŔŠŤÚṼŴẊÝŽ"
_PSEUDO = str.maketrans(_PLAIN, _ACCENTED)
# What must stay as written: format fields, HTML tags and entities, a Markdown link's target, code spans, %-fields
_KEEP = re.compile(r"\{[^{}]*\}|<[^<>]*>|&[#\w]+;|\]\([^)]*\)|`[^`]*`|%\(\w+\)[sdf]|%[sd]")


def pseudo(text: str) -> str:
    out, last = [], 0
    for m in _KEEP.finditer(text):
        out.append(text[last:m.start()].translate(_PSEUDO))
        out.append(m.group(0))
        last = m.end()
    out.append(text[last:].translate(_PSEUDO))
    return "".join(out)


class Pseudo(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return pseudo(singular if n == 1 else plural)
