"""Errors of the call session. A caller hangup is telephony's CallHangup, re-exported here so
flows import it from the layer they use."""

from __future__ import annotations

from ivr.telephony.errors import CallHangup


class CallError(Exception):
    """Base of call-session errors (not hangups)."""


class FeatureUnavailable(CallError):
    """The session cannot do this yet (e.g. text-to-speech before the speech engine is set up)."""


__all__ = ["CallError", "CallHangup", "FeatureUnavailable"]
