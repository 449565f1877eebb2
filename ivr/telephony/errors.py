"""Errors raised by the wire-protocol layer (AGI, FastAGI, AudioSocket, AMI)."""

from __future__ import annotations


class TelephonyError(Exception):
    """Base of every error this package raises."""


class CallHangup(TelephonyError):
    """The caller (or Asterisk) hung up; raised in whatever the flow is awaiting."""


class AgiError(TelephonyError):
    """Base of AGI protocol errors."""


class AgiEncodeError(AgiError):
    """A command argument cannot be sent safely (CR/LF would inject another command)."""


class AgiProtocolError(AgiError):
    """Asterisk sent something that is not valid AGI."""


class AgiCommandError(AgiError):
    """Asterisk answered 510/520 (unknown command or bad syntax) to a command we sent."""


class AudioSocketError(TelephonyError):
    """Base of AudioSocket errors (bad frame, unexpected kind)."""


class AmiError(TelephonyError):
    """Base of AMI errors."""


class AmiConnectionError(AmiError):
    """The AMI connection is down or could not be made."""


class AmiLoginError(AmiError):
    """Asterisk refused the AMI login (wrong user or secret)."""


class AmiActionError(AmiError):
    """An AMI action got `Response: Error`."""


class AmiEncodeError(AmiError):
    """An AMI header cannot be sent safely (CR/LF would inject another header or action)."""


class AmiProtocolError(AmiError):
    """Asterisk sent something that is not valid AMI."""
