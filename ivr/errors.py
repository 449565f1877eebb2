"""Errors of the application shell (configuration, start-up) that users see as one line."""

from __future__ import annotations


class IvrError(Exception):
    """Base of errors that the CLI prints as one line (the message names the thing and the fix)."""


class ConfigError(IvrError):
    """A setting is unknown or has a value outside its accepted form."""


class StartupError(IvrError):
    """A listener could not start (port in use, address not available)."""
