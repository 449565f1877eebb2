"""`ivr serve` takes calls at once: FastAGI and AudioSocket listen before the speech models
load (14-17 s on the lab), which load in the background; keypad calls are served meanwhile
(calls answered right after a restart were refused: issue 15, RESULTS "Other observations")."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from ivr.call.errors import FeatureUnavailable
from ivr.call.media import MediaPath, SpeechTurn
from ivr.speech.errors import SpeechError
from ivr.speech.grammar import Grammar
from ivr.speech.recognizer import Engine, ModelPool
from tests.processes import Served, wait_for_log

SPEECH_LINE = re.compile(r"speech[ :(]")


def test_fastagi_listens_before_the_speech_models_are_loaded(server: Served) -> None:
    log = wait_for_log(server.log, "FastAGI listening")
    call = server.call("--from", "+15550009999", "--input", "wait:1", "--input", "dtmf:9",
                       "--input", "hangup", "--json", "--max-seconds", "30")
    assert call.returncode == 0, call.stderr
    events = [json.loads(line) for line in call.stdout.splitlines() if line.startswith("{")]
    assert events, call.stdout  # the server answered and ran the flow
    log = _wait_for_speech_line(server)
    listening = log.index("FastAGI listening")
    media = log.index("AudioSocket listening")
    first_speech = SPEECH_LINE.search(log)
    assert first_speech is not None
    assert max(listening, media) < first_speech.start(), log


def _wait_for_speech_line(server: Served, seconds: float = 120) -> str:
    """The log once it has a line about the speech models (loaded, or why not)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = server.log.read_text(encoding="utf-8")
        if SPEECH_LINE.search(text):
            return text
        time.sleep(0.05)  # polling a file another process writes
    raise AssertionError(f"no speech line logged; got:\n{text}")


async def test_a_speech_turn_waits_for_its_engine_a_bounded_time_then_uses_the_keypad() -> None:
    """While the background load still runs, a speech turn waits for it up to `model_wait`,
    then raises FeatureUnavailable (the flow engine's cue to gather keys instead)."""
    release = threading.Event()

    def slow_loader(language: str) -> Engine:  # only slow: it never yields an engine
        release.wait(10)
        raise SpeechError(f"no engine for {language} in this test")

    path = MediaPath(None, "", pool=ModelPool(slow_loader), model_wait=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(FeatureUnavailable, match="still loading"):
            await SpeechTurn(None, path, "en").recognizer(Grammar.free("en"))
    finally:
        release.set()
    assert time.monotonic() - started >= 0.3  # it did wait for the engine
