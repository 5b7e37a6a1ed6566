"""Her reply, written and voiced in worker threads while the engine plays what is ready.

The model writes in one thread (``ReplyWork``, run wherever the transport gives her a
turn), each finished sentence is synthesised in a second, and everything that comes of it
is posted to the engine's event loop in order. The reply is stored only once the engine
has settled what was heard of it (``Saying``): she may have written more than she got to
say before she was cut off. A turn's sound (a piece she composed) is read in the voice's
thread after her last sentence, at her voice's rate, and posted as a ``SoundClip``.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from os1.errors import OS1Error
from os1.mind.turn import Turn
from os1.storage.conversations import ConversationLog
from os1.voice.audio import Samples, read_audio
from os1.voice.events import Done, Notice, Piece, TurnTiming, Unspoken
from os1.voice.sentences import SentenceSplitter
from os1.voice.tts import TextToSpeech

T = TypeVar("T")


class Replier(Protocol):
    """Her, as the engine needs her (``Companion``)."""

    log: ConversationLog

    def reply(self, text: str, *, spoken: bool = False) -> Turn:
        ...

    def anticipate(self, text: str, *, spoken: bool = False) -> None:
        ...


async def in_thread(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in a worker thread. Cancelled, it still waits for the thread:
    what runs there (the model, a database write) must not go on for nobody, nor its turn
    slot be given to someone else while it does."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with suppress(BaseException):
            await future
        raise


class Saying:
    """A reply or an aside, from the moment it is due until it is over: cut off at once
    from any thread, and settled once with what was heard of it."""

    def __init__(self) -> None:
        self.cut = threading.Event()
        self.settled: queue.Queue[tuple[str, bool]] = queue.Queue(maxsize=1)
        self._heard: Callable[[], str] = lambda: ""  # nothing of it has played yet
        self._taken = False  # what was heard is settled
        self._over = False  # nothing is left to cut off

    def begin(self, heard: Callable[[], str]) -> None:
        """It starts to play; ``heard`` says how much of it has been heard so far."""
        self._heard = heard

    def cut_off(self) -> bool:
        """Stop it now; False if it was over already."""
        if self.cut.is_set() or self._over:
            return False
        self.cut.set()
        self.settle(interrupted=True)
        return True

    def settle(self, interrupted: bool, *, more: bool = False) -> None:
        """What was heard, taken now (later, playback would have moved on). ``more``: a
        sound still follows her words; talking over it still cuts it off, but her words
        were heard whole, so the reply is not stored as interrupted."""
        if not self._taken:
            self._taken = True
            self.settled.put((self._heard(), interrupted))
        self._over = self._over or not more


@dataclass(frozen=True)
class Spoken:
    """Sentence ``number`` of a reply, voiced."""

    number: int
    text: str
    samples: Samples
    rate: int


@dataclass(frozen=True)
class SoundClip(Spoken):
    """A turn's sound (``Turn.sound``), played after her words through the same output:
    no words (``text`` is empty), so nothing of it counts as said."""


@dataclass(frozen=True)
class Written:
    """The model and the voice are done (``error``: what stopped the model)."""

    error: BaseException | None = None


Posted = Piece | Notice | Spoken | Unspoken | Written
ToVoice = tuple[int, str | Path]  # what the voice is given: a sentence, or a sound file


@dataclass
class ReplyWork:
    """One reply, in a worker thread, with her: written, cut into sentences, voiced, and
    stored as far as it was heard. Returns the ``Done`` to tell; raises what stopped the
    model (after storing what there was)."""

    heard: str
    saying: Saying
    tts: TextToSpeech
    first_clause_words: int
    timing: TurnTiming
    post: Callable[[Posted], None]

    def __call__(self, her: Replier) -> Done:
        sentences: queue.Queue[ToVoice | None] = queue.Queue()
        voice = threading.Thread(target=self._voice, args=(sentences,), daemon=True,
                                 name="os1-voice-tts")
        voice.start()
        turn: Turn | None = None
        error: BaseException | None = None
        try:
            turn = her.reply(self.heard, spoken=True)
            if turn.notice:
                self.post(Notice(turn.notice))
            self._write(turn, sentences)
        except BaseException as exc:  # told after what was heard is stored
            error = exc
        finally:
            sentences.put(None)
            voice.join()
            self.post(Written(error))
            said, interrupted = self.saying.settled.get()
        done = self._store(her, turn, said, interrupted)
        if error is not None:
            raise error
        return done

    def _write(self, turn: Turn, sentences: queue.Queue[ToVoice | None]) -> None:
        splitter = SentenceSplitter(self.first_clause_words)
        count = itertools.count()
        for piece in turn:
            if self.saying.cut.is_set():
                return
            mark(self.timing, "first_token")
            self.post(Piece(piece))
            for sentence in splitter.feed(piece):
                mark(self.timing, "first_sentence")
                sentences.put((next(count), sentence))
        for sentence in splitter.flush():
            mark(self.timing, "first_sentence")
            sentences.put((next(count), sentence))
        if turn.sound is not None and not self.saying.cut.is_set():
            sentences.put((next(count), turn.sound))

    def _voice(self, sentences: queue.Queue[ToVoice | None]) -> None:
        while (item := sentences.get()) is not None:
            if self.saying.cut.is_set():
                continue
            number, said = item
            if isinstance(said, Path):
                self._sound(number, said)
            else:
                self._say(number, said)

    def _say(self, number: int, text: str) -> None:
        try:
            audio = self.tts.synthesize(text)
        except OS1Error as error:
            self.post(Unspoken(text, error))
            return
        mark(self.timing, "first_synth")
        if not self.saying.cut.is_set() and len(audio.samples):
            self.post(Spoken(number, text, audio.samples, audio.rate))

    def _sound(self, number: int, path: Path) -> None:
        """Read at her voice's rate, as her voice's own files are (festival, flite): the
        output plays one rate. A sound that can't be read is told, not played."""
        try:
            audio = read_audio(path, self.tts.rate)
        except OS1Error as error:
            self.post(Unspoken(f"♪ {path}", error))
            return
        if not self.saying.cut.is_set():
            self.post(SoundClip(number, "", audio.samples, audio.rate))

    def _store(self, her: Replier, turn: Turn | None, said: str, interrupted: bool) -> Done:
        self.timing.said, self.timing.interrupted = said, interrupted
        if turn is None:
            return Done("failed", None, "")
        turn.settle(said, interrupted)
        status = "interrupted" if interrupted else turn.status or "complete"
        return Done(status, turn.reply_id, said.strip())


def mark(timing: TurnTiming, name: str) -> None:
    """Set ``timing.<name>`` to now, the first time only."""
    if not getattr(timing, name):
        setattr(timing, name, time.monotonic())
