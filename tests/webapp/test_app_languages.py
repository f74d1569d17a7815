"""The companion app's own texts in all twelve languages (static/i18n/<lang>.json), served and
cached by the app shell, with the right-to-left ones named in the page's configuration."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from notifications import messages

I18N = Path(__file__).resolve().parents[2] / "mobile_api" / "webapp" / "static" / "i18n"
ENGLISH = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
MAY_BE_EMPTY = {"severity.undefined"}


def _placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)


def test_there_is_a_file_for_every_supported_language_and_no_other():
    assert sorted(p.stem for p in I18N.glob("*.json")) == sorted(messages.SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("lang", messages.SUPPORTED_LANGUAGES)
def test_every_text_of_the_app_is_translated_with_the_same_placeholders(lang):
    texts = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
    # every English text is there (a text the others do not have yet is harmless: it waits for English)
    assert not set(ENGLISH) - set(texts), f"{lang} lacks {sorted(set(ENGLISH) - set(texts))}"
    for key, value in texts.items():
        assert isinstance(value, str), (lang, key)
        if key not in MAY_BE_EMPTY:
            assert value.strip(), (lang, key)
        if key in ENGLISH:
            assert _placeholders(value) == _placeholders(ENGLISH[key]), (lang, key)
    # every language names every other in itself, the same way in every file
    for code in messages.SUPPORTED_LANGUAGES:
        assert texts[f"lang.{code}"] == messages.language_name(code), (lang, code)


@pytest.mark.parametrize("lang", [lang for lang in messages.SUPPORTED_LANGUAGES if lang != "en"])
def test_the_screens_are_really_translated(lang):
    texts = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
    for key in ("tab.home", "tab.settings", "sos.send", "settings.language", "inbox.title", "map.inside_danger"):
        assert texts[key] != ENGLISH[key], (lang, key)


def test_the_shell_offers_and_caches_the_twelve_languages(client):
    page = client.get("/app")
    assert page.status_code == 200
    config = json.loads(re.search(r'<script[^>]*id="pts-config"[^>]*>(.*?)</script>', page.get_data(as_text=True),
                                  re.S).group(1))
    assert config["languages"] == list(messages.SUPPORTED_LANGUAGES)
    assert config["rtl_languages"] == ["ar", "he"]
    worker = client.get("/app/sw.js").get_data(as_text=True)
    for lang in messages.SUPPORTED_LANGUAGES:
        with client.get(f"/app/static/i18n/{lang}.json") as response:  # closes the served file
            assert response.status_code == 200 and response.get_json()["settings.language"]
        assert f"/app/static/i18n/{lang}.json" in worker
