"""The turn loop: what she does with each thing you say.

perceive (validate, store what you said first) → recall (the conversation window within
the token budget) → think (the model, streamed through the persona guard) → remember
(store what she actually said, marked interrupted if you cut her off).

What a turn in progress is (turn.py) and how her reply is kept in character as it
streams (in_character.py) are theirs; this module is the loop that ties them together.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext

from os1.config import Settings
from os1.data import fill, read_text, read_toml
from os1.errors import EmptyMessage, MessageTooLong, OS1Error
from os1.llm.base import GenerateOptions, Message, Model
from os1.memory.notes import notes_block
from os1.mind.context import Budget, HistoryWindow, fit_text
from os1.mind.critic import Critic
from os1.mind.form import Form
from os1.mind.in_character import InCharacter
from os1.mind.persona import Persona
from os1.mind.perspective import asks_about_himself, said_earlier
from os1.mind.recollection import Recollection, forget_target
from os1.mind.steering import Steering
from os1.mind.told_me import told_me
from os1.mind.turn import Said, Turn
from os1.skills.contract import Desk, SkillAnswer
from os1.storage.conversations import ConversationLog, Status, StoredMessage
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore
from os1.when.gaps import describe_gap, describe_moment

MAX_MESSAGE_CHARS = 2_000_000
HISTORY_LOAD = 2000


class NotSetUp(OS1Error):
    pass


class Companion:
    def __init__(
        self,
        model: Model,
        db: Database,
        settings: Settings,
        *,
        steering: Steering | None = None,
        clock: Callable[[], float] = time.time,
        memory: Recollection | None = None,
        busy: Callable[[], AbstractContextManager[object]] = nullcontext,
        after_reply: Callable[[], None] = lambda: None,
        desk: Desk | None = None,
        critic: Critic | None = None,
    ) -> None:
        """``memory`` gives her long-term memory and mood (None: only the conversation);
        ``desk`` answers the requests it knows (her mail) from data, not the model;
        ``busy`` wraps each reply (the memory worker keeps off the CPU meanwhile) and
        ``after_reply`` runs once each reply is stored (it wakes the worker); ``critic``
        hears each sentence of hers before it is said (with ``steering``)."""
        self.model = model
        self.settings = settings
        self.log = ConversationLog(db, settings.user)
        self.setups = SetupStore(db, settings.user)
        self.persona = Persona.load()
        self.steering = steering
        self.clock = clock
        self.memory = memory
        self._busy = busy
        self._after_reply = after_reply
        self.desk = desk
        self.critic = critic
        self.session_id: int | None = None
        self._labels = {q["key"]: q["label"] for q in read_toml("setup.toml")["questions"]}
        self._budget = Budget(model.context_size, settings.max_reply_tokens)
        # counted by whichever model is hers now (a server moves her between model workers)
        self._window = HistoryWindow(self._budget, lambda text: self.model.count_tokens(text),
                                     self.persona.truncated_note)
        self._system: tuple[tuple[SetupRecord, int], list[Message], int] | None = None

    # -- identity -------------------------------------------------------------------

    @property
    def identity(self) -> SetupRecord:
        setup = self.setups.current()
        if setup is None:
            raise NotSetUp("She hasn't been set up yet.", "Run: os1 setup")
        return setup

    def system_prompt(self) -> tuple[str, int]:
        """Her system prompt, and the tokens of the whole prefix (with her examples)."""
        prefix, tokens = self.prefix()
        return prefix[0].content, tokens

    def prefix(self) -> tuple[list[Message], int]:
        """The system prompt and her example exchanges. Changes only with the setup or a
        new version of her self-model (after a reflection), so it stays an evaluated
        prefix between those."""
        setup = self.identity
        me = self.memory.selves.current() if self.memory is not None else None
        key = (setup, me.id if me is not None else 0)
        if self._system is None or self._system[0] != key:
            text = self.persona.system_prompt(setup, self._labels,
                                              me.model.describe() if me is not None else "")
            messages = [Message("system", text), *self.persona.example_messages(setup)]
            tokens = sum(self.model.count_tokens(m.content) + 8 for m in messages)
            self._system = (key, messages, tokens)
        return list(self._system[1]), self._system[2]

    # -- turns ----------------------------------------------------------------------

    def open_session(self, client: str) -> None:
        self.session_id = self.log.start_session(client)

    def reply(self, text: str, *, spoken: bool = False, client_id: str | None = None) -> Turn:
        """Store what the user said, then return her reply as a stream.

        ``spoken``: a voice turn. She is told she is speaking aloud, and the reply is held
        (see ``Turn.settle``) until the voice pipeline knows what was heard.
        ``client_id``: the sender's key for the message (os1 serve); one already stored
        raises ``DuplicateError`` before anything else happens."""
        text = text.encode("utf-8", "replace").decode("utf-8")
        if not text.strip():
            raise EmptyMessage("That message is empty, so there's nothing for her to answer.",
                               "Type something and press Enter.")
        if len(text) > MAX_MESSAGE_CHARS:
            raise MessageTooLong(
                f"That message is {len(text):,} characters; the most she takes is "
                f"{MAX_MESSAGE_CHARS:,}. Nothing was stored.",
                "Send it in smaller parts.",
            )
        session = self._session()
        history = self._history()
        said = self.log.append(session, "user", text, at=self.clock(), client_id=client_id)
        target = forget_target(text) if self.memory is not None else None
        if self.memory is not None and target is not None:
            return self._forget(self.memory, said.id, target, spoken)
        answer = self.desk.answer(text) if self.desk is not None else None
        if answer is not None:
            return self._answered(answer, held=spoken, said_id=said.id)
        fitted = fit_text(text, self._budget.message_tokens, self.model.count_tokens,
                          self.persona.truncated_note)
        notice = None
        if fitted.omitted_chars:
            notice = (f"Your message is {len(text):,} characters, more than she can read at "
                      f"once: she'll read the beginning and the end ({fitted.omitted_chars:,} "
                      "characters in the middle skipped). The whole message is saved.")
        message = self._said(fitted.text, spoken, said.created_at, said.id)
        return self._turn(history, message, notice, held=spoken, said=text, said_id=said.id)

    def _forget(self, memory: Recollection, request_id: int, what: str, spoken: bool) -> Turn:
        if not what:
            memory.forget_previous(request_id)
            prompt = "prompts/forgotten.txt"
        else:
            forgotten = memory.forget_about(request_id, what)
            prompt = ("prompts/forgotten_about.txt" if forgotten.messages or forgotten.memories
                      else "prompts/forgot_nothing.txt")
        note = fill(read_text(prompt), user_name=self.identity.user_name)
        return self._turn(self._history(), Said(note), None, held=spoken, said_id=request_id)

    def anticipate(self, text: str, *, spoken: bool = False) -> None:
        """Evaluate the prompt a reply to ``text`` would get, while the user is still
        speaking (``text`` is what they have said so far, maybe nothing): when they finish,
        the model reuses it and evaluates only what changed. Stores nothing, moves no mood."""
        prefill = getattr(self.model, "prefill", None)
        if prefill is None:
            return
        fitted = fit_text(text[:MAX_MESSAGE_CHARS], self._budget.message_tokens,
                          self.model.count_tokens, self.persona.truncated_note)
        message = self._said(fitted.text, spoken, self.clock(), None)
        with self._busy():
            prefill(self._prompt(self._history(), message, 0))

    def greet(self) -> Turn | None:
        """A greeting that knows how long it has been and, if something from before is on
        her mind, brings it up; None on a first meeting."""
        last = self.log.last()
        if last is None:
            return None
        now = self.clock()
        thread = self.memory.thread(now) if self.memory is not None else None
        thought = "" if thread is None else fill(read_text("prompts/greeting_thread.txt"),
                                                 thought=thread[0], when=thread[1])
        note = fill(read_text("prompts/greeting.txt"), user_name=self.identity.user_name,
                    since=describe_gap(now - last.created_at),
                    last_when=describe_moment(last.created_at, now), thread=thought.rstrip())
        self._session()
        return self._turn(self._history(), Said(note), None)

    def say_first(self, text: str) -> Turn:
        """Words of hers written before he came (a message she started while he was away,
        os1/life/), said as the conversation opens and kept as hers, like a greeting."""
        self._session()
        return self._answered(SkillAnswer(text, text), held=False, said_id=None)

    def introduce(self) -> Turn:
        """Her first words after setup: hello, her name, and why she chose it."""
        setup = self.identity
        note = fill(read_text("prompts/introduction.txt"), user_name=setup.user_name,
                    name=setup.companion_name)
        self._session()
        return self._turn([], Said(note), None)

    def warm_up(self) -> None:
        """Evaluate the system prompt and recent history ahead of the first message."""
        prefill = getattr(self.model, "prefill", None)
        if prefill is not None:
            prefill(self._prompt(self._history(), None, 0))

    # -- internals ------------------------------------------------------------------

    def _history(self) -> list[StoredMessage]:
        """The messages the history window may use: those from its start on (so that
        the prompt's prefix stays put), at most HISTORY_LOAD of the newest."""
        return self.log.since(self._window.start_id, HISTORY_LOAD)

    def _said(self, text: str, spoken: bool, at: float, message_id: int | None) -> Said:
        """``text`` with her notes: spoken, that she is talking aloud, then what she
        recalls and her mood (memory/notes.py). The spoken note comes first, so a prompt
        evaluated before the user has finished speaking (``anticipate``) has it already.
        With ``message_id`` the message moves her mood (a real turn), else the mood is read
        (and no note is checked for an answer: that costs her model's time).
        A question about his own life gets a note that she doesn't make his life up."""
        notes = [read_text("prompts/spoken.txt").strip()] if spoken else []
        if self.memory is not None:
            mood = (self.memory.mood.current(at) if message_id is None
                    else self.memory.feel(text, message_id, at))
            names = (self.identity.user_name, self.identity.companion_name)
            recalled = self.memory.notes_for(text, at, self._window.start_id,
                                             self.model.count_tokens, names) \
                if text.strip() else ""
            notes.append(notes_block(self.identity.user_name, recalled, mood.tone))
        told = ""
        if self.steering is not None and asks_about_himself(text):
            told = self._told(text) if message_id is not None else ""
            notes += self._about_himself(text, message_id, told)
        return Said(text, "\n\n".join(n for n in notes if n), told)

    def _about_himself(self, text: str, message_id: int | None, told: str) -> list[str]:
        """Notes for a question about his own life: the small model made answers up
        ("Your sister's name is Sarah") where it had no note to go on, and overlooked
        the one it had; what he said earlier and ``told`` (her note that answers it)
        are quoted beside his question."""
        name = self.identity.user_name
        notes = []
        earlier = said_earlier(text, [m.content for m in self._history()
                                      if m.role == "user" and m.id != message_id])
        if earlier is not None:
            notes.append(fill(read_text("prompts/he_said_earlier.txt").strip(),
                              user_name=name, said=" ".join(earlier.split())[:300]))
        if told:
            notes.append(fill(read_text("prompts/he_told_me.txt").strip(), user_name=name,
                              note=" ".join(told.split())[:300]))
        notes.append(fill(read_text("prompts/about_them.txt").strip(), user_name=name))
        return notes

    def _told(self, text: str) -> str:
        """Her note that answers his question about himself, her model asked of the
        nearest few (told_me.py); "" without one, or without memory."""
        if self.memory is None:
            return ""
        asking = told_me()
        notes = self.memory.nearest_notes(text, asking.kinds, asking.candidates)
        if not notes:
            return ""
        with self._busy():
            return asking.answering(self.model, text, notes) or ""

    def _session(self) -> int:
        if self.session_id is None:
            self.open_session("api")
        assert self.session_id is not None
        return self.session_id

    def _prompt(self, history: list[StoredMessage], last: Said | None, attempt: int)\
            -> list[Message]:
        """System prompt, the history that fits, then her notes (with, on a regeneration,
        the reminder to stay herself) and what she is answering. Room for the reminder is
        kept on every attempt, so a regeneration sees the same history (and reuses it)."""
        prefix, prefix_tokens = self.prefix()
        tail: list[Message] = []
        reminder = self.persona.reminder_for(self.identity)
        reserved = 0
        if last is not None:
            notes = last.notes
            if attempt > 0:
                notes = f"{notes}\n\n{reminder}" if notes else reminder
            else:
                reserved = self.model.count_tokens(reminder) + 8
            if notes:
                tail.append(Message("system", notes))
            tail.append(Message("user", last.text))
        tail_tokens = sum(self.model.count_tokens(m.content) + 8 for m in tail) + reserved
        available = self._budget.prompt_tokens - prefix_tokens - tail_tokens
        return prefix + self._window.select(history, max(0, available)) + tail

    def _options(self, attempt: int, form: Form) -> GenerateOptions:
        """Each regeneration pushes harder: the bias and the temperature grow with the
        attempt number. A form he asked for (two lines, three words) is a grammar."""
        scale = 1 + attempt
        if self.steering is None:
            return GenerateOptions(max_tokens=self.settings.max_reply_tokens)
        bias = {k: v * scale for k, v in self.steering.bias.items()}
        return self.steering.sampling.options(self.settings.max_reply_tokens, attempt, bias,
                                              form.grammar())

    def _answered(self, answer: SkillAnswer, held: bool, said_id: int | None) -> Turn:
        """A reply that is known already (the desk's); the log keeps ``answer.kept``, and
        the turn carries the answer's sound for the face to play."""
        turn = Turn(iter(()), held=held, said_id=said_id, sound=answer.sound)

        def keep(_: str, status: Status) -> int:
            return self._store_reply(answer.kept, status)

        def pieces() -> Iterator[str]:
            turn.text, turn.status = answer.said, "complete"
            yield answer.said
            if held:
                turn.hold(keep)
            else:
                turn.reply_id = keep(answer.said, "complete")

        return turn.streaming(pieces())

    def _turn(self, history: list[StoredMessage], last: Said, notice: str | None,
              held: bool = False, said: str = "", said_id: int | None = None) -> Turn:
        """``said``: the user's own words, which her reply must not open by repeating."""
        turn = Turn(iter(()), notice=notice, held=held, said_id=said_id)
        return turn.streaming(self._run(turn, history, last, said))

    def _run(self, turn: Turn, history: list[StoredMessage], last: Said,
             said: str) -> Iterator[str]:
        form = self.steering.form.read(said) if self.steering is not None and said else Form()

        def generate(attempt: int) -> Iterator[str]:
            return self.model.stream_chat(self._prompt(history, last, attempt),
                                          self._options(attempt, form))

        character = None if self.steering is None else InCharacter(
            self.steering, self.persona, self.critic, self.identity)
        pieces: Iterator[str] = iter(())
        status: Status = "interrupted"
        busy = self._busy()
        busy.__enter__()
        try:
            if character is None:
                pieces = generate(0)
            else:
                pieces = character.reply(generate, turn.guard, form, said, history, last)
            for piece in pieces:
                turn.text += piece
                yield piece
            if not turn.text.strip():
                turn.text = self.persona.lost_for_words
                yield turn.text
            status = "complete"
        except OS1Error:
            status = "failed"
            raise
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
            turn.status = status
            busy.__exit__(None, None, None)
            if turn.held:
                turn.hold(self._store_reply)
            elif turn.text or status == "complete":
                turn.reply_id = self._store_reply(turn.text, status)

    def _store_reply(self, text: str, status: Status) -> int:
        stored = self.log.append(self._session(), "assistant", text, status, at=self.clock())
        self._after_reply()
        return stored.id
