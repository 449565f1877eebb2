"""The SYNTHETIC Russian set behind benchmarks/asr.py's Russian row: every turn is labelled with
what ivr's grammars must answer, and it sounds like a telephone line (8 kHz, 300-3400 Hz)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

from ivr.speech.digits import to_digits
from ivr.speech.grammar import Grammar
from tests.speech.conftest import ROOT


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "russian_synth", ROOT / "benchmarks" / "russian_synth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def test_each_turn_is_labelled_with_what_the_grammar_must_answer() -> None:
    synth = load()
    turns = synth.items(13)
    assert {t.category for t in turns} == {"digits", "yesno", "menu"}
    assert len({(t.voice, t.speed, t.pitch) for t in turns}) > 10  # voices, speeds and pitches
    yesno, menu = Grammar.yesno("ru"), synth.menu_options()
    for turn in turns:
        if turn.category == "digits":
            assert to_digits(turn.text) == turn.answer
        elif turn.category == "yesno":
            assert yesno.match(turn.text) == turn.answer
        else:
            assert turn.text in menu[turn.answer]
    assert synth.items(13) == turns  # the same N is the same set


def test_a_turn_is_telephone_band_speech_in_line_noise(tmp_path: Path) -> None:
    synth = load()
    turn = next(t for t in synth.items(3) if t.text == "два")
    pcm = np.frombuffer(synth.telephone(turn, tmp_path), dtype="<i2").astype(np.float64)
    power = np.abs(np.fft.rfft(pcm)) ** 2
    hz = np.fft.rfftfreq(pcm.size, 1 / 8000)
    assert power[(hz < 300) | (hz > 3400)].sum() < 0.01 * power.sum()
    edge, middle = pcm[:2000], pcm[pcm.size // 2 - 1000:pcm.size // 2 + 1000]
    assert 0 < np.sqrt(np.mean(edge ** 2)) < np.sqrt(np.mean(middle ** 2)) / 2  # noise, then voice
    assert list(tmp_path.glob("*.wav"))  # the clean render is cached for the next run
