"""What tourists receive, in their language: twelve languages from gettext catalogs, English fallback.

The texts live in ``notifications/translations/<lang>/LC_MESSAGES/messages.po`` (gettext PO, one
catalog per language, ``messages.pot`` is the template; see ``notifications/translations/README.md``).
They are read with Babel's PO parser the first time a message is rendered and kept in memory
(:func:`catalog`), so a clean clone needs no compile step. Message ids are stable keys
(``sos_received.title``, ``broadcast.heat.message`` …); the English catalog holds the source texts.

Each topic has a title and a body, formatted with named parameters (``{unit}``, ``{zone}`` …).
The language is the device's, else the card holder's, reduced to its primary subtag
(``zh-Hans-CN`` → ``zh``); anything unknown falls back to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "en"
# Thailand keeps UTC+7 all year (no daylight saving): the time tourists read on their phones.
THAILAND = timezone(timedelta(hours=7), "ICT")
EMERGENCY_NUMBERS = "191 / 1155"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

# The languages the service writes in (Phuket's largest visitor groups), in the order offered.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "th", "ru", "zh", "ko", "ja", "de", "fr", "hi", "ms", "ar", "he")
RTL_LANGUAGES = frozenset({"ar", "he"})
TOPICS = ("sos_received", "sos_acknowledged", "sos_dispatched", "sos_resolved", "danger_zone", "left_area",
          "overdue", "card_expiring")


class MissingTranslation(LookupError):
    """A message id that the English catalog does not have (a programming error)."""


@cache
def catalog(language: str) -> dict[str, str]:
    """The translated messages of ``language`` (id → text; untranslated and fuzzy entries left out)."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        po = read_po(handle, locale=language)
    return {message.id: message.string for message in po
            if message.id and message.string and not message.fuzzy and isinstance(message.string, str)}


def text(message_id: str, language: str) -> str:
    """The text of ``message_id`` in ``language``, else in English."""
    if language in SUPPORTED_LANGUAGES:
        found = catalog(language).get(message_id)
        if found:
            return found
    try:
        return catalog(DEFAULT_LANGUAGE)[message_id]
    except KeyError:
        raise MissingTranslation(message_id) from None


def texts(message_id: str) -> dict[str, str]:
    """``message_id`` in every supported language (English where a catalog lacks it)."""
    return {lang: text(message_id, lang) for lang in SUPPORTED_LANGUAGES}


def language_name(language: str) -> str:
    """The language's name in itself (``"ไทย"``, ``"العربية"``)."""
    return text("language.name", language)


def languages() -> list[dict[str, str]]:
    """The supported languages as ``{tag, name}``, each name in its own language."""
    return [{"tag": lang, "name": language_name(lang)} for lang in SUPPORTED_LANGUAGES]


def zone_defaults(language: str) -> tuple[str, str]:
    """The general description and advice of a zone that has none of its own."""
    return text("zone_default.description", language), text("zone_default.advice", language)


def default_unit(language: str) -> str:
    """What a dispatched unit is called when the dispatcher left it blank."""
    return text("default_unit", language)


# Read once when the module is imported (the server's start): ``ZONE_DEFAULTS[lang]`` →
# (description, advice), ``DEFAULT_UNIT[lang]`` → the blank unit's name.
ZONE_DEFAULTS: dict[str, tuple[str, str]] = {lang: zone_defaults(lang) for lang in SUPPORTED_LANGUAGES}
DEFAULT_UNIT: dict[str, str] = {lang: default_unit(lang) for lang in SUPPORTED_LANGUAGES}


@dataclass(frozen=True)
class Rendered:
    """A message ready for the outbox, in one language."""

    language: str
    title: str
    body: str


def primary_language(tag: str | None) -> str:
    """The primary subtag of a BCP 47 tag, lower-case (``"zh-Hans-CN"`` → ``"zh"``); '' for none."""
    if not tag:
        return ""
    return tag.replace("_", "-").split("-", 1)[0].strip().lower()


def supported_language(tag: str | None) -> str | None:
    """The supported language of a BCP 47 tag (``"zh-Hans-CN"`` → ``"zh"``), or None."""
    lang = primary_language(tag)
    return lang if lang in SUPPORTED_LANGUAGES else None


def choose_language(*tags: str | None, available: tuple[str, ...] | list[str] = SUPPORTED_LANGUAGES) -> str:
    """The first of ``tags`` (device, then card holder, …) that is ``available``, else English."""
    for tag in tags:
        lang = primary_language(tag)
        if lang and lang in available:
            return lang
    return DEFAULT_LANGUAGE


class _Params(dict):
    """Format parameters that leave an unknown placeholder visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(topic: str, language: str, **params: Any) -> Rendered:
    """The ``topic`` message in ``language`` (English when not translated), formatted with ``params``."""
    if topic not in TOPICS:
        raise MissingTranslation(topic)
    lang = language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    title, body = text(f"{topic}.title", lang), text(f"{topic}.body", lang)
    values = _Params({k: "" if v is None else str(v) for k, v in params.items()})
    title = title.format_map(values)
    body = " ".join(body.format_map(values).split())  # tidy spaces left by empty parameters
    return Rendered(language=lang, title=title[:300], body=body)


def local_date(moment: datetime) -> str:
    """The calendar date of ``moment`` in Thailand, ISO format (``2026-12-24``)."""
    return moment.astimezone(THAILAND).date().isoformat()
