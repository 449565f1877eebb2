"""End of speech from trailing silence and start of speech for barge-in, on real audio."""

from __future__ import annotations

from array import array

from ivr.speech.audio import duration_ms, frames, read_wav, silence
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
    # long enough to count as a start, too short to be an utterance: the turn goes on
    assert [e for e, _ in run(silence(500) + burst(80) + silence(1500))] == [Event.START]
