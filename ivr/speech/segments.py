"""Word-sized stretches of speech in a turn, found by energy (codes are read digit by digit).

A caller reading a code pauses between digits; each stretch is then one word and is recognized
on its own, which whole-utterance decoding by a small Whisper does not survive (it loops and
drops digits on short windows). Stretches closer than `gap_ms` are one word ("six" has a stop
inside it); shorter than `min_ms` is a click, not a word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEP = 80  # 10 ms of 8 kHz samples
EDGE = 20  # 200 ms: the line before the caller speaks and after they stop
STEADY = 2.0  # line hiss stays within this ratio of its median over an edge; speech does not


@dataclass(frozen=True)
class SegmentConfig:
    gap_ms: int = 100
    min_ms: int = 80
    relative: float = 0.1  # of the loud (95th percentile) level
    floor: float = 33.0  # about -60 dBFS: quieter is never speech
    margin_ms: int = 120  # weak edges ("six"'s last s) fall under the threshold: keep them
    above_noise: float = 3.0  # amplitude ratio over the turn's noise floor (about 10 dB)
    above_line: float = 2.0  # over the median level of the turn's edges (6 dB)


def _levels(pcm: bytes) -> list[float]:
    """RMS of each 10 ms step (numpy: a call's turn must not hold the GIL for this)."""
    samples = np.frombuffer(pcm[: len(pcm) // (2 * STEP) * 2 * STEP], dtype="<i2")
    steps = samples.astype(np.float64).reshape(-1, STEP)
    return [float(v) for v in np.sqrt((steps * steps).mean(axis=1))]


def words(pcm: bytes, config: SegmentConfig | None = None) -> list[tuple[int, int]]:
    """(start, end) byte offsets into `pcm` (8 kHz s16le) of each word-sized stretch."""
    cfg = config or SegmentConfig()
    levels = _levels(pcm)
    if not levels:
        return []
    ordered = sorted(levels)
    loud = ordered[int(0.95 * (len(levels) - 1))]
    noise = ordered[int(0.1 * (len(levels) - 1))]  # the line between words: a turn has pauses
    line = _line(levels, ordered[-1], cfg.above_line)
    threshold = max(loud * cfg.relative, cfg.floor, noise * cfg.above_noise, line * cfg.above_line)
    runs: list[list[int]] = []
    for i, level in enumerate(levels):
        if level <= threshold:
            continue
        if runs and i - runs[-1][1] < cfg.gap_ms // 10:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    kept = [(a, b) for a, b in runs if b - a >= cfg.min_ms // 10]
    return [(s * STEP * 2, e * STEP * 2) for s, e in _widen(kept, cfg.margin_ms // 10,
                                                             len(levels))]


def _line(levels: list[float], loudest: float, above: float) -> float:
    """The line's steady level at the turn's edges (0 when neither edge is steady). A turn
    opens before the caller speaks and closes on trailing silence, so its edges are the line
    itself. The 10th percentile alone is not: a recording can be quieter inside than the
    line's hiss around it (a phone's noise suppression, comfort noise in the pauses), and the
    hiss, scaled up with a quiet voice, was then cut into words ("six" heard as 2 6 5)."""
    if len(levels) < 4 * EDGE:
        return 0.0
    steady = []
    for edge in (levels[:EDGE], levels[-EDGE:]):
        middle = float(np.median(edge))
        # speech at an edge (a turn cut short) is neither steady nor far under the words
        if max(edge) < STEADY * middle and middle * above < loudest:
            steady.append(middle)
    return max(steady, default=0.0)


def _widen(runs: list[tuple[int, int]], margin: int, size: int) -> list[tuple[int, int]]:
    """Each run grows by `margin` steps each side, but never past the middle of a pause."""
    out = []
    for i, (a, b) in enumerate(runs):
        low = (runs[i - 1][1] + a) // 2 if i else 0
        high = (b + runs[i + 1][0]) // 2 if i + 1 < len(runs) else size
        out.append((max(low, a - margin), min(high, b + margin)))
    return out


def merge_to(spans: list[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """Join the closest neighbours until `count` remain (a word split at a quiet consonant)."""
    spans = list(spans)
    while len(spans) > max(count, 1):
        gaps = [spans[i + 1][0] - spans[i][1] for i in range(len(spans) - 1)]
        i = gaps.index(min(gaps))
        spans[i:i + 2] = [(spans[i][0], spans[i + 1][1])]
    return spans


def split_to(pcm: bytes, spans: list[tuple[int, int]], count: int,
             min_ms: int = 150) -> list[tuple[int, int]]:
    """Cut the longest stretch at its quietest point until `count` remain: digits said with no
    pause between them still dip in level where one word ends and the next begins. A stretch
    too short to hold two words (`min_ms` each, and a middle to cut in) is left whole."""
    levels = np.asarray(_levels(pcm))
    smooth = np.convolve(levels, np.ones(3) / 3, mode="same") if levels.size >= 3 else levels
    edge = min_ms // 10
    out = list(spans)
    while len(out) < count:
        order = sorted(range(len(out)), key=lambda i: out[i][0] - out[i][1])  # longest first
        for i in order:
            start, end = out[i][0] // (2 * STEP), out[i][1] // (2 * STEP)
            if end - start <= 2 * edge:  # no middle to cut in
                continue
            cut = start + edge + int(np.argmin(smooth[start + edge:end - edge]))
            out[i:i + 1] = [(out[i][0], cut * STEP * 2), (cut * STEP * 2, out[i][1])]
            break
        else:
            return out
    return out
