"""The real Vosk engine (Korean model from PyPI: the only Vosk model that installs here) for
the mechanics that do not depend on the language: one model per process, streaming 20 ms
frames off the loop, grammars, concurrency and memory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.speech.audio import frames, read_wav, silence
from ivr.speech.engines.vosk_engine import VoskEngine
from ivr.speech.errors import ModelMissing
from ivr.speech.grammar import Grammar
from ivr.speech.models import load_engine
from ivr.speech.recognizer import Engine, EngineStream, ModelPool, Recognizer
from tests.speech.conftest import FIXTURES

KO_WORDS = "일,이,삼,사,오"
RECORDINGS = sorted((FIXTURES / "fsdd").glob("*.wav"))


def rss_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


async def stream_file(engine: Engine, grammar: Grammar, path: Path) -> str:
    rec = Recognizer(engine, grammar)
    for frame in frames(silence(200) + read_wav(path) + silence(400)):
        await rec.feed(frame)
    return (await rec.result()).text


async def test_the_pool_loads_a_language_once_for_concurrent_callers(vosk_ko: VoskEngine) -> None:
    loads: list[str] = []

    def loader(language: str) -> Engine:
        loads.append(language)
        return vosk_ko

    pool = ModelPool(loader)
    engines = await asyncio.gather(*(pool.get("ko") for _ in range(10)))
    assert loads == ["ko"] and all(e is vosk_ko for e in engines)


async def test_partial_hypotheses_come_while_the_caller_is_still_talking(
    vosk_ko: VoskEngine,
) -> None:
    rec = Recognizer(vosk_ko, Grammar.free("ko"))
    pcm = read_wav(FIXTURES / "commands" / "go_563aa4e6_nohash_2.wav")
    partials = []
    for frame in frames(silence(200) + pcm + silence(600)):
        await rec.feed(frame)
        # frames arrive as on a call, at half speed: the Korean test model runs at about real
        # time on these 2 cores (benchmarks/asr.py), so at full speed its partials lagged
        # behind the last frame
        await asyncio.sleep(0.04)
        partials.append(rec.partial)
    final = await rec.result()
    assert any(partials) and final.final and final.engine == "vosk"


async def test_a_grammar_limits_results_to_its_phrases(vosk_ko: VoskEngine) -> None:
    grammar = Grammar.parse(KO_WORDS, "ko")
    for path in RECORDINGS:
        said = await stream_file(vosk_ko, grammar, path)
        assert set(said.split()) <= set(KO_WORDS.split(","))


async def test_one_stream_per_turn_however_many_frames(vosk_ko: VoskEngine) -> None:
    built: list[EngineStream] = []

    class Counting:
        name, language = "vosk", "ko"

        def stream(self, grammar: Grammar) -> EngineStream:
            built.append(vosk_ko.stream(grammar))
            return built[-1]

    await stream_file(Counting(), Grammar.free("ko"), RECORDINGS[0])
    assert len(built) == 1


async def test_concurrent_turns_on_one_model_each_get_their_result(
    vosk_ko: VoskEngine,
) -> None:
    # (Vosk is not bit-for-bit repeatable on near ties, so results are checked, not compared)
    grammar = Grammar.parse(KO_WORDS, "ko")
    together = await asyncio.gather(*(stream_file(vosk_ko, grammar, p) for p in RECORDINGS * 4))
    assert len(together) == 4 * len(RECORDINGS)
    assert all(set(said.split()) <= set(KO_WORDS.split(",")) for said in together)
    assert any(together)


def test_twenty_grammar_streams_cost_little_next_to_the_model(vosk_ko: VoskEngine) -> None:
    grammar = Grammar.parse(KO_WORDS, "ko")
    pcm = read_wav(RECORDINGS[0])
    one = vosk_ko.stream(grammar)
    one.accept(pcm)
    before = rss_mb()
    streams = [vosk_ko.stream(grammar) for _ in range(20)]
    for stream in streams:
        stream.accept(pcm)
    assert rss_mb() - before < 60  # the model itself is ~250 MB and is not copied


def test_a_missing_model_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match=f"no Vosk model at {tmp_path}.*ivr models fetch"):
        VoskEngine(tmp_path, "en")

    class Forced:
        asr_engine = "vosk"
        models_dir = tmp_path

    with pytest.raises(ModelMissing, match="IVR_VOSK_MODEL_RU"):
        load_engine(Forced(), "ru")
