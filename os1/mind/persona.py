"""Her persona, loaded from ``os1/data/persona.toml`` and ``examples.toml``, and turned into
the start of every prompt: a system prompt (her character, his setup answers, her view of
herself), then a few exchanges in her voice.

Why examples: told not to sound like a help desk, the small model still did; shown a
dozen short exchanges in her voice (tiredness, sad news, a poem of two lines, a question
about him she can't answer...), it answers the next one in kind. The whole start depends
only on the persona, the setup and her self-model, never on the clock or the
conversation, so its tokens stay a stable prefix that the model evaluates once.
"""

from __future__ import annotations

from dataclasses import dataclass

from os1.data import fill, read_toml
from os1.llm.base import Message
from os1.storage.setups import SetupRecord


@dataclass(frozen=True)
class Persona:
    version: int
    essence: str
    manner: tuple[str, ...]
    profile_intro: str
    self_intro: str
    reminder: str
    truncated_note: str
    lost_for_words: str
    never_told: str
    told_me: str = "{told}"
    not_theirs: str = "{other}, not {asked}."
    examples: tuple[tuple[str, str], ...] = ()

    @classmethod
    def load(cls) -> Persona:
        data = read_toml("persona.toml")
        return cls(
            version=int(data["version"]),
            essence=str(data["essence"]).strip(),
            manner=tuple(str(line) for line in data["manner"]),
            profile_intro=str(data["profile_intro"]),
            self_intro=str(data["self_intro"]),
            reminder=str(data["reminder"]),
            truncated_note=str(data["truncated_note"]),
            lost_for_words=str(data["lost_for_words"]),
            never_told=str(data["never_told"]),
            told_me=str(data["told_me"]),
            not_theirs=str(data["not_theirs"]),
            examples=tuple((str(e["his"]), str(e["hers"]))
                           for e in read_toml("examples.toml")["exchange"]),
        )

    def system_prompt(self, setup: SetupRecord, profile_labels: dict[str, str],
                      self_description: str = "") -> str:
        values = {"name": setup.companion_name, "user_name": setup.user_name,
                  "name_reason": setup.name_reason}
        lines = [fill(self.essence, **values), ""]
        lines += [f"- {fill(rule, **values)}" for rule in self.manner]
        # His name is in the line introducing the profile; listed under it as "Your name:
        # Theo", the small model took it for its own ('Theo: "Ana is a pianist..."').
        answers = {k: v for k, v in setup.answers.items() if k != "name"}
        profile = describe_profile(answers, profile_labels)
        if profile:
            lines += ["", fill(self.profile_intro, **values), profile]
        if self_description:
            lines += ["", fill(self.self_intro, **values), self_description]
        return "\n".join(lines)

    def example_messages(self, setup: SetupRecord) -> list[Message]:
        """Her example exchanges with his name and hers filled in, as turns of the chat."""
        values = {"name": setup.companion_name, "user_name": setup.user_name}
        messages: list[Message] = []
        for his, hers in self.examples:
            messages += [Message("user", fill(his, **values)),
                         Message("assistant", fill(hers, **values))]
        return messages

    def reminder_for(self, setup: SetupRecord) -> str:
        return fill(self.reminder, name=setup.companion_name, user_name=setup.user_name)


def describe_profile(answers: dict[str, str], labels: dict[str, str]) -> str:
    """One line per setup answer, labelled, in question order."""
    return "\n".join(
        f"- {labels.get(key, key)}: {value}" for key, value in answers.items() if value.strip()
    )
