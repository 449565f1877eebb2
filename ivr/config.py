"""Settings: the one place that reads the environment (IVR_* variables and an optional .env)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ivr.errors import ConfigError

PREFIX = "IVR_"
# Read by the test suite itself, not by the product; listed so they are not "unknown settings".
TEST_ONLY = frozenset({"IVR_REQUIRE_POSTGRES", "IVR_TEST_POSTGRES_URL"})


class Settings(BaseSettings):
    """Every IVR_* setting with its default; README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="forbid")

    database_url: str = Field("sqlite:///var/ivr.db", description="SQLAlchemy URL of the database")
    agi_host: str = Field("127.0.0.1", description="FastAGI listen address")
    agi_port: int = Field(4573, ge=0, le=65535, description="FastAGI listen port")
    agi_max_connections: int = Field(
        1000, ge=1, description="most FastAGI connections open at once (all peers)"
    )
    agi_max_connections_per_peer: int = Field(
        1000, ge=1, description="most FastAGI connections from one address (Asterisk: all calls)"
    )
    audiosocket_host: str = Field("127.0.0.1", description="AudioSocket listen address")
    audiosocket_port: int = Field(9092, ge=0, le=65535, description="AudioSocket listen port")
    audiosocket_advertise: str | None = Field(
        None, description="host:port Asterisk dials for AudioSocket; unset = listen address"
    )
    http_host: str = Field("127.0.0.1", description="admin API / console listen address")
    http_port: int = Field(8080, ge=0, le=65535, description="admin API / console listen port")
    console_session_seconds: int = Field(
        12 * 3600, ge=1, description="a console sign-in ends this long after it began"
    )
    console_idle_seconds: int = Field(
        1800, ge=1, description="a console sign-in ends after this long without a request"
    )
    ami_url: str | None = Field(
        None, description="ami://ivr-dialer:secret@host:5038 (the user of "
        "asterisk/manager_ivr.conf); unset = the built-in simulated PBX"
    )
    dialplans_dir: Path = Field(Path("dialplans"), description="folder of flow YAML files")
    prompts_dir: Path = Field(Path("prompts"), description="prompt catalog and rendered WAVs")
    vosk_model_en: Path | None = Field(None, description="folder of an English Vosk model")
    vosk_model_ru: Path | None = Field(None, description="folder of a Russian Vosk model")
    asr_engine: Literal["auto", "vosk", "whisper", "pocketsphinx"] = Field(
        "auto", description="speech engine; auto = Vosk if a model is set, else Whisper base"
    )
    asr_trailing_silence_ms: int = Field(
        600, ge=100, le=5000, description="silence that ends the caller's spoken turn"
    )
    # 0.3 is the measured knee (benchmarks/asr.py, commands-dev): out-of-grammar speech and
    # noise accepted 86 of 86 -> 8 of 86, at the cost of confirming 12 % of right answers.
    asr_confirm_below: float = Field(
        0.3, ge=0.0, le=1.0, description="confidence under which a spoken choice is confirmed"
    )
    # Measured with benchmarks/load.py --mix anytime=1: keys lost 10-16 -> 6-8 of 100 callers,
    # 109-136 -> 32-46 of 300, key -> action no worse (issue 12, item 2).
    media_one_session: bool = Field(
        True, description="keep a call's AudioSocket open from answer and between turns, so keys "
        "pressed between prompts, during lookups and hand-overs are kept (Asterisk drops them "
        "otherwise); 0 = one AudioSocket per turn"
    )
    speech_cache_dir: Path = Field(
        Path("var/speech"), description="assembled Whisper model and the TTS cache"
    )
    models_dir: Path = Field(Path("var/models"), description="where `ivr models fetch` unpacks")
    default_flow: str | None = Field(
        "main-en", description="flow for dialled numbers that no flow routes; unset = built-in"
    )
    default_region: str = Field("US", description="region for caller IDs without a country code")
    agent_fallback: str | None = Field(
        "queue-agents",
        description="IVR_TRANSFER_TO for callers the IVR cannot serve (database down); unset = "
        "apologise and hang up",
    )
    shutdown_grace: float = Field(10.0, ge=0, description="seconds live calls get to finish")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="log level"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="log lines: text, or json (one object per line, call id on each)"
    )
    log_pii: bool = Field(False, description="log callers' numbers unmasked (1); default masked")
    crm_url: str | None = Field(
        None, description="HTTP CRM lookup URL template with {phone}; unset = the built-in store"
    )
    crm_auth_header: str | None = Field(
        None, description="header sent to the HTTP CRM, e.g. 'Authorization: Bearer ...'"
    )
    crm_fields: str = Field(
        "", description="HTTP CRM field mapping ours=theirs, comma-separated (dots for nesting)"
    )
    crm_budget_ms: int = Field(300, ge=10, le=5000, description="hard time budget per lookup")
    crm_cache_seconds: float = Field(30.0, ge=0, description="how long a lookup stays cached")
    otp_secret: str | None = Field(
        None, description="key for hashing one-time codes; unset = OTP authentication off"
    )
    otp_ttl_seconds: int = Field(300, ge=30, le=600, description="how long a one-time code lives")
    sms_url: str | None = Field(None, description="SMS gateway URL (JSON POST); unset = no SMS")
    sms_auth_header: str | None = Field(
        None, description="header sent to the SMS gateway, e.g. 'Authorization: Bearer ...'"
    )
    smtp_host: str | None = Field(None, description="SMTP server for e-mailed codes; unset = none")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP server port")
    smtp_from: str = Field("ivr@localhost", description="sender address of e-mailed codes")
    dialer_name: str | None = Field(
        None, max_length=64, description="name of this node (its dialer's leases, its calls' "
        "rows, its heartbeat), unique per running `ivr serve`; a restart under the same name "
        "takes its calls back at once; unset = host name + process id"
    )
    node_heartbeat_seconds: float = Field(
        5.0, gt=0, le=60, description="how often this node tells the database it is alive"
    )
    node_dead_seconds: float = Field(
        30.0, gt=0, le=3600, description="a node silent this long is dead: another node "
        "records its calls in flight as ended (failed, node_lost)"
    )
    dialer_trunk: str = Field(
        "Local/{number}@ivr-outbound",
        description="dial string of notification calls; {number} = the E.164 digits "
        "([ivr-outbound] of asterisk/extensions_ivr.conf)",
    )
    dialer_context: str = Field(
        "ivr-notify", description="context whose extension s answered notification calls run "
        "(AMD, AGI notify)"
    )
    dialer_caller_id: str | None = Field(None, description="caller ID of notification calls")
    dialer_max_channels: int = Field(
        30, ge=1, description="most notification calls in progress at once (per Asterisk)"
    )
    dialer_calls_per_second: float = Field(
        10.0, gt=0, description="most notification calls started per second"
    )

    @field_validator("ami_url")
    @classmethod
    def _ami_url_form(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        if parts.scheme != "ami" or not parts.hostname or not parts.username:
            raise ValueError("expected ami://user:secret@host:5038")
        return value

    @field_validator("node_dead_seconds")
    @classmethod
    def _beats_before_death(cls, value: float, info: ValidationInfo) -> float:
        # Two late beats must never make a node dead: its live calls would be closed.
        beat = info.data.get("node_heartbeat_seconds")
        if beat is not None and value < 3 * beat:
            raise ValueError(f"must be at least 3 x IVR_NODE_HEARTBEAT_SECONDS ({beat:g} s)")
        return value

    @field_validator("default_region")
    @classmethod
    def _region_form(cls, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise ValueError("expected a two-letter ISO country code such as US")
        return value.upper()


def _check_unknown(environ: dict[str, str]) -> None:
    known = {PREFIX + name.upper() for name in Settings.model_fields} | TEST_ONLY
    unknown = sorted(k for k in environ if k.startswith(PREFIX) and k not in known)
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]}: remove it or use one of {', '.join(sorted(known))}"
        )


def _explain(err: ValidationError) -> ConfigError:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return ConfigError(f"unknown setting {field} in .env: remove it")
    return ConfigError(f"invalid {PREFIX}{field.upper()}={first['input']!r}: {message}")


def load_settings() -> Settings:
    """Read and validate the settings; a bad value raises ConfigError naming the variable."""
    _check_unknown(dict(os.environ))
    try:
        return Settings()
    except ValidationError as err:
        raise _explain(err) from None


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, description) rows for `ivr config` and the README table."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append((PREFIX + name.upper(), default, field.description or ""))
    return rows
