"""The passport's Latin-script name, as its machine-readable zone (MRZ) spells it (ICAO Doc 9303).

Every passport carries the holder's name in Latin capitals in its MRZ, whatever script the
visual zone uses: ``IVANOV<<IVAN<PETROVICH`` beside "Иванов Иван Петрович". Staff who cannot
read Cyrillic, Thai or Chinese compare that form with the person in front of them, and it is
what a search by a typed name in Latin letters finds.

How it is stored and shown (one form, upper case A-Z, spaces and at most one comma):

- typed from the MRZ (with ``<`` fillers): ``IVANOV<<IVAN<PETROVICH`` → ``IVANOV, IVAN PETROVICH``:
  the primary identifier (surname) first, a comma, then the secondary identifier (given names),
  as the MRZ orders them;
- typed as words (``Ivanov, Ivan`` or ``Ivan Ivanov``) → upper case, in the order typed;
- not given, and the full name is already in Latin script → derived from it in the order written:
  ``Anna Müller`` → ``ANNA MUELLER``; a name in another script has no derived form (None).

Letters with diacritics are transliterated as ICAO Doc 9303 Part 3 (section 6) recommends: the
multinational characters of its table (Ä → AE, Ö → OE, Ü → UE, Å → AA, Æ → AE, Ø → OE, ß → SS,
Þ → TH, Ñ → N …) and every other accented letter by its base letter (É → E, Č → C). Hyphens are
written as spaces and apostrophes dropped, as in the MRZ (``O'Brien-Smith`` → ``OBRIEN SMITH``).
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 200

# ICAO Doc 9303 Part 3, "transliteration of multinational Latin-based characters" (the ones that
# do not simply lose their accent); upper case, applied after upper-casing.
_ICAO = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Œ": "OE", "Ü": "UE", "ẞ": "SS", "ß": "SS",
    "Þ": "TH", "Ð": "D", "Đ": "D", "Ħ": "H", "Ł": "L", "Ŀ": "L", "Ŋ": "N", "Ĳ": "IJ", "Ŧ": "T",
}
_APOSTROPHES = re.compile(r"['’ʼ`´‘]")
_HYPHENS = re.compile(r"[-‐‑‒–—―]")
_ALLOWED = re.compile(r"[A-Z ,]+")


class LatinNameError(ValueError):
    """A Latin-script name that cannot be stored (non-Latin letters, digits, no letters …)."""


def is_latin_script(name: str) -> bool:
    """True when every letter of ``name`` is a Latin letter (accents and ligatures included)."""
    letters = [ch for ch in name if ch.isalpha()]
    return bool(letters) and all("LATIN" in unicodedata.name(ch, "") for ch in letters)


def transliterate(text: str) -> str:
    """Upper-case Latin letters only, as ICAO 9303 writes them: ``Müller-Lüdenscheidt`` → ``MUELLER LUEDENSCHEIDT``."""
    text = _HYPHENS.sub(" ", _APOSTROPHES.sub("", unicodedata.normalize("NFC", text))).upper()
    out = []
    for ch in text:
        if ch in _ICAO:
            out.append(_ICAO[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base.upper())
    return " ".join("".join(out).split())


def _from_mrz(text: str) -> str:
    primary, _, secondary = text.strip().strip("<").partition("<<")
    primary = " ".join(primary.replace("<", " ").split())
    secondary = " ".join(secondary.replace("<", " ").split())
    return f"{primary}, {secondary}" if primary and secondary else primary or secondary


def normalize(text: str) -> str:
    """The stored form of a typed Latin-script name (MRZ or words); raises :class:`LatinNameError`."""
    text = unicodedata.normalize("NFKC", text).strip()
    if "<" in text:
        text = _from_mrz(text.upper())
    name = transliterate(text)
    name = re.sub(r"\s*,\s*", ", ", name).strip(" ,")
    if not name or not any(ch.isalpha() for ch in name):
        raise LatinNameError("give the name in Latin letters, as in the passport's machine-readable zone")
    if not _ALLOWED.fullmatch(name) or name.count(",") > 1:
        raise LatinNameError("Latin letters A-Z only, as in the passport's machine-readable zone "
                             "(e.g. IVANOV<<IVAN or IVANOV, IVAN)")
    if len(name) > MAX_LENGTH:
        raise LatinNameError(f"at most {MAX_LENGTH} characters")
    return name


def derive(full_name: str) -> str | None:
    """The Latin-script form of a name already written in Latin script, else None."""
    if not is_latin_script(full_name):
        return None
    try:
        return normalize(full_name.replace("<", " ").replace(",", " "))
    except LatinNameError:
        return None


def latin_name_for(*, full_name: str, latin_name: str | None) -> str | None:
    """What a new card stores: the given Latin name (normalised), else one derived from ``full_name``."""
    if latin_name is not None and latin_name.strip():
        return normalize(latin_name)
    return derive(full_name)
