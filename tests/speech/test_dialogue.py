"""The code dialogue's policy (ivr/speech/dialogue.py), step by step, with readings shaped like
the recognizer's: one probability and a belief in each of 0-9 per digit."""

from __future__ import annotations

from ivr.speech.dialogue import Dialogue, Reading, Step


def hearing(code: str, unsure: dict[int, tuple[str, float]] | None = None) -> Reading:
    """`code` heard surely (0.95 a digit), except `unsure` positions: {position: (runner-up,
    belief in the digit heard)}."""
    beliefs, sure = [], []
    for i, digit in enumerate(code):
        other, p = (unsure or {}).get(i, (str((int(digit) + 1) % 10), 0.95))
        row = [0.0] * 10
        row[int(digit)], row[int(other)] = p, 1 - p
        beliefs.append(tuple(row))
        sure.append(p)
    return Reading(code, tuple(sure), tuple(beliefs))


def test_two_hearings_that_disagree_are_settled_by_the_digit_asked_for_alone() -> None:
    talk = Dialogue()
    assert talk.heard(hearing("493063", {5: ("6", 0.55)})) is Step.READ_BACK
    # said again over the read-back: now 6, as unsure; together they cannot tell
    step = talk.answered(said=hearing("493066", {5: ("3", 0.6)}))
    assert step is Step.ASK_DIGIT and talk.asking == 5
    assert talk.ask_digit("en") == "Please say just the sixth digit."
    assert talk.digit(hearing("6")) is Step.READ_BACK
    assert talk.reading is not None and talk.reading.digits == "493066"
    assert talk.answered(word="yes", sure=0.7) is Step.ACCEPT
    assert (talk.tries, talk.read_backs, talk.digits_asked) == (2, 2, 1)


def test_with_ask_digits_0_the_repaired_code_is_read_back_at_once() -> None:
    talk = Dialogue(max_asked=0)
    talk.heard(hearing("493063", {5: ("6", 0.55)}))
    assert talk.answered(said=hearing("493066", {5: ("3", 0.6)})) is Step.READ_BACK


def test_a_spoken_yes_too_unsure_or_a_few_digits_get_the_read_back_once_more() -> None:
    talk = Dialogue()
    talk.heard(hearing("300059", {1: ("8", 0.4)}))
    assert talk.answered(word="yes", sure=0.1) is Step.READ_BACK  # not taken as a yes
    assert talk.answered(said=hearing("2455")) is Step.ASK_AGAIN  # twice: a no
    assert talk.rejected == ["300059"]


def test_no_said_asks_for_the_code_again_and_keys_1_or_yes_accept() -> None:
    talk = Dialogue()
    talk.heard(hearing("230365", {3: ("6", 0.4)}))
    assert talk.answered(word="no", sure=0.9) is Step.ASK_AGAIN
    other = Dialogue()
    other.heard(hearing("230365", {3: ("6", 0.4)}))
    assert other.answered(keys="1") is Step.ACCEPT


def test_a_code_heard_surely_is_taken_and_a_key_for_the_asked_digit_is_certain() -> None:
    assert Dialogue().heard(hearing("710190")) is Step.ACCEPT
    talk = Dialogue()
    talk.heard(hearing("230365", {3: ("6", 0.4)}))
    assert talk.answered(said=hearing("230665", {3: ("3", 0.45)})) is Step.ASK_DIGIT
    assert talk.digit(Reading.keyed("6")) is Step.READ_BACK
    assert talk.reading is not None and talk.reading.digits == "230665"
    assert talk.reading.confidence[3] == 1.0
