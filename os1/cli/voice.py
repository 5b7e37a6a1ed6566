"""``os1 talk``: a spoken conversation, through sound devices or files."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import click
from rich.console import Console

from os1.cli.sessions import remembering, reminding, with_memory
from os1.config import Settings
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.ui.commands import err_console, opened, require_setup
from os1.voice.audio import AudioError
from os1.voice.io import (
    AudioSink,
    AudioSource,
    FileSink,
    MicrophoneSource,
    PlaybackSource,
    SpeakerSink,
)
from os1.voice.local_transport import VoiceConversation
from os1.voice.ports import VoiceParts
from os1.voice.stt import WhisperSTT
from os1.voice.tts import ENGINES, open_voice, voice_names
from os1.voice.vad import SileroVAD

VOICES = [*voice_names(), *ENGINES]


@click.command()
@click.option("--input", "input_path", type=click.Path(path_type=Path), default=None,
              help="Listen to this audio file instead of the microphone.")
@click.option("--output", "output_path", type=click.Path(path_type=Path), default=None,
              help="Write her voice to this WAV file instead of the speaker.")
@click.option("--voice", type=click.Choice(VOICES), default=None,
              help="Her voice (default: the one chosen at setup).")
@click.option("--headset", is_flag=True,
              help="Your microphone can't hear her: you may talk over her to interrupt.")
@click.option("--fast", is_flag=True,
              help="With --input: read the file at once and answer each turn in order "
                   "(no interruptions), instead of playing it as if spoken live.")
@click.option("--model", "-m", default=None, metavar="SPEC", help="As for os1 chat.")
@click.pass_context
def talk(ctx: click.Context, input_path: Path | None, output_path: Path | None,
         voice: str | None, headset: bool, fast: bool, model: str | None) -> None:
    """Talk with her out loud. Ctrl-C while she speaks stops her; Ctrl-C while she
    listens ends the conversation."""
    settings: Settings = ctx.obj.with_overrides(model=model)
    require_setup(settings)
    out = Console(highlight=False)
    with err_console.status("Waking her voice and ears…"):
        source: AudioSource = PlaybackSource.from_file(input_path, realtime=not fast) \
            if input_path is not None else MicrophoneSource()
        parts = VoiceParts(SileroVAD(), WhisperSTT(), open_voice(voice or _setup_voice(settings)))
        sink: AudioSink = FileSink(output_path, parts.tts.rate, realtime=not fast) \
            if output_path is not None else SpeakerSink(parts.tts.rate)
    with opened(settings, conversation=True) as (db, llm), \
            remembering(settings, db, llm) as memory:
        companion = with_memory(llm, db, settings, memory)
        companion.open_session("talk")
        memory.worker.start()
        name = companion.identity.companion_name
        with err_console.status("Waking her up…"):
            companion.warm_up()
        conversation = VoiceConversation(
            companion, parts, source, sink,
            barge_in=input_path is not None or headset,
            notify=lambda kind, text: _show(out, name, kind, text))
        if input_path is None:
            err_console.print("[dim]Listening. Speak when you're ready. Ctrl-C stops her while "
                              "she speaks, and ends the talk while she listens.[/dim]")
        previous = signal.signal(signal.SIGINT, ctrl_c_handler(conversation))
        try:
            with reminding(settings, db, conversation.announce):
                conversation.run()
        finally:
            signal.signal(signal.SIGINT, previous)
    if input_path is not None and not conversation.timings:
        raise AudioError(f"No speech was heard in {input_path}.",
                         "Check that the file has someone speaking in it.")
    if output_path is not None:
        err_console.print(f"[dim]Her voice is in {output_path}.[/dim]")


def ctrl_c_handler(conversation: VoiceConversation) -> Callable[[int, FrameType | None], None]:
    """Ctrl-C cuts her off if she is answering (the way to interrupt her through open
    speakers); otherwise it ends the talk as usual."""
    def handle(_signum: int, _frame: FrameType | None) -> None:
        if not conversation.cut_off():
            raise KeyboardInterrupt
    return handle


def _setup_voice(settings: Settings) -> str:
    db = Database.open(settings.storage)
    try:
        setup = SetupStore(db, settings.user).current()
        return setup.voice if setup is not None else "female"
    finally:
        db.close()


def _show(out: Console, name: str, kind: str, text: str) -> None:
    if kind in ("heard", "speaking"):
        out.print(f"{'you' if kind == 'heard' else name}: ", style="bold", end="")
        out.print(text, markup=False)
    elif kind == "interrupted":
        out.print("[dim](you cut her off)[/dim]")
    elif kind == "unheard":
        out.print("[dim](she didn't catch any words)[/dim]")
    elif kind in ("notice", "error"):
        print(text, file=sys.stderr)


COMMANDS = (talk,)
