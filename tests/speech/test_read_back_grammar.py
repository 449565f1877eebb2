"""The grammar of a code read back: the caller may answer yes or no, or say the code again,
in the same turn (real Whisper, real recordings)."""

from __future__ import annotations

from ivr.speech.audio import read_wav, silence
from ivr.speech.engines.whisper_engine import WhisperEngine
from ivr.speech.grammar import Grammar
from ivr.speech.recognizer import transcribe_pcm
from tests.speech.conftest import FIXTURES

COMMANDS = FIXTURES / "commands"


def turn(path: str) -> bytes:
    return silence(300) + read_wav(FIXTURES / path) + silence(600)


def test_yes_and_no_are_heard_where_a_code_may_be_said(whisper: WhisperEngine) -> None:
    grammar = Grammar.digits_or_yesno("en", 6)
    said_yes = transcribe_pcm(whisper, grammar, turn("commands/yes_6a27a9bf_nohash_0.wav"))
    said_no = transcribe_pcm(whisper, grammar, turn("commands/no_563aa4e6_nohash_2.wav"))
    assert (said_yes.choice, said_yes.digits) == ("yes", "")
    assert (said_no.choice, said_no.digits) == ("no", "")
    assert said_yes.confidence > 0.5 and said_no.confidence > 0.5


def test_a_code_said_again_over_a_read_back_is_read_as_digits(whisper: WhisperEngine) -> None:
    pcm = turn("otp6/otp_000_jackson.wav")
    again = transcribe_pcm(whisper, Grammar.digits_or_yesno("en", 6), pcm)
    alone = transcribe_pcm(whisper, Grammar.digits("en", 6), pcm)
    assert (again.choice, again.digits) == (None, "710190")
    assert again.digit_beliefs == alone.digit_beliefs  # weighed as any code is


def test_a_word_that_is_neither_yes_no_nor_digits_is_no_answer(whisper: WhisperEngine) -> None:
    heard = transcribe_pcm(whisper, Grammar.digits_or_yesno("en", 6),
                           turn("commands/go_563aa4e6_nohash_2.wav"))
    assert heard.choice is None
    assert len(heard.digits) < 6  # not a code either: the dialogue reads the code back again
