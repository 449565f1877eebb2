"""The static prompt catalogue: `prompts/catalog.yaml` (id -> {lang: text}) rendered to
`prompts/<lang>/<id>.wav` (8 kHz mono 16-bit) by `ivr prompts render`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.speech import tts
from ivr.speech.errors import SpeechError


@dataclass(frozen=True)
class Prompt:
    id: str
    language: str
    text: str


def load_catalog(prompts_dir: Path) -> list[Prompt]:
    path = prompts_dir / "catalog.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise SpeechError(f"cannot read the prompt catalogue {path}: {err}") from None
    if not isinstance(data, dict):
        raise SpeechError(f"{path}: expected a mapping of prompt id -> {{lang: text}}")
    prompts = []
    for prompt_id, texts in data.items():
        if not isinstance(texts, dict):
            raise SpeechError(f"{path}: prompt {prompt_id!r} needs a mapping of lang -> text")
        prompts += [Prompt(str(prompt_id), str(lang), str(text)) for lang, text in texts.items()]
    return prompts


def render(prompts_dir: Path, *, only: set[str] | None = None) -> list[Path]:
    """Render every catalogue entry (or the ids in `only`); returns the files written."""
    written = []
    for prompt in load_catalog(prompts_dir):
        if only and prompt.id not in only:
            continue
        dst = prompts_dir / prompt.language / f"{prompt.id}.wav"
        tts.render_file(prompt.text, tts.Voice(prompt.language), dst)
        written.append(dst)
    return written


def prompt_file(prompts_dir: Path, name: str, language: str) -> Path | None:
    """The local WAV for a prompt a flow plays as `ivr/<id>` (or `<id>`), if rendered."""
    path = prompts_dir / language / f"{name.removeprefix('ivr/')}.wav"
    return path if path.is_file() else None
