"""The gettext catalogs: every language has every message of the template, translated, with the
same {placeholders} as English (parsed from the .po files themselves, not through the app)."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from notifications import messages

TRANSLATIONS = Path(messages.__file__).parent / "translations"
TWELVE = ("en", "th", "ru", "zh", "ko", "ja", "de", "fr", "hi", "ms", "ar", "he")


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)


def test_there_is_one_catalog_per_supported_language():
    assert messages.SUPPORTED_LANGUAGES == TWELVE
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert found == sorted(TWELVE)


@pytest.mark.parametrize("lang", TWELVE)
def test_every_message_is_translated_with_the_same_placeholders(lang):
    template_ids = [m.id for m in _read(TRANSLATIONS / "messages.pot") if m.id]
    english = {m.id: m.string for m in _read(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", "en") if m.id}
    catalog = _read(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", lang)
    assert str(catalog.locale) == lang
    entries = {m.id: m for m in catalog if m.id}
    assert sorted(entries) == sorted(template_ids), lang
    for message_id, entry in entries.items():
        assert not entry.fuzzy, (lang, message_id)
        assert isinstance(entry.string, str) and entry.string.strip(), (lang, message_id)
        assert _placeholders(entry.string) == _placeholders(english[message_id]), (lang, message_id)
        if lang != "en" and message_id != "language.name":
            assert entry.string != english[message_id], f"{lang} {message_id} is the English text"


def test_the_template_lists_every_message_the_code_renders():
    ids = {m.id for m in _read(TRANSLATIONS / "messages.pot") if m.id}
    for topic in messages.TOPICS:
        assert {f"{topic}.title", f"{topic}.body"} <= ids
    from notifications.broadcasts import TEMPLATES

    for template in TEMPLATES:
        assert {f"broadcast.{template}.headline", f"broadcast.{template}.message"} <= ids
    assert {"language.name", "zone_default.description", "zone_default.advice", "default_unit"} <= ids


def test_an_unknown_language_or_message_falls_back_or_fails_loudly():
    assert messages.render("overdue", "xx").language == "en"
    assert messages.text("sos_received.title", "pt") == "SOS received"
    with pytest.raises(messages.MissingTranslation):
        messages.text("no.such.message", "en")
    with pytest.raises(messages.MissingTranslation):
        messages.render("no_such_topic", "en")
