"""Word-sized stretches of a turn: a code read with pauses splits into its digits."""

from __future__ import annotations

import math
from array import array

from ivr.speech.audio import read_wav, silence
from ivr.speech.segments import merge_to, split_to, words
from tests.speech.conftest import FIXTURES


def tone(ms: int, amplitude: int = 8000) -> bytes:
    n = ms * 8
    return array("h", (int(amplitude * math.sin(2 * math.pi * 440 * i / 8000))
                       for i in range(n))).tobytes()


def test_a_code_recording_splits_into_its_six_digits() -> None:
    pcm = read_wav(FIXTURES / "otp6" / "otp_000_jackson.wav")
    assert len(words(pcm)) == 6


def test_a_single_recorded_digit_is_one_word() -> None:
    for path in sorted((FIXTURES / "fsdd").glob("*.wav")):
        assert len(words(silence(300) + read_wav(path) + silence(600))) == 1, path.name


def test_a_short_dip_inside_a_word_does_not_split_it() -> None:
    pcm = silence(200) + tone(200) + silence(50) + tone(200) + silence(200)
    assert len(words(pcm)) == 1


def test_a_click_is_not_a_word() -> None:
    pcm = silence(200) + tone(30) + silence(300) + tone(300) + silence(200)
    [(start, _)] = words(pcm)
    assert start >= (200 + 30) * 16  # the word starts after the click's pause


def test_pure_silence_has_no_words() -> None:
    assert words(silence(1000)) == []


def test_word_edges_keep_a_margin_but_never_cross_the_middle_of_a_pause() -> None:
    pcm = silence(500) + tone(200) + silence(160) + tone(200) + silence(500)
    first, second = words(pcm)
    assert first[0] < 500 * 16 and first[1] <= second[0]
    assert second[0] - first[1] < 160 * 16


def test_merging_joins_the_closest_neighbours_first() -> None:
    spans = [(0, 10), (12, 20), (40, 50)]
    assert merge_to(spans, 2) == [(0, 20), (40, 50)]
    assert merge_to(spans, 1) == [(0, 50)]


def test_a_stretch_just_long_enough_for_two_words_is_cut_or_left_without_error() -> None:
    # 300 ms = two words of split_to's 150 ms minimum: the old check let the empty middle
    # through and numpy's argmin raised, ending a call's turn (a word said for a code)
    pcm = silence(100) + tone(300) + silence(100)
    spans = split_to(pcm, [(100 * 16, 400 * 16)], 6)
    assert spans[0][0] == 100 * 16 and spans[-1][1] == 400 * 16


def test_the_line_hiss_around_a_quiet_word_is_not_cut_into_words() -> None:
    """A quiet "six" between stretches of line hiss, scaled up before scoring as a turn is: the
    recording is quieter inside than the hiss, and the hiss must not become words."""
    import numpy as np

    from ivr.speech.audio import normalize

    rng = np.random.default_rng(1)
    samples = np.frombuffer(read_wav(FIXTURES / "quiet" / "6_jackson_0.wav"), dtype="<i2")
    word = samples.astype(np.float64) * 10 ** (-41 / 20) * 32768 / np.abs(samples).max()
    hiss = rng.normal(0, 32768 * 10 ** (-72 / 20), 12000)
    turn = np.concatenate([hiss[:4000], word, hiss[4000:]]).astype("<i2").tobytes()
    assert len(words(normalize(turn))) == 1
    # the turn may end in the recording's own quiet tail: the hiss it started with still counts
    turn = np.concatenate([hiss[:4000], word, np.zeros(2400)]).astype("<i2").tobytes()
    assert len(words(normalize(turn))) == 1
