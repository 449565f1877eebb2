"""EAGI fd-3 audio against the recording: eagi-local-script.txt + eagi-received-slin8.wav."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import wave
from collections import Counter

import pytest

from ivr.telephony.audiosocket import resample
from ivr.telephony.eagi_audio import EagiAudio, frame_bytes_for
from ivr.telephony.emulator.audiosocket_media import eagi_argv, feed_eagi_audio
from tests.conformance.as_transcript import TRACES

SCRIPT = TRACES / "eagi-local-script.txt"
WAV = TRACES / "eagi-received-slin8.wav"


def _cases() -> dict[str, dict[str, object]]:
    """Per case: read sizes (Counter), total bytes, first/last read sizes."""
    cases: dict[str, dict[str, object]] = {}
    case = ""
    for line in SCRIPT.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"#+ case (\S+):", line):
            case = m[1]
            cases[case] = {}
        elif m := re.search(r"fd 3 reads: (\d+) reads, (\d+) bytes total", line):
            cases[case].update(reads=int(m[1]), total=int(m[2]))
        elif m := re.search(r"read sizes: (.*)$", line):
            cases[case]["sizes"] = Counter({int(n): int(x) for n, x in
                                            re.findall(r"(\d+) bytes x(\d+)", m[1])})
    return cases


def _wav_pcm() -> bytes:
    with wave.open(str(WAV), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        return wav.readframes(wav.getnframes())


def _layout(sizes: Counter[int], frame: int) -> list[int]:
    """The order Asterisk wrote them: the speech file's frames and its short last one, then the
    2 s silence file (100 full frames) and its short last one (the last read in the trace)."""
    first_short, last_short = sorted(n for n in sizes if n != frame)
    silence = 100
    return [frame] * (sizes[frame] - silence) + [first_short] + [frame] * silence + [last_short]


def _split(data: bytes, layout: list[int]) -> list[bytes]:
    out, pos = [], 0
    for size in layout:
        out.append(data[pos:pos + size])
        pos += size
    assert pos == len(data)
    return out


@pytest.mark.parametrize(("case", "fmt"), [("eagi-slin8", "slin"), ("eagi-slin16", "slin16")])
async def test_reader_yields_the_recorded_frames_byte_for_byte(case: str, fmt: str) -> None:
    want = _cases()[case]
    pcm = _wav_pcm() if fmt == "slin" else resample(_wav_pcm(), 8000, 16000)
    frame = frame_bytes_for(fmt)
    sizes = want["sizes"]
    assert isinstance(sizes, Counter)
    assert len(pcm) == want["total"]
    frames = _split(pcm, _layout(sizes, frame))

    read_fd, write_fd = os.pipe()
    got: list[bytes] = []
    with os.fdopen(write_fd, "wb", buffering=0) as writer:
        reader = EagiAudio(read_fd, frame_bytes=frame, closefd=True)
        for data in frames:  # lock-step, so the frame boundaries cannot depend on timing
            writer.write(data)
            got.append(await asyncio.wait_for(reader.read_frame(), timeout=5))
    assert await asyncio.wait_for(reader.read_frame(), timeout=5) == b""  # EOF ends it
    reader.close()
    assert got == frames
    assert Counter(len(f) for f in got) == sizes
    assert len(got) == want["reads"]


async def test_paced_feed_through_a_pipe_delivers_the_wav_intact() -> None:
    pcm = _wav_pcm()
    read_fd, write_fd = os.pipe()
    reader = EagiAudio(read_fd, closefd=True)
    feeder = asyncio.create_task(feed_eagi_audio(write_fd, pcm, interval=0.002))
    got = [frame async for frame in reader]
    reader.close()
    assert await feeder == len(pcm)
    assert b"".join(got) == pcm
    assert max(len(f) for f in got) <= 320


async def test_child_process_reads_the_caller_audio_on_fd_3() -> None:
    pcm = _wav_pcm()[:320 * 20 + 174]
    child_code = (
        "import asyncio\n"
        "from ivr.telephony.eagi_audio import EagiAudio\n"
        "async def main():\n"
        "    frames = [f async for f in EagiAudio()]\n"
        "    print(len(frames), sum(map(len, frames)), len(frames[-1]))\n"
        "asyncio.run(main())\n"
    )
    read_fd, write_fd = os.pipe()
    proc = await asyncio.create_subprocess_exec(
        *eagi_argv([sys.executable, "-c", child_code], read_fd),
        pass_fds=(read_fd,), stdout=asyncio.subprocess.PIPE)
    os.close(read_fd)
    await feed_eagi_audio(write_fd, pcm, interval=0.002)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0
    count, total, last = map(int, out.split())
    assert total == len(pcm)
    assert last <= 320
    assert count >= 21
