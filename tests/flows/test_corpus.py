"""The corpus of flow files: every good file passes; every bad file reports exactly the
problems listed next to it (`bad/NAME.expect`: one `line:col: message` per problem), all of
them at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flows.files import validate_paths
from ivr.flows.loader import load_file
from ivr.flows.prompts import load_catalog
from ivr.flows.validate import check

FIXTURES = Path(__file__).parent / "fixtures"
DIALPLANS = Path(__file__).parents[2] / "dialplans"
CATALOG = FIXTURES / "catalog.yaml"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


def test_the_good_fixtures_pass_together() -> None:
    report = validate_paths([FIXTURES / "good"])
    assert report.issues == []
    assert len(report.flows) == report.files == len(list((FIXTURES / "good").glob("*.yaml")))


def test_the_sample_dialplans_pass() -> None:
    report = validate_paths([DIALPLANS])
    assert report.issues == []
    assert {f.name for f in report.flows} >= {"main-en", "main-ru"}


def test_missing_catalog_skips_the_prompt_check_and_says_so(tmp_path: Path) -> None:
    report = validate_paths([DIALPLANS], tmp_path / "catalog.yaml")
    assert report.issues == []
    assert any("prompt check skipped" in note for note in report.notes)


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_fixture_reports_every_expected_problem_at_its_position(path: Path) -> None:
    expected = path.with_suffix(".expect").read_text(encoding="utf-8").splitlines()
    report = validate_paths([path], CATALOG)
    got = [f"{i.pos.line}:{i.pos.col}: {i.message}" for i in report.issues]
    assert got == expected
    assert all(i.pos.file == str(path) for i in report.issues)
    assert report.flows == []


def test_every_bad_fixture_has_several_or_a_specific_problem() -> None:
    counts = {p.stem: len(p.with_suffix(".expect").read_text().splitlines()) for p in BAD}
    assert all(n >= 1 for n in counts.values())
    assert sum(counts.values()) >= 30


def test_validator_accepts_prompts_in_the_catalog() -> None:
    flow = load_file(FIXTURES / "bad" / "missing-prompts.yaml")
    known = {"ivr/helo", "ivr/menu", "ivr/no-input", "ivr/only-russian", "ivr/bye",
             "ivr/please-use-keypad"}  # fmt: skip
    assert check(flow, prompts=known) == []
    assert len(check(flow, prompts=known - {"ivr/no-input"})) == 1


def test_catalog_ids_are_played_as_ivr_slash_id_per_language() -> None:
    assert load_catalog(CATALOG, "en") == {
        "ivr/hello", "ivr/menu", "ivr/bye", "ivr/please-use-keypad",
    }  # fmt: skip
    assert load_catalog(CATALOG, "ru") == {"ivr/only-russian"}
    assert load_catalog(FIXTURES / "absent.yaml") is None
