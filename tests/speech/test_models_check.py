"""`ivr models check` names the engine that serves each language and where its weights are."""

from __future__ import annotations

import pytest

from ivr.speech import models
from tests.speech.conftest import ROOT


class _Defaults:
    """Settings with nothing configured: no Vosk model, engine chosen automatically."""


def test_english_is_served_by_tiny_en_scoring_with_base_beside_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)  # the joined Whisper base model is kept under var/speech
    [(language, engine, where)] = models.check(_Defaults(), ("en",))
    assert (language, engine) == ("en", "whisper-tiny.en")
    assert "tiny.en" in where and "whisper-base" in where
