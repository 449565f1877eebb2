"""Prompt WAVs kept in memory while their file is unchanged.

Every menu turn of every call plays a prompt: reading and decoding it each time took a thread
hop per turn, and under load those hops queued in the default pool behind database calls, so
the next prompt started late (issue 12). A file re-rendered while serving (`ivr prompts
render`) is read again: the key is its path, size and modification time.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from pathlib import Path

from ivr.speech.audio import read_wav

MAX_FILES = 256  # the catalog holds about 60 prompts per language, ~50 KiB each at 8 kHz

_cache: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()


async def read_wav_cached(path: Path) -> bytes:
    """`read_wav(path)`, from memory when the file has not changed since it was read."""
    stat = os.stat(path)  # (a metadata read of a local file: far cheaper than the thread hop)
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    pcm = _cache.get(key)
    if pcm is None:
        pcm = await asyncio.to_thread(read_wav, path)
        _cache[key] = pcm
        while len(_cache) > MAX_FILES:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return pcm
