"""The prompt catalog (prompts/catalog.yaml) as the set of prompt ids a flow may play.

Accepted forms: a list of entries `{id, lang, text}`, or a mapping `id: {lang: text}` /
`id: text`, optionally under a top-level `prompts:` key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ivr.flows.errors import FlowError


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
    """Prompt ids in the catalog (for `language` if given); None when there is no catalog."""
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise FlowError(f"{path}: not valid YAML: {err}") from None
    return _ids(data, language)
