"""How a name typed by a person is matched to a canonical value: the one place for spelling rules.

A table maps accepted spellings to canonical values ("Brønderslev", "broenderslev", "bronderslev" -> "810").
Lookup tries the text as given, case-folded, and with Danish letters spelt out (ø -> oe) or simplified (ø -> o),
accents removed; unknown names get the closest spellings as a suggestion.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any


def fold(text: str, spelt_out: bool = True) -> str:
    """Lower case without accents, Danish letters spelt out ('Brønderslev' -> 'broenderslev') or simplified."""
    pairs = (("ø", "oe"), ("æ", "ae"), ("å", "aa")) if spelt_out else (("ø", "o"), ("æ", "ae"), ("å", "a"))
    text = text.casefold()
    for letter, replacement in pairs:
        text = text.replace(letter, replacement)
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def spellings(*names: str) -> set[str]:
    """Every spelling under which each of ``names`` is accepted."""
    out = set()
    for name in names:
        out |= {name, name.casefold(), fold(name), fold(name, spelt_out=False)}
    return out


def resolve(table: Mapping[str, Any], value: Any) -> Any | None:
    key = str(value).strip()
    for candidate in (key, key.casefold(), fold(key), fold(key, spelt_out=False)):
        if candidate in table:
            return table[candidate]
    return None


def did_you_mean(value: Any, known: Iterable[str]) -> str:
    """ "; did you mean X?" when one of ``known`` is close to ``value``, else ""."""
    close = difflib.get_close_matches(str(value).strip(), sorted(set(known)), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def closest(table: Iterable[str], value: Any, n: int = 4) -> list[str]:
    """The closest accepted spellings as a person would write them (not the folded duplicates)."""
    shown = [k for k in table if not k.isdigit() and k[:1].isupper()] or [k for k in table if not k.isdigit()]
    return difflib.get_close_matches(str(value).strip(), sorted(set(shown)), n=n, cutoff=0.6)


def spellings_table(rows: Iterable[tuple[object, str, str]]) -> dict[str, str]:
    """Every accepted spelling -> canonical code ("270"), from (code, Danish name, English name) rows."""
    table: dict[str, str] = {}
    for code, name_da, name_en in rows:
        for spelling in spellings(str(code), name_da, name_en):
            table[spelling] = str(code)
    return table
