"""`ivr asr transcribe`, `ivr prompts render` and `ivr models fetch|check`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ivr.config import load_settings
from ivr.speech import models
from ivr.speech import prompts as catalog
from ivr.speech.audio import FRAME_BYTES, frames, read_wav, rms_dbfs
from ivr.speech.endpoint import EndpointConfig
from ivr.speech.errors import AudioError, SpeechError
from ivr.speech.filechannel import FileChannel
from ivr.speech.grammar import Grammar
from ivr.speech.listen import ListenOptions, listen
from ivr.speech.recognizer import Engine, Recognizer
from ivr.telephony.errors import CallHangup

LANGUAGES = ("en", "ru")
MAX_EXIT = 100  # exit statuses above 125 mean "killed by a signal" to shells


def add_speech_commands(subparsers: Any) -> None:
    """Register `asr`, `prompts` and `models` on the `ivr` sub-parsers."""
    asr = subparsers.add_parser("asr", help="speech recognition tools")
    asr_sub = asr.add_subparsers(dest="asr", metavar="ACTION", required=True)
    tr = asr_sub.add_parser("transcribe", help="recognize WAV files as a call would")
    tr.add_argument("files", nargs="+", type=Path, metavar="FILE")
    tr.add_argument("--lang", default="en", help="language (en, ru; default en)")
    tr.add_argument("--grammar", help='digits, yesno or "phrase a,phrase b" (default: free)')
    tr.add_argument("--json", action="store_true", help="one JSON line per file")
    tr.epilog = ("A file that yields nothing (no speech heard, unreadable) is a row with empty "
                 "text and a reason; the batch goes on. Exit status: the number of such files "
                 f"(at most {MAX_EXIT}), 0 when every file was recognized.")
    tr.set_defaults(func=cmd_transcribe)

    pr = subparsers.add_parser("prompts", help="render the prompt catalog")
    pr_sub = pr.add_subparsers(dest="prompts", metavar="ACTION", required=True)
    render = pr_sub.add_parser("render", help="render prompts/catalog.yaml to 8 kHz WAVs")
    render.add_argument("--dir", type=Path, help="prompts folder (default: IVR_PROMPTS_DIR)")
    render.add_argument("ids", nargs="*", help="only these prompt ids")
    render.set_defaults(func=cmd_prompts_render)

    md = subparsers.add_parser("models", help="fetch and check speech models")
    md_sub = md.add_subparsers(dest="models", metavar="ACTION", required=True)
    fetch = md_sub.add_parser("fetch", help="download the official small Vosk models")
    fetch.add_argument("--lang", action="append", choices=LANGUAGES,
                       help="language (repeatable; default: en and ru)")
    fetch.set_defaults(func=cmd_models_fetch)
    md_sub.add_parser("check", help="say which engine serves each language").set_defaults(
        func=cmd_models_check)


def cmd_transcribe(args: argparse.Namespace) -> int:
    settings = load_settings()
    grammar = Grammar.parse(args.grammar, args.lang)
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        raise SpeechError(f"no such file: {missing[0]}")
    engine = models.load_engine(settings, args.lang)
    silence_ms = int(getattr(settings, "asr_trailing_silence_ms", 600))
    failed = 0
    for path in args.files:
        row = asyncio.run(transcribe_file(engine, grammar, path, silence_ms))
        failed += not row["text"] and not row["digits"]
        print(json.dumps(row, ensure_ascii=False) if args.json else _line(row), flush=True)
    if failed:
        print(f"ivr: {failed} of {len(args.files)} files yielded nothing (see each row's reason)",
              file=sys.stderr)
    return min(failed, MAX_EXIT)


async def transcribe_file(
    engine: Engine, grammar: Grammar, path: Path, silence_ms: int = 600
) -> dict[str, Any]:
    """The call path on a file: 20 ms frames, endpointing, the per-turn recognizer.

    A file that yields nothing is still a row: empty text and the reason (one bad file in a
    batch of thousands must not cost the rest)."""
    row: dict[str, Any] = {"file": str(path), "text": "", "digits": "", "confidence": 0.0,
                           "ms": 0.0, "reason": ""}
    try:
        pcm = await asyncio.to_thread(read_wav, path)
    except AudioError as err:
        return row | {"reason": str(err)}
    opts = ListenOptions(timeout=len(pcm) / 16000 + 2, dtmf=False,
                         endpoint=EndpointConfig(trailing_silence_ms=silence_ms))
    try:
        heard = await listen(FileChannel(pcm), Recognizer(engine, grammar), None, opts)
    except CallHangup:  # the recording ran out before any speech started
        return row | {"reason": f"no speech heard (loudest 20 ms: {_peak_db(pcm):.0f} dBFS)"}
    text = heard.choice or heard.text
    reason = "" if text or heard.digits else f"nothing recognized ({heard.reason})"
    return row | {"text": text, "digits": heard.digits, "confidence": heard.confidence,
                  "ms": heard.latency_ms, "reason": reason}


def _peak_db(pcm: bytes) -> float:
    return max((rms_dbfs(f) for f in frames(pcm, FRAME_BYTES)), default=-96.0)


def _line(row: dict[str, Any]) -> str:
    digits = f" [{row['digits']}]" if row["digits"] else ""
    if row["reason"] and not (row["text"] or row["digits"]):
        return f"{row['file']}: (nothing: {row['reason']})"
    return f"{row['file']}: {row['text'] or '(nothing recognized)'}{digits} " \
           f"(confidence {row['confidence']:.2f}, {row['ms']:.0f} ms)"


def cmd_prompts_render(args: argparse.Namespace) -> int:
    folder = args.dir or load_settings().prompts_dir
    written = catalog.render(folder, only=set(args.ids) or None)
    if args.ids and len({p.stem for p in written}) < len(set(args.ids)):
        known = {p.id for p in catalog.load_catalog(folder)}
        raise SpeechError(f"unknown prompt id {sorted(set(args.ids) - known)[0]!r} in "
                          f"{folder / 'catalog.yaml'}")
    for path in written:
        print(path)
    print(f"Rendered {len(written)} prompts into {folder}.")
    return 0


def cmd_models_fetch(args: argparse.Namespace) -> int:
    settings = load_settings()
    for language in args.lang or LANGUAGES:
        path = models.fetch(settings, language)
        print(f"{language}: {path} (set IVR_VOSK_MODEL_{language.upper()}={path} or keep it "
              f"where it is)")
    return 0


def cmd_models_check(args: argparse.Namespace) -> int:
    rows = models.check(load_settings())
    for language, engine, detail in rows:
        print(f"{language}: {engine}: {detail}")
    return 0 if all(engine != "missing" for _, engine, _ in rows) else 1
