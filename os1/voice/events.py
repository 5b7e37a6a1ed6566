"""What the conversation engine (pipeline.py) tells its transport, in order, and the clock
marks of each exchange.

One vocabulary for both transports: ``os1 talk`` prints some of these and ignores the
rest; ``/api/voice`` turns each into the protocol frame its page expects. Keeping them as
plain values means a transport can never make the engine behave differently, only say
things differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from os1.errors import OS1Error


@dataclass
class TurnTiming:
    """Wall-clock marks (time.monotonic) of one spoken exchange, for the latency benchmark."""

    speech_end: float = 0.0      # the user's last speech frame arrived
    turn_end: float = 0.0        # the detector decided they had finished
    taken: float = 0.0           # the engine took the turn (it may have been busy
                                 # evaluating the prompt ahead: ``anticipate``)
    transcribed: float = 0.0     # the last chunk's text was ready
    first_token: float = 0.0     # the first piece out of the persona guard
    first_sentence: float = 0.0  # the first speakable piece was complete
    first_synth: float = 0.0     # its audio was ready
    first_audio: float = 0.0     # its first frame went to the output
    heard: str = ""
    said: str = ""
    interrupted: bool = False


@dataclass(frozen=True)
class Listening:
    """Speech began: a turn may be coming."""


@dataclass(frozen=True)
class Thinking:
    """A turn was taken: she finishes hearing it and answers."""


@dataclass(frozen=True)
class Heard:
    """Their words (stored as their message once she answers)."""

    text: str


@dataclass(frozen=True)
class Unheard:
    """Speech with no words Whisper could make out: not answered."""


@dataclass(frozen=True)
class Notice:
    text: str


@dataclass(frozen=True)
class Piece:
    """Her reply as she writes it."""

    text: str


@dataclass(frozen=True)
class Speaking:
    """A sentence of hers is about to be played (``first`` of this reply or aside)."""

    text: str
    first: bool


@dataclass(frozen=True)
class CutOff:
    """She was stopped (talked over, or told to): silent from now on."""


@dataclass(frozen=True)
class Done:
    """Her reply is stored: ``said`` is what was heard of it (all of it unless
    interrupted); ``message_id`` is None when nothing of hers was stored."""

    status: str
    message_id: int | None
    said: str


@dataclass(frozen=True)
class Said:
    """Something said between turns (a reminder) is over; never stored."""

    status: str


@dataclass(frozen=True)
class Failed:
    """A turn or an aside failed (the model, the login, the queue): she listens on."""

    error: OS1Error


@dataclass(frozen=True)
class Unspoken:
    """A sentence her voice could not say, or a turn's sound that could not be read
    (``text`` "♪ path"): skipped (it is still written)."""

    text: str
    error: OS1Error


@dataclass(frozen=True)
class Ready:
    """A turn or an aside is over: she listens."""


VoiceEvent = (Listening | Thinking | Heard | Unheard | Notice | Piece | Speaking | CutOff
              | Done | Said | Failed | Unspoken | Ready)
