"""`ivr asr transcribe` on real recordings through the call's turn code (Whisper from PyPI)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from ivr.speech.engines.whisper_engine import WhisperEngine
from ivr.speech.errors import SpeechError
from ivr.speech.grammar import Grammar
from ivr.speech_cli import add_speech_commands, transcribe_file
from tests.speech.conftest import FIXTURES, ROOT

OTP = {"otp_000_jackson.wav": "710190", "otp_003_jackson.wav": "189048"}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_speech_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


async def test_single_spoken_digits_with_the_digits_grammar(whisper: WhisperEngine) -> None:
    for path in sorted((FIXTURES / "fsdd").glob("*.wav")):
        row = await transcribe_file(whisper, Grammar.digits("en"), path)
        assert row["digits"] == path.name[0], row
        assert set(row) == {"file", "text", "digits", "confidence", "ms", "reason"}
        assert 0.0 < row["confidence"] <= 1.0


async def test_a_six_digit_code_with_the_expected_length(whisper: WhisperEngine) -> None:
    for name, code in OTP.items():
        row = await transcribe_file(whisper, Grammar.digits("en", 6), FIXTURES / "otp6" / name)
        assert row["digits"] == code


async def test_command_words_with_a_phrase_grammar(whisper: WhisperEngine) -> None:
    grammar = Grammar.parse("yes,no,stop,go")
    for path in sorted((FIXTURES / "commands").glob("*.wav")):
        row = await transcribe_file(whisper, grammar, path)
        assert row["text"] == path.name.split("_")[0]


def test_cli_prints_one_json_line_per_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("IVR_PROMPTS_DIR", "prompts")  # a known setting; the rest default
    monkeypatch.chdir(ROOT)  # the joined Whisper model is kept under var/speech
    files = [str(FIXTURES / "fsdd" / "3_jackson_5.wav"), str(FIXTURES / "fsdd" / "7_jackson_5.wav")]
    args = parse(["asr", "transcribe", "--grammar", "digits", *files, "--json"])
    assert args.func(args) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["file"], r["digits"]) for r in rows] == [(files[0], "3"), (files[1], "7")]


def test_cli_names_a_missing_file(tmp_path: Path) -> None:
    args = parse(["asr", "transcribe", str(tmp_path / "nope.wav")])
    with pytest.raises(SpeechError, match="no such file"):
        args.func(args)


async def test_out_of_grammar_speech_gets_a_lower_confidence(whisper: WhisperEngine) -> None:
    grammar = Grammar.parse("yes,no")
    said = await transcribe_file(whisper, grammar,
                                 FIXTURES / "commands" / "yes_6a27a9bf_nohash_0.wav")
    other = await transcribe_file(whisper, grammar,
                                  FIXTURES / "commands" / "stop_563aa4e6_nohash_2.wav")
    assert said["text"] == "yes"
    assert other["confidence"] < said["confidence"] / 2


def test_a_batch_goes_on_past_files_that_yield_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    """A silent recording and a file that is not a WAV are rows with a reason; the files after
    them are still answered and the exit status counts the files that yielded nothing."""
    import wave

    monkeypatch.setenv("IVR_PROMPTS_DIR", "prompts")
    monkeypatch.chdir(ROOT)
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 8000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    good = str(FIXTURES / "fsdd" / "7_jackson_5.wav")
    args = parse(["asr", "transcribe", "--grammar", "digits", str(silent), str(broken), good,
                  "--json"])
    assert args.func(args) == 2
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["file"] for r in rows] == [str(silent), str(broken), good]
    assert rows[0]["text"] == "" and "no speech" in rows[0]["reason"]
    assert rows[1]["text"] == "" and "not a readable WAV" in rows[1]["reason"]
    assert rows[2]["digits"] == "7" and rows[2]["reason"] == ""
    assert "2 of 3 files yielded nothing" in captured.err


async def test_a_quiet_caller_is_heard_and_recognized(
    whisper: WhisperEngine, tmp_path: Path,
) -> None:  # fmt: skip
    """Spoken digits scaled to -41 dBFS at their sample peak (as the quietest real callers) over
    line hiss 34 dB under the speech: heard through the call's turn code, and the hiss that the
    level normalization raises with them is not taken for words."""
    import wave

    import numpy as np

    rng = np.random.default_rng(3)
    for path in sorted([*(FIXTURES / "fsdd").glob("*.wav"), *(FIXTURES / "quiet").glob("*.wav"),
                        *(FIXTURES / "code-parts").glob("*.wav")]):
        with wave.open(str(path)) as src:
            pcm = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2")
        quiet = pcm.astype(np.float64) * 10 ** (-41 / 20) * 32768 / np.abs(pcm).max()
        hiss = rng.normal(0, 32768 * 10 ** (-75 / 20), 8000 * 2)
        audio = np.concatenate([hiss[:4000], quiet, hiss[4000:]])
        quiet_file = tmp_path / path.name
        with wave.open(str(quiet_file), "wb") as out:
            out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
            out.writeframes(np.clip(audio, -32768, 32767).astype("<i2").tobytes())
        assert 20 * np.log10(np.abs(quiet).max() / 32768) < -35
        row = await transcribe_file(whisper, Grammar.digits("en"), quiet_file)
        assert row["digits"] == path.name[0], row



async def test_digits_tiny_en_doubts_are_weighed_again_with_base(whisper: WhisperEngine) -> None:
    """Accented digits tiny.en alone gets wrong, each under 0.5: base's beliefs decide them."""
    for path in sorted((FIXTURES / "doubtful").glob("*.wav")):
        row = await transcribe_file(whisper, Grammar.digits("en"), path)
        assert row["digits"] == path.name[0], row


async def test_a_code_said_without_pauses_is_cut_at_its_dips(
    whisper: WhisperEngine, tmp_path: Path,
) -> None:  # fmt: skip
    """Six real digit recordings joined with 0-40 ms gaps (no pause the segmenter can see):
    with the expected length the turn is cut into six words at the level dips and scored
    (the old decoding fallback heard 46321)."""
    import wave

    from ivr.speech.audio import read_wav, silence

    parts = ["4_jackson_37", "6_jackson_13", "3_jackson_41", "2_jackson_36", "1_jackson_20",
             "1_jackson_45"]
    pcm = silence(300)
    for n, name in enumerate(parts):
        pcm += read_wav(FIXTURES / "code-parts" / f"{name}.wav") + silence(8 * n)
    path = tmp_path / "code.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(pcm + silence(300))
    row = await transcribe_file(whisper, Grammar.digits("en", 6), path)
    assert row["digits"] == "463211", row
