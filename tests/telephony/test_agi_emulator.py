"""The AGI emulator beyond what the traces replay: hooks, options, the event transcript."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from ivr.telephony.emulator.agi_call import (
    CallOptions,
    CallProfile,
    host_sounds,
    wav_prompt_lengths,
)
from ivr.telephony.emulator.agi_caller import At, Audio, Hangup, Press, Speech, Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator, split_agi_url
from ivr.telephony.emulator.agi_events import (
    AppExecuted,
    Clock,
    EmuEvent,
    SessionClosed,
    describe,
)
from ivr.telephony.emulator.agi_media import number_files


class App:
    """The app end of one emulated call, driven line by line."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def env(self) -> bytes:
        return await asyncio.wait_for(self.reader.readuntil(b"\n\n"), 5)

    async def ask(self, line: bytes) -> bytes:
        self.writer.write(line)
        await self.writer.drain()
        return await self.line()

    async def line(self) -> bytes:
        return await asyncio.wait_for(self.reader.readline(), 5)

    async def finish(self) -> bytes:
        self.writer.write_eof()
        rest = await asyncio.wait_for(self.reader.read(), 5)
        self.writer.close()
        return rest


async def call(
    caller: list[Step] | None = None, scale: float = 0.02, **kwargs: object
) -> tuple[App, AgiEmulator, asyncio.Task[object], asyncio.Server]:
    accepted: asyncio.Future[App] = asyncio.get_running_loop().create_future()
    server = await asyncio.start_server(lambda r, w: accepted.set_result(App(r, w)), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    emu = AgiEmulator(
        f"agi://127.0.0.1:{port}/test?x=1",
        caller=caller or [],
        clock=Clock(scale),
        **kwargs,  # type: ignore[arg-type]
    )
    task: asyncio.Task[object] = asyncio.create_task(emu.run())
    app = await asyncio.wait_for(accepted, 5)
    await app.env()
    return app, emu, task, server


async def end(app: App, task: asyncio.Task[object], server: asyncio.Server) -> bytes:
    rest = await app.finish()
    await asyncio.wait_for(task, 5)
    server.close()
    await server.wait_closed()
    return rest


async def test_ringing_channel_answers_after_the_configured_delay() -> None:
    app, emu, task, server = await call(
        profile=CallProfile(answered=False), options=CallOptions(answer_delay_ms=300)
    )
    assert await app.ask(b"CHANNEL STATUS\n") == b"200 result=4\n"
    assert await app.ask(b"ANSWER\n") == b"200 result=0\n"
    assert await app.ask(b"CHANNEL STATUS\n") == b"200 result=6\n"
    assert await end(app, task, server) == b"HANGUP\n"
    assert emu.call.up


async def test_exit_on_hangup_while_idle_sends_two_hangups_and_closes() -> None:
    app, _emu, task, server = await call(
        caller=[At(50), Hangup()], options=CallOptions(exit_on_hangup=True)
    )
    assert await asyncio.wait_for(app.reader.read(), 5) == b"HANGUP\nHANGUP\n"
    app.writer.close()
    await asyncio.wait_for(task, 5)
    server.close()


async def test_app_hooks_run_for_exec_and_passive_apps_return_zero() -> None:
    dialled: list[str] = []

    async def dial(c: object, data: str) -> int:
        dialled.append(data)
        return 0

    app, emu, task, server = await call()
    emu.call.app_hooks["dial"] = dial
    assert await app.ask(b'EXEC Dial "PJSIP/agent,30"\n') == b"200 result=0\n"
    assert await app.ask(b"EXEC Transfer PJSIP/sales\n") == b"200 result=0\n"
    assert await app.ask(b"EXEC NoSuchApp\n") == b"200 result=-2\n"
    await end(app, task, server)
    assert dialled == ["PJSIP/agent,30"]
    assert [(e.app, e.result) for e in emu.events.of(AppExecuted)] == [
        ("Dial", 0), ("Transfer", 0), ("NoSuchApp", -2)
    ]  # fmt: skip


async def test_record_file_ends_on_silence_with_the_time_left_and_a_trimmed_file() -> None:
    caller: list[Step] = [Speech(1000, text="my account"), Audio(5000, voiced=False)]
    app, _emu, task, server = await call(caller=caller, scale=0.05)
    reply = await app.ask(b'RECORD FILE /tmp/x wav "#" 10000 0 s=2\n')
    await end(app, task, server)
    head, _, endpos = reply.decode().rstrip("\n").rpartition(" endpos=")
    left = int(head.removeprefix("200 result=").removesuffix(" (timeout)"))
    # 1 s of voice + 2 s of silence received, 1 s of it trimmed; 7 s of the 10 s left
    assert abs(left - 7000) < 400 and abs(int(endpos) - 16000) < 3200


async def test_control_stream_file_reports_milliseconds() -> None:
    app, _emu, task, server = await call(caller=[At(1000), Press("5")])
    reply = await app.ask(b'CONTROL STREAM FILE hello-test "5"\n')
    await end(app, task, server)
    assert reply.startswith(b"200 result=53 endpos=")
    assert abs(int(reply.split(b"endpos=")[1]) - 1200) < 300


async def test_transcript_describes_prompts_digits_and_hangup() -> None:
    app, emu, task, server = await call(caller=[At(500), Press("1"), At(1000), Hangup()])
    assert (await app.ask(b'STREAM FILE hello-test "1"\n')).startswith(b"200 result=49")
    assert await app.line() == b"HANGUP\n"
    await end(app, task, server)
    lines: list[str] = []
    async for event in emu.events.stream():
        lines.append(describe(event))
    text = "\n".join(lines)
    assert "prompt hello-test: interrupted by 1" in text
    assert "caller presses 1" in text
    assert "hangup by the caller" in text
    assert lines[-1].endswith("session closed")


def test_agi_urls_split_like_asterisk() -> None:
    assert split_agi_url("agi://10.0.0.1/ivr?lang=en") == ("10.0.0.1", 4573, "ivr?lang=en")
    assert split_agi_url("agi://h:4000/a/b") == ("h", 4000, "a/b")
    with pytest.raises(ValueError):
        split_agi_url("http://h/x")


def test_numbers_are_said_with_asterisk_style_files() -> None:
    assert number_files(42) == ["digits/40", "digits/2"]
    assert number_files(15) == ["digits/15"]
    assert number_files(115) == ["digits/1", "digits/hundred", "digits/15"]
    assert number_files(2005) == ["digits/2", "digits/thousand", "digits/5"]


def test_wav_prompt_lengths_are_in_8khz_samples(tmp_path: Path) -> None:
    (tmp_path / "digits").mkdir()
    for name, rate, frames in (("hello.wav", 8000, 4000), ("digits/1.wav", 16000, 8000)):
        with wave.open(str(tmp_path / name), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(b"\0\0" * frames)
    assert wav_prompt_lengths(tmp_path) == {"hello": 4000, "digits/1": 4000}


async def test_event_stream_ends_when_the_session_closes() -> None:
    app, emu, task, server = await call()
    await app.ask(b"NOOP\n")
    await end(app, task, server)
    events: list[EmuEvent] = [e async for e in emu.events.stream()]
    assert isinstance(events[-1], SessionClosed)


def _wav(path: Path, frames: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * frames)


async def test_stream_file_of_a_prompt_not_on_the_host_answers_as_asterisk(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """res_agi: `200 result=-1 endpos=<the offset asked>` at once, and file.c's warning."""
    app, _emu, task, server = await call()  # the default host: none of ivr's prompts
    assert await app.ask(b'STREAM FILE ivr/goodbye ""\n') == b"200 result=-1 endpos=0\n"
    assert await app.ask(b'STREAM FILE ivr/goodbye "" 800\n') == b"200 result=-1 endpos=800\n"
    assert await app.ask(b'CONTROL STREAM FILE ivr/goodbye "" 3000 # * "" 250\n') == (
        b"200 result=-1 endpos=250\n")
    assert "File ivr/goodbye does not exist in any format" in caplog.text
    await end(app, task, server)


async def test_prompts_copied_to_the_hosts_sounds_folder_play(tmp_path: Path) -> None:
    _wav(tmp_path / "en" / "ivr" / "goodbye.wav", 800)  # sounds/<lang>/ivr/goodbye
    _wav(tmp_path / "ivr" / "any-language.wav", 400)  # sounds/ivr/any-language
    app, _emu, task, server = await call(prompts=host_sounds(tmp_path, "en"))
    assert await app.ask(b'STREAM FILE ivr/goodbye ""\n') == b"200 result=0 endpos=800\n"
    assert await app.ask(b'STREAM FILE ivr/any-language ""\n') == b"200 result=0 endpos=400\n"
    assert await app.ask(b'STREAM FILE beep ""\n') == b"200 result=0 endpos=2088\n"  # stock
    assert await app.ask(b'STREAM FILE ivr/other ""\n') == b"200 result=-1 endpos=0\n"
    await end(app, task, server)
