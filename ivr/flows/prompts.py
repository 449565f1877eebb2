"""The prompt catalog (prompts/catalog.yaml) as the set of prompt names a flow may play.

The catalog maps `id: {lang: text}` (a list of `{id, lang, text}` entries is read too). Its
rendered WAVs are installed under Asterisk's sounds/<lang>/ivr/, so flows play catalog prompt
`id` as `ivr/<id>`; that is the name returned here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ivr.flows.errors import FlowError

PLAY_PREFIX = "ivr/"


def _ids(data: Any, language: str | None) -> set[str]:
    if isinstance(data, dict) and isinstance(data.get("prompts"), list | dict):
        data = data["prompts"]
    if isinstance(data, list):
        return {
            str(e["id"])
            for e in data
            if isinstance(e, dict) and "id" in e
            and (language is None or e.get("lang") in (None, language))
        }  # fmt: skip
    if isinstance(data, dict):
        out = set()
        for key, value in data.items():
            langs = value if isinstance(value, dict) else None
            if language is None or langs is None or language in langs:
                out.add(str(key))
        return out
    raise FlowError("prompt catalog: expected a list of {id, lang, text} or a mapping of ids")


def load_catalog(path: Path, language: str | None = None) -> set[str] | None:
    """Names flows play (`ivr/<id>`) of the catalog's prompts in `language` (all languages if
    None); None when there is no catalog."""
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise FlowError(f"{path}: not valid YAML: {err}") from None
    return {PLAY_PREFIX + prompt_id for prompt_id in _ids(data, language)}
