"""Settings decide which senders and CRM adapter are built."""

from __future__ import annotations

from ivr.auth.factory import otp_from_settings, senders_from_settings
from ivr.auth.senders import HttpSmsSender, SmtpEmailSender
from ivr.config import Settings
from ivr.customers.crm import SqlCrm
from ivr.customers.factory import crm_from_settings
from ivr.customers.http_crm import HttpCrm
from ivr.store.db import Database


def test_no_otp_secret_means_no_otp_service(sqlite_url: str) -> None:
    assert otp_from_settings(Database(sqlite_url), Settings(_env_file=None)) is None


def test_senders_follow_the_settings() -> None:
    none = senders_from_settings(Settings(_env_file=None))
    both = senders_from_settings(
        Settings(_env_file=None, sms_url="http://127.0.0.1:9/sms", smtp_host="127.0.0.1")
    )
    assert none == {}
    assert isinstance(both["sms"], HttpSmsSender)
    assert isinstance(both["email"], SmtpEmailSender)


def test_crm_url_selects_the_http_adapter(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    assert isinstance(crm_from_settings(db, Settings(_env_file=None)), SqlCrm)
    http = crm_from_settings(db, Settings(_env_file=None, crm_url="http://crm/c?p={phone}"))
    assert isinstance(http, HttpCrm)
