"""espeak-ng synthesis at 8 kHz, its content-hash cache, and `ivr prompts render`."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

from ivr.speech import prompts as catalog
from ivr.speech.audio import duration_ms
from ivr.speech.tts import Tts
from tests.speech.conftest import PROMPTS


async def test_text_is_synthesized_at_8_khz_and_cached_by_content(tmp_path: Path) -> None:
    tts = Tts(tmp_path)
    pcm = await tts.synthesize_async("Your code is 4 5 6.", "en")
    assert 1000 < duration_ms(pcm) < 5000
    cached = tts.path_for("Your code is 4 5 6.", "en")
    with wave.open(str(cached), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
    cached.write_bytes(cached.read_bytes())  # same content: the cache is read, not re-rendered
    before = cached.stat().st_mtime_ns
    assert await tts.synthesize_async("Your code is 4 5 6.", "en") == pcm
    assert tts.synthesize("Your code is 4 5 6.", "en") == pcm
    assert cached.stat().st_mtime_ns == before
    assert tts.path_for("Your code is 4 5 7.", "en") != cached
    assert tts.path_for("Your code is 4 5 6.", "ru") != cached


async def test_russian_text_is_synthesized(tmp_path: Path) -> None:
    pcm = await Tts(tmp_path).synthesize_async("Ваш баланс 12 рублей.", "ru")
    assert duration_ms(pcm) > 1000


SAMPLE = {"welcome-menu", "thank-you", "goodbye", "sorry-technical-problem"}


def test_prompts_render_reproduces_the_catalogue(tmp_path: Path) -> None:
    shutil.copy(PROMPTS / "catalog.yaml", tmp_path / "catalog.yaml")
    written = catalog.render(tmp_path, only=SAMPLE)  # a sample keeps the test quick
    entries = [e for e in catalog.load_catalog(PROMPTS) if e.id in SAMPLE]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(
        f"{e.language}/{e.id}.wav" for e in entries)
    for path in written:
        shipped = PROMPTS / path.relative_to(tmp_path)
        with wave.open(str(path), "rb") as new, wave.open(str(shipped), "rb") as old:
            assert new.getparams()[:3] == old.getparams()[:3] == (1, 2, 8000)
            # same voice and speed: the length matches the shipped render
            assert abs(new.getnframes() - old.getnframes()) < 400


def test_render_only_some_ids(tmp_path: Path) -> None:
    shutil.copy(PROMPTS / "catalog.yaml", tmp_path / "catalog.yaml")
    written = catalog.render(tmp_path, only={"goodbye"})
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "en/goodbye.wav", "ru/goodbye.wav"]
    assert catalog.prompt_file(tmp_path, "ivr/goodbye", "ru") == tmp_path / "ru" / "goodbye.wav"
    assert catalog.prompt_file(tmp_path, "ivr/thank-you", "en") is None
