"""The dialer as shipped against an Asterisk that loaded the shipped snippets as
asterisk/README.md says: default settings, the shipped AMI user, the shipped dialplan."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import pytest

from ivr.campaigns.dialer import Dialer
from ivr.campaigns.service import dialer_config
from ivr.config import Settings
from ivr.store.models import now_utc
from ivr.telephony.ami import AmiClient
from ivr.telephony.emulator.agi_caller import PressWhenAsked
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.asterisk_config import SHIPPED_DIR, AsteriskConfig
from ivr.telephony.emulator.conf_file import parse_conf
from ivr.telephony.emulator.manager_users import load_users
from tests.campaigns.conftest import Pbx
from tests.campaigns.helpers import contacts, make_campaign, until
from tests.campaigns.test_dialer import finished, outcomes

ROOT = Path(__file__).resolve().parents[2]


def default_dialer(pbx: Pbx, client: AmiClient) -> Dialer:
    """The dialer `ivr serve` builds from default settings, made quick for a test."""
    config = dialer_config(Settings(_env_file=None, dialer_name="d1"))  # type: ignore[call-arg]
    return Dialer(pbx.db, client, dataclasses.replace(
        config, originate_timeout_ms=300, poll_s=0.05, lease_s=30.0))


async def test_default_settings_dial_through_the_shipped_dialplan_and_confirm(pbx: Pbx) -> None:
    """Defects 2 and 4: the Originate target and the dial string exist in the shipped
    dialplan, so calls are answered and confirmed instead of refused."""
    people = contacts(3)
    pbx.people = {p.phone.lstrip("+"): [PressWhenAsked("1")] for p in people}
    campaign = make_campaign(pbx.db, contacts=people, now=now_utc())
    dialer = default_dialer(pbx, await pbx.client())
    await dialer.start()
    try:
        await until(lambda: finished(pbx, campaign.id), timeout=30)
    finally:
        await dialer.stop()
    assert {r for _, r, _ in outcomes(pbx, campaign.id).values()} == {"confirmed"}
    sent = pbx.placed()
    assert all(m["Channel"].startswith("Local/1555") for m in sent)


async def test_the_shipped_user_may_run_every_action_the_dialer_needs(pbx: Pbx) -> None:
    """Defect 3: crash recovery lists channels with CoreShowChannels (class reporting)."""
    client = await pbx.client()
    assert await client.core_show_channels() == []
    await client.ping()


def test_the_shipped_user_has_exactly_the_classes_the_product_needs() -> None:
    user = AsteriskConfig.load().only_user()
    assert user.write == {"originate", "reporting"}  # Originate; CoreShowChannels
    assert user.read == {"call"}  # OriginateResponse, Newchannel, Hangup
    assert user.permits("127.0.0.1") and not user.permits("192.0.2.1")


async def test_the_dialer_says_in_one_line_which_ami_class_is_missing(
    pbx: Pbx, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "manager_old.conf").write_text(
        "[old]\nsecret = s\nread = call\nwrite = originate,call\n")
    users = load_users([tmp_path / "manager_old.conf"])
    config = AsteriskConfig(AsteriskConfig.load().dialplan, users)
    async with AmiEmulator(config=config) as emu:
        client = AmiClient("127.0.0.1", emu.port, "old", "s")
        dialer = default_dialer(pbx, client)
        with caplog.at_level(logging.ERROR, logger="ivr.campaigns"):
            await dialer.start()
            await until(lambda: "reporting" in caplog.text, timeout=10)
            await dialer.stop()
        await client.close()
    lines = [r.getMessage() for r in caplog.records if "reporting" in r.getMessage()]
    assert len(lines) == 1
    assert "CoreShowChannels" in lines[0] and "manager_ivr.conf" in lines[0]
    assert "'originate'" not in lines[0]  # it has that one


def test_the_manager_snippet_adds_one_user_and_leaves_general_to_the_admin() -> None:
    """Defect 5: no [general] (manager.conf's own), and a user name no one else has."""
    sections = parse_conf(SHIPPED_DIR / "manager_ivr.conf")
    assert [s.name for s in sections] == ["ivr-dialer"]
    url = "ami://ivr-dialer:"
    for doc in (ROOT / "README.md", SHIPPED_DIR / "README.md"):
        text = doc.read_text()
        assert url in text, doc
        assert not re.search(r"ami://ivr:", text), doc


def test_the_simulated_pbx_of_ivr_serve_plays_the_shipped_asterisk() -> None:
    from ivr.telephony.emulator.pbx import USERNAME, SimulatedPbx

    pbx = SimulatedPbx("agi://127.0.0.1:4573")
    assert pbx.ami.config is not None and set(pbx.ami.users) == {USERNAME}
    assert pbx.ami.check_login(USERNAME, pbx.secret, "127.0.0.1") is not None
    assert pbx.ami.global_vars["IVR_HOST"] == "127.0.0.1"
