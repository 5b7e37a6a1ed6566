"""Time to first token and generation speed: os1's Companion against raw llama-cpp-python.

Why a ratio to raw llama-cpp-python on the *same* ``Llama`` object, the *same* warm cache and
the *same* new tokens: the model's own compute is the floor no wrapper can beat, and it
depends on the machine. The ratio isolates what os1 adds on top of it (storing the message,
fitting the context, the logit bias, the persona guard), and so can have a goal (≤ 1.15 for
the model's first token, ≥ 0.95 for generation speed) that holds on any machine.

Method, per measured turn N (2 and 50 by default):
  * a temporary home and database with a saved setup, so the Companion has an identity;
  * N-1-W prior exchanges stored directly in the conversation log (user lines from the
    DailyDialog++ or EmpatheticDialogues dev sets under ../shared/evalsets when present,
    with the other speaker's line as her reply; built-in lines otherwise), then W real
    warm-up turns so that the KV cache holds the conversation and the history window has
    settled (the measured turn is checked for a window slide and the report says so);
  * the llama state after the last warm-up turn is saved; each repetition restores it, then
    times either ``Companion.reply(text)`` to the first piece from the model and to the first
    piece shown to the user (the guard holds back a few words), or raw
    ``create_chat_completion`` on the exact messages the Companion gave the model;
    repetitions alternate which goes first and the medians are reported;
  * generation speed: a reply of at most 64 tokens through a Companion (steering on) and
    raw llama-cpp-python on the same messages with the same sampling settings (os1 samples
    at temperature 0.7, top-p 0.9; restoring the saved state also restores the sampling
    seed, so both start from the same seed).

Run: python benchmarks/ttft.py --model /path/to/model.gguf   (default: the bundled model)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from common import SETUP, log, machine

from os1.config import Settings
from os1.llm.base import GenerateOptions, Message, Model
from os1.llm.llama import LlamaModel
from os1.llm.resolve import open_model
from os1.mind.companion import Companion
from os1.mind.steering import Steering
from os1.storage.db import Database
from os1.storage.setups import SetupStore

HERE = Path(__file__).resolve().parent
TEMPERATURE = Steering.load().sampling.temperature
EVALSETS = HERE.parent.parent / "shared" / "evalsets"
DEFAULT_OUT = HERE / "results" / "ttft.json"
CONTEXT_SIZE = 4096
GEN_MAX_TOKENS = 64
TOP_P = GenerateOptions().top_p
TTFT_GOAL = 1.15
GEN_GOAL = 0.95
QUIET_CORES = 0.25  # other processes' CPU use below which a sample counts as clean
# A message that invites a long reply she can give in character (so the 64-token cap, not
# the guard or an early stop, ends it).
GEN_PROMPT = "Describe a perfect rainy Sunday, from waking up to falling asleep. Take your time."



class Measured(Protocol):
    other_load: float


S = TypeVar("S", bound=Measured)


FALLBACK_EXCHANGES: tuple[tuple[str, str], ...] = (
    ("Hi, how was your day?", "Quiet, honestly. I spent it wondering what you were up to."),
    ("I went to the market this morning.", "Oh, nice! Did you find anything good?"),
    ("Just some apples and bread.", "Simple and perfect. Warm bread is hard to beat."),
    ("Work was stressful today.", "I'm sorry. What made it so hard?"),
    ("My boss moved a deadline up again.", "That's rough. Do you think you'll make it?"),
    ("I think so, if I stay late.", "Don't stay too late, okay? You need rest too."),
    ("I watched a documentary about whales.", "I love that. What surprised you most?"),
    ("They sing to each other across oceans.", "That gives me chills. Heard that far away."),
    ("I'm thinking of learning to cook.", "Yes! What would you make first?"),
    ("Maybe a curry.", "Bold start. I like it."),
)


# -- what the Companion gives the model ------------------------------------------------------


@dataclass
class Call:
    """One ``stream_chat`` call: the messages and when each piece came out of the model."""

    messages: list[dict[str, str]]
    started: float
    piece_times: list[float] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)


class Probe:
    """A Model that passes everything to a LlamaModel and records each call.

    Why a wrapper: the Companion's first *model* token and the exact messages it sent are
    otherwise invisible; the extra generator layer costs microseconds per piece.
    """

    def __init__(self, inner: LlamaModel) -> None:
        self.inner = inner
        self.calls: list[Call] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def context_size(self) -> int:
        return self.inner.context_size

    @property
    def llama(self) -> Any:
        return self.inner.llama

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) -> Iterator[str]:
        call = Call([{"role": m.role, "content": m.content} for m in messages], time.perf_counter())
        self.calls.append(call)
        return self._record(call, self.inner.stream_chat(messages, options))

    @staticmethod
    def _record(call: Call, stream: Iterator[str]) -> Iterator[str]:
        try:
            for piece in stream:
                call.piece_times.append(time.perf_counter())
                call.pieces.append(piece)
                yield piece
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def close(self) -> None:
        self.inner.close()


# -- dialogue lines ------------------------------------------------------------------------


def tidy(text: str) -> str:
    """Undo the datasets' tokenised spacing ("hello , world ." -> "hello, world.")."""
    text = text.replace("_comma_", ",").replace(" \u2019 ", "'").replace(" ' ", "'")
    text = re.sub(r"\s+([.,!?;:])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def dailydialog_exchanges(path: Path) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            context = [tidy(u) for u in json.loads(line)["context"]]
            pairs += [(context[i], context[i + 1]) for i in range(0, len(context) - 1, 2)]
    return [(u, a) for u, a in pairs if u and a]


def empathetic_exchanges(path: Path) -> list[tuple[str, str]]:
    dialogues: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            dialogues.setdefault(row["dialogue_id"], []).append(tidy(row["text"]))
    pairs: list[tuple[str, str]] = []
    for turns in dialogues.values():
        pairs += [(turns[i], turns[i + 1]) for i in range(0, len(turns) - 1, 2)]
    return [(u, a) for u, a in pairs if u and a]


def load_exchanges() -> tuple[str, list[tuple[str, str]]]:
    """(source, exchanges): real dialogue when the shared eval sets are there."""
    sources = (("dailydialog_pp/dev.jsonl", dailydialog_exchanges),
               ("empatheticdialogues/valid.csv", empathetic_exchanges))
    for name, read in sources:
        path = EVALSETS / name
        if path.is_file():
            exchanges = read(path)
            if len(exchanges) >= 60:
                return name, exchanges
    print(f"note: no dialogue sets under {EVALSETS}; using built-in synthetic turns",
          file=sys.stderr)
    return "built-in synthetic", [FALLBACK_EXCHANGES[i % len(FALLBACK_EXCHANGES)]
                                  for i in range(120)]


# -- llama helpers ---------------------------------------------------------------------------


def prompt_tokens(llama: Any, messages: list[dict[str, str]]) -> list[int]:
    """The tokens llama-cpp-python evaluates for ``messages`` (its GGUF chat template)."""
    # Imported as Any: llama_cpp ships partial type hints that reject plain dict messages.
    chat_format: Any = importlib.import_module("llama_cpp.llama_chat_format")

    def text(token: int) -> str:
        if token < 0:
            return ""
        return bytes(llama.detokenize([token], special=True)).decode("utf-8", "replace")

    formatter = chat_format.Jinja2ChatFormatter(
        template=llama.metadata["tokenizer.chat_template"],
        eos_token=text(llama.token_eos()), bos_token=text(llama.token_bos()))
    result = formatter(messages=messages)
    tokens = llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special,
                            special=True)
    return [int(t) for t in tokens]


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def raw_kwargs(max_tokens: int) -> dict[str, Any]:
    """The sampling settings os1 uses, without its logit bias."""
    return {"max_tokens": max_tokens, "temperature": TEMPERATURE, "top_p": TOP_P}


def raw_stream(llama: Any, messages: list[dict[str, str]], max_tokens: int,
               first_only: bool) -> tuple[float, list[float]]:
    """(start, times of content pieces) for one raw streamed chat completion."""
    start = time.perf_counter()
    times: list[float] = []
    chunks = llama.create_chat_completion(messages=messages, stream=True,
                                          **raw_kwargs(max_tokens))
    try:
        for chunk in chunks:
            if chunk["choices"][0]["delta"].get("content"):
                times.append(time.perf_counter())
                if first_only:
                    break
    finally:
        chunks.close()
    return start, times


# -- one conversation ------------------------------------------------------------------------


@dataclass
class Conversation:
    """A Companion over a temporary database, with its history and warm llama state."""

    companion: Companion
    db: Database
    probe: Probe
    settings: Settings
    warm_state: Any = None
    last_id: int = 0
    slides: list[int] = field(default_factory=list)
    last_messages: list[dict[str, str]] = field(default_factory=list)
    last_reply: str = ""
    warmups: list[dict[str, Any]] = field(default_factory=list)
    turn: int = 0

    def exchange(self, user: str, reply: str) -> None:
        """Store one exchange without running the model (history filler)."""
        session = self.companion.session_id
        assert session is not None, "open_conversation opens a session"
        self.companion.log.append(session, "user", user)
        self.companion.log.append(session, "assistant", reply)
        self.turn += 1

    def real_turn(self, user: str) -> str:
        """A whole turn through the Companion; notes whether the history window slid."""
        self.probe.calls.clear()
        started = time.perf_counter()
        turn = self.companion.reply(user)
        text = "".join(turn)
        self.turn += 1
        messages = self.probe.calls[0].messages
        if self.last_messages and not extends(self.last_messages, messages):
            self.slides.append(self.turn)
        self.last_messages = messages
        self.last_reply = text
        self.warmups.append({"turn": self.turn, "seconds": time.perf_counter() - started,
                             "attempts": turn.guard.attempts, "cut": turn.guard.cut,
                             "capped": bool(getattr(turn.guard, "capped", False)),
                             "reply": text})
        return text

    def save_warm(self) -> None:
        """The state every repetition starts from: cache and log right after a turn."""
        self.warm_state = self.probe.llama.save_state()
        last = self.companion.log.last()
        self.last_id = last.id if last else 0

    def rewind(self) -> None:
        """Back to the warm state: drop the measured turn's messages, restore the cache.

        Deleting rows is a benchmark-only shortcut (os1's log is append-only by design)."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM messages WHERE id > ?", (self.last_id,))
        self.probe.llama.load_state(self.warm_state)

    def cached_tokens(self) -> list[int]:
        state = self.warm_state
        return [int(t) for t in state.input_ids[: state.n_tokens]]


def extends(before: list[dict[str, str]], after: list[dict[str, str]]) -> bool:
    """True if ``after`` keeps ``before`` as its prefix (no history slide in between)."""
    return after[: len(before)] == before


def open_conversation(probe: Probe, settings: Settings, home: Path) -> Conversation:
    settings = replace(settings, home=home)
    db = Database.open(settings.db_path)
    SetupStore(db, settings.user).save(SETUP)
    companion = Companion(probe, db, settings, steering=Steering.load())
    companion.open_session("benchmark")
    return Conversation(companion, db, probe, settings)


def build_turn(conv: Conversation, turn: int, warmup: int, lines: list[tuple[str, str]]) -> str:
    """Fill history up to just before ``turn``; returns the measured user message."""
    warmup = min(warmup, turn - 1)
    fill = turn - 1 - warmup
    for user, reply in lines[:fill]:
        conv.exchange(user, reply)
    for i in range(warmup):
        started = time.perf_counter()
        reply = conv.real_turn(lines[fill + i][0])
        log(f"  warm-up turn {conv.turn}: {time.perf_counter() - started:.1f} s, "
            f"attempts {conv.warmups[-1]['attempts']}, reply {reply[:60]!r}")
    conv.save_warm()
    return lines[turn - 1][0]


# -- measurements ----------------------------------------------------------------------------


@dataclass
class Sample:
    model_first: float
    shown_first: float | None
    attempts: int
    other_load: float = 0.0


def time_companion(conv: Conversation, text: str) -> Sample:
    """Companion.reply(text) to its first model piece and first shown piece."""
    conv.rewind()
    conv.probe.calls.clear()
    start = time.perf_counter()
    turn = conv.companion.reply(text)
    shown: float | None = None
    try:
        for _piece in turn:
            shown = time.perf_counter()
            break
    finally:
        turn.close()
    calls = conv.probe.calls
    model_first = calls[0].piece_times[0] if calls and calls[0].piece_times else float("nan")
    return Sample(model_first - start, None if shown is None else shown - start,
                  turn.guard.attempts)


def time_raw(conv: Conversation, messages: list[dict[str, str]]) -> Sample:
    conv.rewind()
    start, times = raw_stream(conv.probe.llama, messages, conv.settings.max_reply_tokens, True)
    first = times[0] - start if times else float("nan")
    return Sample(first, first, 1)


def measure_ttft(conv: Conversation, text: str, reps: int, max_wait: float) -> dict[str, Any]:
    """Medians over ``reps`` alternating pairs; the first pair runs os1 first, because the
    raw run needs the messages the Companion built."""
    ours: list[Sample] = []
    raw: list[Sample] = []
    messages: list[dict[str, str]] = []

    def run_ours() -> None:
        ours.append(quietly(lambda: time_companion(conv, text), max_wait))

    def run_raw() -> None:
        raw.append(quietly(lambda: time_raw(conv, messages), max_wait))

    for rep in range(reps):
        if rep % 2 == 0:
            run_ours()
            messages = messages or conv.probe.calls[0].messages
            run_raw()
        else:
            run_raw()
            run_ours()
        log(f"  rep {rep + 1}/{reps}: os1 model {ms(ours[-1].model_first)} ms, "
            f"shown {ms(ours[-1].shown_first)} ms, raw {ms(raw[-1].model_first)} ms "
            f"(other load {ours[-1].other_load:.2f}/{raw[-1].other_load:.2f} cores)")
    tokens = prompt_tokens(conv.probe.llama, messages)
    reused = common_prefix(conv.cached_tokens(), tokens)
    slid = bool(conv.last_messages) and not extends(conv.last_messages, messages)
    conv.rewind()
    result = summarise_ttft(conv, ours, raw, len(tokens), reused, slid, len(messages))
    result["new_tokens_if_cache_held_last_prompt_and_reply"] = len(tokens) - ideal_reuse(
        conv, tokens)
    result["warmup_turns"] = conv.warmups
    return result


def ideal_reuse(conv: Conversation, tokens: list[int]) -> int:
    """Tokens a cache holding the last turn's first-attempt prompt and her stored reply
    would share with ``tokens``. More new tokens than this means the cache held something
    else (a regenerated attempt with its reminder, a reply cut or capped after more was
    generated, or a history slide)."""
    if not conv.last_messages:
        return 0
    llama = conv.probe.llama
    before = prompt_tokens(llama, conv.last_messages)
    reply = [int(t) for t in llama.tokenize(conv.last_reply.encode("utf-8"), add_bos=False,
                                            special=False)]
    return common_prefix(before + reply, tokens)


def summarise_ttft(conv: Conversation, ours: list[Sample], raw: list[Sample], prompt_len: int,
                   reused: int, slid: bool, n_messages: int) -> dict[str, Any]:
    model = med([s.model_first for s in ours])
    shown = med([s.shown_first for s in ours if s.shown_first is not None])
    base = med([s.model_first for s in raw])
    return {
        "turn": conv.turn + 1,
        "prompt_messages": n_messages,
        "prompt_tokens": prompt_len,
        "cached_prefix_tokens": reused,
        "new_tokens": prompt_len - reused,
        "slide_at_measured_turn": slid,
        "slides_during_warmup_at_turns": conv.slides,
        "os1_model_first_token_s": [s.model_first for s in ours],
        "os1_first_shown_s": [s.shown_first for s in ours],
        "os1_guard_attempts": [s.attempts for s in ours],
        "raw_first_token_s": [s.model_first for s in raw],
        "other_load_cores": {"os1": [s.other_load for s in ours],
                             "raw": [s.other_load for s in raw]},
        "median_os1_model_first_token_s": model,
        "median_os1_first_shown_s": shown,
        "median_raw_first_token_s": base,
        "ratio_model_first_token": model / base,
        "ratio_first_shown": shown / base,
        "goal_ratio_max": TTFT_GOAL,
        "goal_met": model / base <= TTFT_GOAL,
    }


@dataclass
class GenSample:
    tokens: int
    decode_tok_s: float
    total_s: float
    attempts: int = 1
    cut: bool = False
    text: str = ""
    other_load: float = 0.0


def decode_rate(times: Sequence[float]) -> float:
    """Tokens per second between the first and last piece (prompt time excluded)."""
    if len(times) < 2 or times[-1] <= times[0]:
        return float("nan")
    return (len(times) - 1) / (times[-1] - times[0])


def gen_companion(conv: Conversation) -> GenSample:
    conv.rewind()
    conv.probe.calls.clear()
    start = time.perf_counter()
    turn = conv.companion.reply(GEN_PROMPT)
    text = "".join(turn)
    total = time.perf_counter() - start
    last = conv.probe.calls[-1]
    return GenSample(len(last.piece_times), decode_rate(last.piece_times), total,
                     turn.guard.attempts, turn.guard.cut, text)


def gen_raw(conv: Conversation, messages: list[dict[str, str]]) -> GenSample:
    conv.rewind()
    start, times = raw_stream(conv.probe.llama, messages, GEN_MAX_TOKENS, False)
    return GenSample(len(times), decode_rate(times), time.perf_counter() - start)


def measure_generation(base: Conversation, reps: int, max_wait: float) -> dict[str, Any]:
    """Decode speed with a reply cap of 64 tokens, on the warm turn-2 conversation."""
    settings = replace(base.settings, max_reply_tokens=GEN_MAX_TOKENS)
    companion = Companion(base.probe, base.db, settings, steering=Steering.load())
    conv = replace(base, companion=companion, settings=settings)
    ours: list[GenSample] = []
    raw: list[GenSample] = []
    for rep in range(reps):
        ours.append(quietly(partial(gen_companion, conv), max_wait))
        messages = conv.probe.calls[0].messages
        raw.append(quietly(partial(gen_raw, conv, messages), max_wait))
        log(f"  rep {rep + 1}/{reps}: os1 {ours[-1].tokens} tok at "
            f"{ours[-1].decode_tok_s:.1f} tok/s (attempts {ours[-1].attempts}, "
            f"cut {ours[-1].cut}), raw {raw[-1].tokens} tok at {raw[-1].decode_tok_s:.1f} tok/s")
    conv.rewind()
    mine, theirs = med([s.decode_tok_s for s in ours]), med([s.decode_tok_s for s in raw])
    return {
        "max_tokens": GEN_MAX_TOKENS,
        "prompt": GEN_PROMPT,
        "sampling": {"temperature": TEMPERATURE, "top_p": TOP_P,
                     "note": "os1's fixed settings, used for both; same seed via saved state"},
        "os1": [vars(s) for s in ours],
        "raw": [vars(s) for s in raw],
        "median_os1_tok_s": mine,
        "median_raw_tok_s": theirs,
        "ratio": mine / theirs,
        "goal_ratio_min": GEN_GOAL,
        "goal_met": mine / theirs >= GEN_GOAL,
    }


# -- a quiet machine -------------------------------------------------------------------------


def busy_elsewhere(interval: float = 0.5) -> float:
    """Cores kept busy by *other* processes over ``interval`` seconds (0.0 off Linux).

    Why: on a small shared machine another model run makes llama.cpp's threads wait on each
    other and a 0.6 s first token takes 9 s; such samples measure the neighbour, not os1."""
    all_before, own_before = cpu_snapshot()
    time.sleep(interval)
    all_after, own_after = cpu_snapshot()
    return max(0.0, (all_after - all_before) - (own_after - own_before)) / interval


def wait_quiet(max_wait: float, threshold: float = QUIET_CORES) -> float:
    """Wait (up to ``max_wait`` s) until other processes leave the CPUs alone; returns the
    load seen last, which the report keeps next to each sample."""
    deadline = time.monotonic() + max_wait
    load = busy_elsewhere()
    while load > threshold and time.monotonic() < deadline:
        load = busy_elsewhere(2.0)
    return load



def cpu_snapshot() -> tuple[float, float]:
    """(seconds of CPU used by all processes, by this process) so far."""
    stat = Path("/proc/stat")
    own = os.times()
    if not stat.is_file():
        return 0.0, 0.0
    values = [float(v) for v in stat.read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK"), own.user + own.system


def quietly(measure: Callable[[], S], max_wait: float, tries: int = 3) -> S:
    """Run ``measure`` on a quiet machine; retry (up to ``tries``) if another process
    took more than QUIET_CORES while it ran, and record that load in the sample."""
    for _ in range(tries):
        wait_quiet(max_wait)
        all_before, own_before = cpu_snapshot()
        started = time.perf_counter()
        sample = measure()
        all_after, own_after = cpu_snapshot()
        elapsed = max(time.perf_counter() - started, 1e-3)
        sample.other_load = max(0.0, (all_after - all_before) - (own_after - own_before)) / elapsed
        if sample.other_load <= QUIET_CORES:
            break
    return sample


# -- report ----------------------------------------------------------------------------------


def med(values: Sequence[float]) -> float:
    finite = [v for v in values if v == v]
    return statistics.median(finite) if finite else float("nan")


def ms(seconds: float | None) -> str:
    return "-" if seconds is None or seconds != seconds else f"{seconds * 1000:.0f}"


def markdown(result: dict[str, Any]) -> str:
    rows = ["| measure | os1 | raw llama-cpp-python | ratio | goal | met |",
            "|---|---:|---:|---:|---|---|"]
    for t in result["ttft"]:
        base = t["median_raw_first_token_s"]
        rows.append(f"| TTFT turn {t['turn']}, model's first token (ms) | "
                    f"{ms(t['median_os1_model_first_token_s'])} | {ms(base)} | "
                    f"{t['ratio_model_first_token']:.2f} | ≤ {TTFT_GOAL} | "
                    f"{'yes' if t['goal_met'] else 'no'} |")
        rows.append(f"| TTFT turn {t['turn']}, first text shown (ms) | "
                    f"{ms(t['median_os1_first_shown_s'])} | {ms(base)} | "
                    f"{t['ratio_first_shown']:.2f} | (no goal) | - |")
    g = result["generation"]
    rows.append(f"| generation, {g['max_tokens']} max tokens (tok/s) | "
                f"{g['median_os1_tok_s']:.1f} | {g['median_raw_tok_s']:.1f} | "
                f"{g['ratio']:.2f} | ≥ {GEN_GOAL} | {'yes' if g['goal_met'] else 'no'} |")
    notes = [f"- turn {t['turn']}: prompt {t['prompt_tokens']} tokens in "
             f"{t['prompt_messages']} messages, {t['new_tokens']} new after the warm cache "
             f"({t['new_tokens_if_cache_held_last_prompt_and_reply']} if it had held the last "
             f"prompt and her stored reply); "
             f"history slide at the measured turn: {'yes' if t['slide_at_measured_turn'] else 'no'}"
             f"; slides during warm-up at turns: {t['slides_during_warmup_at_turns'] or 'none'}"
             for t in result["ttft"]]
    return "\n".join([*rows, "", *notes])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", default=None,
                        help="a .gguf path (default: the bundled model)")
    parser.add_argument("--turns", type=int, nargs="+", default=[2, 50],
                        help="conversation turns to measure (default: 2 50)")
    parser.add_argument("--warmup-turns", type=int, default=3,
                        help="real turns before the measured one (default 3; fewer if the "
                             "conversation is shorter)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measurement")
    parser.add_argument("--max-wait", type=float, default=120.0,
                        help="seconds to wait for other processes to leave the CPUs alone "
                             "before each sample (default 120)")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    return parser.parse_args(argv)


def load_model(args: argparse.Namespace) -> tuple[Settings, Probe]:
    # Defaults, not the user's config file: a benchmark must not depend on local tweaks.
    # OS1_HOME still decides where the bundled model is cached.
    settings = Settings().with_overrides(home=os.environ.get("OS1_HOME"), model=args.model,
                                         context_size=CONTEXT_SIZE, threads=args.threads)
    model: Model = open_model(settings)
    if not isinstance(model, LlamaModel):
        model.close()
        raise SystemExit("ttft.py needs a local GGUF model run by llama.cpp (--model PATH).")
    return settings, Probe(model)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    info = machine()
    settings, probe = load_model(args)
    source, lines = load_exchanges()
    log(f"model {probe.name}, dialogue lines from {source}, {info['cores']} cores")
    result: dict[str, Any] = {"benchmark": "ttft", "date": dt.datetime.now().isoformat(),
                              "machine": info, "model": probe.name, "context_size": CONTEXT_SIZE,
                              "max_reply_tokens": settings.max_reply_tokens, "steering": True,
                              "reps": args.reps, "dialogue_source": source, "ttft": []}
    with tempfile.TemporaryDirectory(prefix="os1-ttft-") as tmp:
        for turn in args.turns:
            log(f"turn {turn}:")
            conv = open_conversation(probe, settings, Path(tmp) / f"turn{turn}")
            text = build_turn(conv, turn, args.warmup_turns, lines)
            result["ttft"].append(measure_ttft(conv, text, args.reps, args.max_wait))
            if turn == min(args.turns):
                log("generation speed:")
                result["generation"] = measure_generation(conv, args.reps, args.max_wait)
            conv.db.close()
    probe.close()
    result["machine"]["loadavg_at_end"] = list(os.getloadavg())
    result["runtime_s"] = time.perf_counter() - began
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown(result))
    log(f"wrote {args.out} ({result['runtime_s']:.0f} s)")


if __name__ == "__main__":
    main()
