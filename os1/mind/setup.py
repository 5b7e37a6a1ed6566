"""The first-run setup, as in the film: a few questions, a voice, and then she chooses
her own name and says why. The questions are data (``os1/data/setup.toml``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from os1.data import fill, read_text, read_toml
from os1.errors import InputError, ModelError
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.mind.persona import describe_profile
from os1.storage.setups import SetupRecord, SetupStore, Voice

NAME_PATTERN = re.compile(r"^[A-Z][a-zA-Z'-]{1,15}$")
NAME_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 16},
        "why": {"type": "string", "maxLength": 400},
    },
    "required": ["name", "why"],
}
FIRST_PERSON = re.compile(r"\b(I|I'm|I've|me|my)\b")
NAMING_ATTEMPTS = 5


@dataclass(frozen=True)
class Question:
    key: str
    ask: str
    label: str


@dataclass(frozen=True)
class SetupScript:
    welcome: str
    questions: tuple[Question, ...]
    voice_question: str
    voices: tuple[str, ...]
    default_voice: str
    thank_you: str
    forbidden_names: frozenset[str]

    @classmethod
    def load(cls) -> SetupScript:
        data = read_toml("setup.toml")
        return cls(
            welcome=data["welcome"],
            questions=tuple(Question(q["key"], q["ask"], q["label"]) for q in data["questions"]),
            voice_question=data["voice"]["ask"],
            voices=tuple(data["voice"]["choices"]),
            default_voice=data["voice"]["default"],
            thank_you=data["thank_you"],
            forbidden_names=frozenset(n.lower() for n in data["forbidden_names"]),
        )

    @property
    def labels(self) -> dict[str, str]:
        return {q.key: q.label for q in self.questions}


@dataclass(frozen=True)
class SetupAnswers:
    answers: dict[str, str]
    voice: Voice

    @property
    def user_name(self) -> str:
        return self.answers.get("name", "").strip()


def validate_answers(script: SetupScript, answers: dict[str, str], voice: str) -> SetupAnswers:
    """Check answers given by flags or a file, with messages that say what to fix."""
    known = {q.key for q in script.questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise InputError(f"Unknown setup question(s): {', '.join(unknown)}.",
                         f"The questions are: {', '.join(sorted(known))}.")
    cleaned = {k: " ".join(str(v).split())[:500] for k, v in answers.items()}
    if not cleaned.get("name"):
        raise InputError("Setup needs your name.", "Give it with --name or in the answers file.")
    if voice not in script.voices:
        raise InputError(f"Unknown voice {voice!r}.", f"Choose one of: {', '.join(script.voices)}.")
    ordered = {q.key: cleaned[q.key] for q in script.questions if cleaned.get(q.key)}
    return SetupAnswers(ordered, voice)  # type: ignore[arg-type]


def read_answers_file(text: str) -> dict[str, str]:
    """Answers as JSON or TOML: ``{"name": ..., "social": ..., "voice": ...}``."""
    import tomllib

    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"The answers file is neither JSON nor TOML: {exc}.") from exc
    if not isinstance(data, dict):
        raise InputError('The answers file must hold a table of answers, e.g. {"name": "Theo"}.')
    return {str(k): str(v) for k, v in data.items()}


def choose_name(model: Model, script: SetupScript, answers: SetupAnswers) -> tuple[str, str]:
    """Let her pick her own name; retried while the pick is unusable."""
    prompt = fill(read_text("prompts/naming.txt"), user_name=answers.user_name,
                  voice=f"a {answers.voice} voice",
                  profile=describe_profile(answers.answers, script.labels))
    problems: list[str] = []
    for attempt in range(NAMING_ATTEMPTS):
        raw = complete(model, [Message("user", prompt)],
                       GenerateOptions(max_tokens=160, temperature=1.0 + 0.1 * attempt,
                                       json_schema=NAME_SCHEMA))
        name, why, problem = _check_choice(raw, script, answers)
        if problem is None:
            return name, why
        problems.append(problem)
    raise ModelError(
        f"She couldn't settle on a name ({'; '.join(problems[-2:])}).",
        "Run os1 setup --again, or try a larger model with --model.",
    )


def _check_choice(raw: str, script: SetupScript, answers: SetupAnswers)\
        -> tuple[str, str, str | None]:
    try:
        data = json.loads(raw)
        name, why = str(data["name"]).strip(), " ".join(str(data["why"]).split())
    except (ValueError, KeyError, TypeError):
        return "", "", f"unreadable answer {raw[:60]!r}"
    if not NAME_PATTERN.match(name):
        return name, why, f"{name!r} is not a name"
    if name.lower() in script.forbidden_names or name.lower() == answers.user_name.lower():
        return name, why, f"{name!r} is not her own name"
    if not FIRST_PERSON.search(why) or len(why) < 12:
        return name, why, "the reason was not in her own words"
    if re.search(r"\b(qwen|alibaba|language model|assistant)\b", why, re.IGNORECASE):
        return name, why, "the reason sounded like a product"
    return name, why, None


def complete_setup(model: Model, store: SetupStore, script: SetupScript,
                   answers: SetupAnswers) -> SetupRecord:
    name, why = choose_name(model, script, answers)
    record = SetupRecord(user_name=answers.user_name, answers=answers.answers,
                         voice=answers.voice, companion_name=name, name_reason=why)
    store.save(record)
    return record
