"""Build the OTP service from settings (None when IVR_OTP_SECRET is unset)."""

from __future__ import annotations

from ivr.auth.otp import OtpService
from ivr.auth.senders import CodeSender, HttpSmsSender, SmtpEmailSender, parse_header
from ivr.config import Settings
from ivr.store.db import Database


def senders_from_settings(settings: Settings) -> dict[str, CodeSender]:
    senders: dict[str, CodeSender] = {}
    if settings.sms_url:
        senders["sms"] = HttpSmsSender(
            settings.sms_url, headers=parse_header(settings.sms_auth_header)
        )
    if settings.smtp_host:
        senders["email"] = SmtpEmailSender(
            settings.smtp_host, settings.smtp_port, settings.smtp_from
        )
    return senders


def otp_from_settings(db: Database, settings: Settings) -> OtpService | None:
    if not settings.otp_secret:
        return None
    return OtpService(
        db, settings.otp_secret, senders_from_settings(settings),
        ttl_seconds=settings.otp_ttl_seconds,
    )  # fmt: skip
