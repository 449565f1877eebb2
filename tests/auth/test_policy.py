"""The risk policy: statuses on a caller-ID match need no code; changes always do."""

from __future__ import annotations

import pytest

from ivr.auth.policy import CHANGES, LOW_RISK, requires_otp


@pytest.mark.parametrize("step", sorted(LOW_RISK))
def test_low_risk_step_needs_no_code_on_a_caller_id_match(step: str) -> None:
    assert requires_otp(step, caller_id_match=True) is False
    assert requires_otp(step, caller_id_match=False) is True


@pytest.mark.parametrize("step", [*sorted(CHANGES), "something_new"])
def test_changes_and_unknown_steps_always_need_a_code(step: str) -> None:
    assert requires_otp(step, caller_id_match=True) is True


def test_an_authenticated_caller_is_not_asked_again() -> None:
    assert requires_otp("bill_limit", caller_id_match=False, authenticated=True) is False
