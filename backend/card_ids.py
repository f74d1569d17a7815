"""Card ids people can read aloud and type: Crockford base32 with a Luhn mod 32 check character.

A vocabulary of backend's shared core: every domain takes card ids in (schemas, URLs, searches,
the audit log's filter), and the cards domain issues them, so the words live here, below all of
them (the enrollment codes of ``backend.cards.enrollment`` use the same alphabet and reading).

A card id is 8 random characters from Crockford's alphabet (no I, L, O, U) plus one check
character computed with the Luhn mod N algorithm over the same alphabet, so the check character
is itself a normal, typeable symbol. It catches every single mistyped character and every swap
of two neighbouring characters (but one pair). Stored without separators (``7KQ4M2ZH9``),
printed in groups of three (``7KQ-4M2-ZH9``); typed input is forgiving: lower case, spaces and
dashes (any Unicode space or dash, full-width characters from an Asian keyboard), and O / I / L
read as 0 / 1 / 1.

Every card id that comes in goes through :func:`canonical` in one of two places: the
:class:`CardId` field of every request schema, and :func:`canonical_path_card_id` for every
``<card_id>`` in a URL (registered for the whole app, so a new route cannot forget it).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from marshmallow import fields, validate

# Crockford's base32 without I, L, O, U: easy to read aloud and type.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(ALPHABET)  # 32
DATA_LENGTH = 8
LENGTH = DATA_LENGTH + 1
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def normalize(code: str) -> str:
    """Upper-case, drop spaces and dashes, and read O as 0 and I/L as 1."""
    cleaned = "".join(ch for ch in code.upper() if ch not in " -")
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def check_character(data: str) -> str:
    """The Luhn mod 32 check character for ``data`` (upper-case Crockford characters)."""
    factor, total = 2, 0
    for ch in reversed(data):
        addend = factor * _VALUE[ch]
        factor = 1 if factor == 2 else 2
        total += addend // BASE + addend % BASE
    return ALPHABET[(BASE - total % BASE) % BASE]


def is_valid(card_id: str) -> bool:
    """True when ``card_id`` (already normalised) is well formed and its check character matches."""
    if len(card_id) != LENGTH or any(ch not in _VALUE for ch in card_id):
        return False
    return check_character(card_id[:-1]) == card_id[-1]


def new_card_id() -> str:
    """A fresh random card id with its check character."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
    return data + check_character(data)


_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc]+")  # spaces, hyphens, dashes, minus, ー


def canonical(text: str) -> str:
    """The stored form of a typed card id (upper case, no separators, O→0, I/L→1): ``akt vm4-hzj`` → ``AKTVM4HZJ``."""
    return normalize(_SEPARATORS.sub("", unicodedata.normalize("NFKC", text)))


class CardId(fields.String):
    """A card id as printed or typed (any case, with or without hyphens and spaces); loads its stored form."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Length(min=1, max=32))
        metadata = {"description": "the card id as printed or typed: case, hyphens and spaces do not matter",
                    "example": "AKT-VM4-HZJ", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return canonical(super()._deserialize(value, attr, data, **kwargs))


def canonical_path_card_id(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """URL value preprocessor: a ``<card_id>`` in any path is read as :func:`canonical` reads it."""
    if values and isinstance(values.get("card_id"), str):
        values["card_id"] = canonical(values["card_id"])


def display(card_id: str) -> str:
    """The printed form, grouped in threes: ``7KQ-4M2-ZH9``."""
    if len(card_id) != LENGTH:
        return card_id
    return "-".join(card_id[i:i + 3] for i in range(0, LENGTH, 3))
