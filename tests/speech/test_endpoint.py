"""End of speech from trailing silence and start of speech for barge-in, on real audio."""

from __future__ import annotations

from array import array

import numpy as np

from ivr.speech.audio import duration_ms, frames, read_wav, rms_dbfs, silence
from ivr.speech.endpoint import EndpointConfig, Endpointer, Event
from tests.speech.conftest import FIXTURES

GO = FIXTURES / "commands" / "go_563aa4e6_nohash_2.wav"


def run(pcm: bytes, config: EndpointConfig | None = None) -> list[tuple[Event, float]]:
    endpointer = Endpointer(config)
    events: list[tuple[Event, float]] = []
    for frame in frames(pcm):
        event = endpointer.feed(frame)
        if event is not Event.NONE:
            events.append((event, endpointer.elapsed_ms))
    return events


def test_speech_start_and_end_after_the_trailing_silence() -> None:
    word = read_wav(GO)
    events = run(silence(1000) + word + silence(1500))
    assert [e for e, _ in events] == [Event.START, Event.END]
    start, end = events[0][1], events[1][1]
    assert 1000 <= start <= 1000 + duration_ms(word)
    # END comes 600 ms after the last voiced frame, which is inside the word
    assert 1600 <= end <= 1000 + duration_ms(word) + 600 + 40


def test_trailing_silence_is_configurable() -> None:
    pcm = silence(500) + read_wav(GO) + silence(2500)
    short = run(pcm, EndpointConfig(trailing_silence_ms=300))[-1][1]
    long = run(pcm, EndpointConfig(trailing_silence_ms=1200))[-1][1]
    assert abs((long - short) - 900) <= 40


def test_silence_alone_never_starts_speech() -> None:
    assert run(silence(5000)) == []


def burst(ms: int) -> bytes:
    return array("h", [12000, -12000] * (ms * 4)).tobytes()


def test_a_click_neither_barges_in_nor_ends_a_turn() -> None:
    assert run(silence(500) + burst(40) + silence(1500)) == []
    # energy alone: long enough to count as a start, too short to be an utterance
    energy = EndpointConfig(vad=False)
    assert [e for e, _ in run(silence(500) + burst(80) + silence(1500), energy)] == [Event.START]
    # the voice detector knows a tone burst is not a voice: no barge-in at all
    assert run(silence(500) + burst(80) + silence(1500)) == []


def scaled(pcm: bytes, peak_db: float) -> bytes:
    """`pcm` with its loudest 20 ms frame at `peak_db` dBFS."""
    gain = 10 ** ((peak_db - max(rms_dbfs(f) for f in frames(pcm))) / 20)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * gain
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def line_noise(seconds: float, seed: int = 7) -> bytes:
    """Hiss at -58 dBFS, 50 Hz hum at -45 dBFS, 30 clicks and six 250 ms crackles at -25 dBFS."""
    rng = np.random.default_rng(seed)
    count = int(8000 * seconds)
    hum = 32768 * 10 ** (-45 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 50 * np.arange(count) / 8000)
    signal = rng.normal(0, 32768 * 10 ** (-58 / 20), count) + hum
    for at in rng.integers(0, count - 40, 30):
        signal[at:at + 8] += 20000 * rng.choice([-1, 1])
    for at in rng.integers(0, count - 2000, 6):
        signal[at:at + 2000] += rng.normal(0, 32768 * 10 ** (-25 / 20), 2000)
    return np.clip(signal, -32768, 32767).astype("<i2").tobytes()


def test_a_quiet_caller_is_heard_to_the_end_of_the_word() -> None:
    """-48 dBFS at its loudest 20 ms (about -40 dBFS sample peak): energy alone never hears it
    (the caller gets "no input" on every try); with the voice detector it is an utterance."""
    quiet = scaled(read_wav(FIXTURES / "fsdd" / "7_jackson_5.wav"), -48.0)
    pcm = silence(500) + quiet + silence(1500)
    assert run(pcm, EndpointConfig(vad=False)) == []
    assert [e for e, _ in run(pcm)] == [Event.START, Event.END]


def test_a_minute_of_line_noise_never_barges_in() -> None:
    noise = line_noise(60)
    assert Event.START in [e for e, _ in run(noise, EndpointConfig(vad=False))]
    assert run(noise) == []
    # and a caller who then speaks over that line is still heard
    word = read_wav(FIXTURES / "fsdd" / "3_jackson_5.wav")
    events = run(noise[:8000 * 2 * 5] + word + noise[:8000 * 2 * 2])
    assert [e for e, _ in events] == [Event.START, Event.END]


def over_hiss(pcm: bytes, peak_db: float = -41.0, hiss_db: float = -72.0) -> bytes:
    """A recording scaled to `peak_db` dBFS at its sample peak, between 0.5 s and 1.5 s of
    line hiss (how benchmarks/asr.py builds its quiet callers)."""
    rng = np.random.default_rng(1)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    samples *= 10 ** (peak_db / 20) * 32768 / np.abs(samples).max()
    hiss = rng.normal(0, 32768 * 10 ** (hiss_db / 20), 16000)
    audio = np.concatenate([hiss[:4000], samples, hiss[4000:]])
    return np.clip(audio, -32768, 32767).astype("<i2").tobytes()


def test_a_quiet_word_the_detector_confirmed_ends_the_turn() -> None:
    """This "seven" at -41 dBFS peak is only 80 ms above the threshold: the voice detector
    confirms it, and the turn ends after it rather than waiting for a word already said."""
    pcm = over_hiss(read_wav(FIXTURES / "quiet" / "7_nicolas_0.wav")) + silence(1500)
    assert [e for e, _ in run(pcm)] == [Event.START, Event.END]


def test_a_quiet_word_over_before_the_detector_is_sure_still_starts() -> None:
    """This "eight" at -41 dBFS peak is 140 ms above the threshold; the voice detector is sure
    of it only after those frames, and it is still heard."""
    pcm = over_hiss(read_wav(FIXTURES / "quiet" / "8_yweweler_5.wav")) + silence(1500)
    assert [e for e, _ in run(pcm)] == [Event.START, Event.END]
