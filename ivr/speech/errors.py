"""Speech errors: each names the thing that is wrong and the fix, in one line."""

from __future__ import annotations

from ivr.errors import IvrError


class SpeechError(IvrError):
    """Base of speech errors the CLI prints as one line."""


class ModelMissing(SpeechError):
    """No usable recognition model for a language (path and fix in the message)."""


class EngineUnavailable(SpeechError):
    """A recognition engine's Python package is not installed."""


class AudioError(SpeechError):
    """An audio file cannot be read or has an unsupported format."""


class TtsError(SpeechError):
    """Text-to-speech failed (espeak-ng missing or it returned an error)."""


class GrammarError(SpeechError):
    """A grammar spec is empty or malformed."""


class FetchError(SpeechError):
    """A model download or unpack failed."""
