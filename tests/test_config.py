from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.config import describe, load_settings
from ivr.errors import ConfigError

README = Path(__file__).parents[1] / "README.md"


def test_defaults_match_the_documented_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in __import__("os").environ if k.startswith("IVR_")]:
        monkeypatch.delenv(name)
    settings = load_settings()
    assert (settings.agi_host, settings.agi_port) == ("127.0.0.1", 4573)
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.audiosocket_port == 9092
    assert settings.database_url == "sqlite:///var/ivr.db"
    assert settings.ami_url is None


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("IVR_AGI_PORT", "abc", r"^invalid IVR_AGI_PORT='abc': .*integer"),
        ("IVR_HTTP_PORT", "70000", r"^invalid IVR_HTTP_PORT='70000': .*65535"),
        ("IVR_AMI_URL", "http://pbx", r"^invalid IVR_AMI_URL=.*ami://user:secret@host:5038"),
        ("IVR_DEFAULT_REGION", "USA", r"^invalid IVR_DEFAULT_REGION=.*two-letter"),
        ("IVR_LOG_LEVEL", "LOUD", r"^invalid IVR_LOG_LEVEL='LOUD'"),
        ("IVR_AGI_PROT", "4573", r"^unknown setting IVR_AGI_PROT: remove it or use .*IVR_AGI_PORT"),
        # The name goes into 64-character columns (leases, calls' rows, heartbeats).
        ("IVR_DIALER_NAME", "n" * 65, r"^invalid IVR_DIALER_NAME=.*at most 64 characters"),
        ("IVR_NODE_DEAD_SECONDS", "10", r"^invalid IVR_NODE_DEAD_SECONDS='10': .*3 x IVR_NODE_"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_and_the_form(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert re.search(expected, str(err.value))
    assert "\n" not in str(err.value)


def test_ami_url_accepts_the_documented_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_AMI_URL", "ami://ivr:secret@10.0.0.5:5038")
    assert load_settings().ami_url == "ami://ivr:secret@10.0.0.5:5038"


def test_readme_documents_every_setting_with_its_default() -> None:
    text = README.read_text(encoding="utf-8")
    for variable, default, _ in describe():
        shown = f"`{default}`" if default else "unset"
        assert f"| `{variable}` | {shown} |" in text, variable
