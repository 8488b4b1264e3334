"""Reports in Danish and Norwegian (issue 23): every reader-facing string through the catalogs, each language's
conventions, the language in the page and the PDF.

The pseudo-locale build is the net: with $KOMMUNELAB_PSEUDO_LOCALE set every catalogued message is shown with its
letters accented ("Fíĝúŕé"), so a plain ASCII word left in a page came from outside the catalogs. What may stay plain
is said here once: names from the data, acronyms and table codes, the number words of the English number format,
and whatever the page marks as not to be translated (translate="no", code) or as written in another language (lang).
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kommunelab import fmt
from kommunelab.engine.build import BuildOptions, build, exit_code, failure_table
from kommunelab.errors import KommunelabError
from kommunelab.i18n import PSEUDO_ENV, date, moment, pseudo, sort_key, tidy, using

from .conftest import copy_project

REPO = Path(__file__).resolve().parents[1]


# -- the catalogs ------------------------------------------------------------------------------------------------------

def test_every_catalog_is_complete_and_current():
    """Every message the library, the index, the notebooks, reports.toml, findings.csv and the data's categories show
    is in the catalog of each language it is translated into: no message missing, none empty or fuzzy, every
    translation with its message's {fields}, no entry left over (`kommunelab translations --check`)."""
    from kommunelab.translations import check, every_domain

    assert check() == []
    domains = {m.domain: m for m in every_domain()}
    assert set(domains["kommunelab"].languages) == {"da", "nb"}
    assert domains["ks_innovation_barometer"].languages == ("nb", "da")
    assert domains["municipality_profile"].languages == ("da",)
    assert len(domains["kommunelab"].found) > 200 and "Findings scorecard" in domains["kommunelab"].found


def test_check_finds_a_missing_message(tmp_path, monkeypatch):
    """The completeness check can fail: a message the code shows that no catalog holds is named."""
    from kommunelab import translations

    real = translations.library_messages

    def with_one_more(languages):
        messages = real(languages)
        messages.add("A sentence nobody translated", "test")
        return messages

    monkeypatch.setattr(translations, "library_messages", with_one_more)
    problems = translations.check()
    assert any("A sentence nobody translated" in p and "not in the catalog" in p for p in problems)
    assert sum("kommunelab.po" in p for p in problems) == 2  # da and nb


def test_catalogs_compile_where_the_package_cannot_be_written(monkeypatch, tmp_path):
    """Installed read-only (a cluster's workers): the catalogs compile into the user's temporary folder instead."""
    import os
    import tempfile

    from kommunelab import i18n

    monkeypatch.setattr(i18n, "_writable", lambda folder: False)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    i18n._translator.cache_clear()
    i18n._compiled_once.cache_clear()
    try:
        assert i18n.translator("da").gettext("Findings scorecard") == "Oversigt over resultater"
        assert (tmp_path / f"kommunelab-locale-{os.getuid()}" / "da" / "LC_MESSAGES" / "kommunelab.mo").is_file()
    finally:
        i18n._translator.cache_clear()
        i18n._compiled_once.cache_clear()


def test_pseudo_translation_keeps_fields_markup_and_links():
    text = pseudo("See {ref} and [the table](#kl-ranking) in <strong>bold</strong> &amp; `code`, %(n)s")
    assert "{ref}" in text and "](#kl-ranking)" in text and "<strong>" in text and "&amp;" in text
    assert "`code`" in text and "%(n)s" in text
    assert not re.search(r"[A-Za-z]", re.sub(r"\{[^}]*\}|<[^>]*>|&\w+;|\]\([^)]*\)|`[^`]*`|%\(\w+\)s", "", text))


# -- each language's conventions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, number, percent, points, money, billions, ordinal", [
    ("da", "1.234,5", "12,3 pct.", "0,5 procentpoint", "256,0 mio. kr.", "3,8 mia. kr.", "2."),
    ("nb", "1\u00a0234,5", "12,3\u00a0%", "0,5 prosentpoeng", "256,0 mill. kr.", "3,8 mrd. kr.", "2."),
    ("en", "1,234.5", "12.3%", "0.5 pp", "DKK 256.0 million", "DKK 3.8 billion", "2nd"),
])
def test_numbers_money_and_percent_in_each_language(code, number, percent, points, money, billions, ordinal):
    assert fmt.number(1234.5, 1, code) == number
    assert fmt.percent(12.3, 1, code) == percent
    assert fmt.points(0.5, 1, code) == points
    assert fmt.dkk(256e6, code) == money and fmt.dkk(3.8e9, code) == billions
    assert fmt.ordinal(2, code) == ordinal


def test_dates_size_classes_and_sorting_in_each_language():
    from kommunelab.data import category

    assert date("2026-11-29T18:07:00+00:00", "da") == "29. november 2026"
    assert date("2026-11-29", "nb") == "29. november 2026" and date("2026-11-29", "en") == "29 November 2026"
    assert moment("2026-11-29T18:07:00+00:00", "da") == "29. november 2026 kl. 18.07 UTC"
    with using("da"):
        assert [category(c) for c in ("under 20,000", "20,000-39,999", "100,000 or more")] == [
            "under 20.000", "20.000–39.999", "100.000 eller flere"]
        assert category("better quality") == "bedre kvalitet" and category("not a category") == "not a category"
    with using("en"):
        assert category("20,000-39,999") == "20,000–39,999"
    names = ["Aabenraa", "Ærø", "Odense", "Østerbro", "Århus", "Zealand"]
    assert sorted(names, key=sort_key("da")) == ["Odense", "Zealand", "Ærø", "Østerbro", "Aabenraa", "Århus"]
    assert sorted(names, key=sort_key("en"))[:2] == ["Aabenraa", "Århus"]  # English: "Å" folded to "A"


def test_a_sentence_ending_in_an_abbreviation_has_one_full_stop():
    from kommunelab.markup import md

    assert tidy("et grundlag på 229,6 mia. kr.. På det") == "et grundlag på 229,6 mia. kr. På det"
    assert md("om {x}. Næste", x="229,6 mia. kr.") == "om 229,6 mia\\. kr\\. Næste"
    assert tidy("ends here..") == "ends here.."  # only after an abbreviation


# -- choosing the language ----------------------------------------------------------------------------------------------

def test_each_report_has_its_language_and_every_file_name_carries_it():
    from kommunelab.engine.build import select_variants
    from kommunelab.manifest import load_manifest

    manifest = load_manifest()
    assert {rid: r.languages[0] for rid, r in manifest.items()} == {
        "municipality_profile": "da", "kl_collaborations": "da", "ks_innovation_barometer": "nb",
        "di_outsourcing_savings": "da", "kora_civil_society": "da", "coi_citizens_volunteers": "da"}
    assert all(f"language-{v.params['language']}" in v.id for v in select_variants(None))
    nb = select_variants(None, languages=("nb",))
    assert [(v.report.id, v.id) for v in nb] == [("ks_innovation_barometer", "language-nb")]
    both = select_variants(["kl_collaborations"], languages=("all",))
    assert sorted(v.id for v in both) == ["language-da", "language-en"]
    with pytest.raises(KommunelabError, match=r"not a language of municipality_profile \(its languages: da, en\)"):
        select_variants(["municipality_profile"], languages=("nb",))
    with pytest.raises(KommunelabError, match="unknown 'sv'"):
        BuildOptions(languages=("sv",))
    with pytest.raises(KommunelabError, match="not both"):
        select_variants(["kl_collaborations"], {"language": "da"}, languages=("en",))


# -- the built pages ---------------------------------------------------------------------------------------------------

class Visible(HTMLParser):
    """The text a reader sees, leaving out what the page says is not to be translated (translate="no", code, the
    SVG's metadata), quotations of the sources (q: their words, as they wrote them) and what the page says is in
    another language than its own (lang="...")."""

    SKIP = {"script", "style", "code", "metadata", "q"}
    VOID = {"br", "img", "meta", "link", "input", "hr", "wbr", "col", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page_lang, self.stack, self.text = None, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.page_lang = attrs.get("lang")
        if tag in self.VOID:
            return
        skip = (tag in self.SKIP or attrs.get("translate") == "no"
                or ("lang" in attrs and tag != "html" and attrs["lang"] != self.page_lang))
        self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not any(skip for _, skip in self.stack):
            self.text.append(data)


def visible(path: Path) -> tuple[str | None, str]:
    parser = Visible()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.page_lang, re.sub(r"[ \t\r\n]+", " ", " ".join(parser.text)).strip()  # (no-break spaces kept)


def names_in_the_data() -> set[str]:
    """Words of names the data hold (municipalities, regions): shown as they are in every language."""
    words = set()
    with open(REPO / "data" / "reference" / "dk" / "municipalities.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for column in ("name_da", "name_en", "region_name"):
                words |= set(re.findall(r"[A-Za-z]{2,}", row[column]))
    return words


@pytest.fixture(scope="module")
def pseudo_built(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("pseudo") / "project")
    mp = pytest.MonkeyPatch()
    mp.setenv("KOMMUNELAB_ROOT", str(root))
    mp.setenv(PSEUDO_ENV, "1")
    out = io.StringIO()
    outcomes = build(None, None, False, BuildOptions(formats=("html",), jobs=2, languages=("en",)), out=out)
    mp.undo()
    assert exit_code(outcomes) == 0, out.getvalue() + failure_table(outcomes)
    return root, outcomes


@pytest.mark.slow
def test_the_pseudo_locale_build_shows_no_text_outside_the_catalogs(pseudo_built):
    root, outcomes = pseudo_built
    allowed = names_in_the_data() | {"pp", "DKK", "million", "billion", "UTC"}
    allowed |= {m for m in "January February March April May June July August September October November December"
                .split()}
    pages = [root / "reports" / o.outputs["html"] for o in outcomes] + [root / "reports" / "index.html"]
    assert len(pages) == 7
    for page in pages:
        lang, text = visible(page)
        assert lang == "en", page
        plain = [w for w in re.findall(r"(?<![\w/.#-])[A-Za-z]{2,}(?![\w/.-])", text)
                 if not w.isupper() and w not in allowed]
        assert plain == [], (page.name, sorted(set(plain))[:40])
        assert "áí" in text or "é" in text  # the pseudo-translation is there at all


MONTHS = {"da": "januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december",
          "nb": "januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember"}
BUILT = {"da": "bygget", "nb": "bygd"}
# Words no Danish or Norwegian sentence has and nearly every English one does
ENGLISH = re.compile(r"\b(the|and|with|which|of|is|are|from|this|that|not)\b")


@pytest.mark.slow
def test_each_report_reads_in_its_language_with_its_conventions(native_built):
    root, built = native_built
    for report, outcome in built.items():
        code = "nb" if report == "ks_innovation_barometer" else "da"
        assert outcome.params["language"] == code and f"language-{code}" in outcome.variant
        lang, text = visible(root / "reports" / outcome.outputs["html"])
        assert lang == code, report
        assert ENGLISH.findall(text) == [], (report, sorted(set(ENGLISH.findall(text))))
        assert re.search(rf"{BUILT[code]} \d{{1,2}}\. ({MONTHS[code]}) \d{{4}}", text), report  # the citation's date
        assert not re.search(r"\d%", text), report  # 12 pct. (da), 12 % (nb, a space), never 12%
    _, profile = visible(root / "reports" / built["municipality_profile"].outputs["html"])
    assert "Gribskov Kommune: profil 2021" in profile and "40.971" in profile
    assert "20.000–39.999" in profile and "100.000 eller flere" in profile  # the size classes, on the chart's axis
    _, di = visible(root / "reports" / built["di_outsourcing_savings"].outputs["html"])
    assert "3,8 mia. kr." in di and "DKK" not in di and "billion" not in di and "kr.." not in di
    _, ks = visible(root / "reports" / built["ks_innovation_barometer"].outputs["html"])
    assert "Hvor mange enheter har innført en innovasjon?" in ks and "74\u00a0%" in ks and "prosentpoeng" in ks


@pytest.mark.slow
def test_the_pdf_and_the_index_carry_the_language(native_built):
    from pypdf import PdfReader

    root, built = native_built
    for report, code, page_of in (("municipality_profile", "da", "side 1 af"), ("ks_innovation_barometer", "nb",
                                                                                 "side 1 av")):
        reader = PdfReader(root / "reports" / built[report].outputs["pdf"])
        assert reader.trailer["/Root"].get("/Lang") == code, report  # screen readers and hyphenation follow it
        assert page_of in reader.pages[0].extract_text(), report
    lang, index = visible(root / "reports" / "index.html")
    assert lang == "da" and "Hvor meget er ægte." in index and "Oversigt over resultater" in index
    assert ENGLISH.findall(index) == [], sorted(set(ENGLISH.findall(index)))
    html = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="index.nb.html" hreflang="nb"' in html  # the KS report is built in Norwegian: its index links back
    lang_nb, index_nb = visible(root / "reports" / "index.nb.html")
    assert lang_nb == "nb" and "Hvor mye er ekte." in index_nb and "KS: Innovasjonsbarometeret 2018" in index_nb
    assert ENGLISH.findall(index_nb) == [], sorted(set(ENGLISH.findall(index_nb)))


@pytest.mark.slow
def test_a_build_in_another_language_links_the_versions(native_built, tmp_path):
    import shutil

    root = shutil.copytree(native_built[0], tmp_path / "project", symlinks=True)  # the shared build stays as built
    mp = pytest.MonkeyPatch()
    mp.setenv("KOMMUNELAB_ROOT", str(root))
    out = io.StringIO()
    outcomes = build(["ks_innovation_barometer"], None, False, BuildOptions(formats=("html",), jobs=1,
                                                                              languages=("da",)), out=out)
    mp.undo()
    assert exit_code(outcomes) == 0, out.getvalue()
    (danish,) = [o for o in outcomes if o.params["language"] == "da"]
    lang, text = visible(root / "reports" / danish.outputs["html"])
    assert lang == "da" and "Hvor mange enheder har indført en innovation?" in text and "74 pct." in text
    assert ENGLISH.findall(text) == [], sorted(set(ENGLISH.findall(text)))  # KS in Danish reads as Danish too
    html = (root / "reports" / "index.html").read_text(encoding="utf-8")
    ks = html[html.index('id="report-ks_innovation_barometer"'):]
    ks = ks[:ks.index("</section>")]
    assert danish.outputs["html"] in ks and "ks_innovation_barometer/language-nb.html" in ks  # both, one as "also in"
