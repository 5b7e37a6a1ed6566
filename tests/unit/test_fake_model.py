"""The scripted model the other unit tests stand on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from os1.errors import BackendUnavailable, ConfigError
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.llm.fake import FakeModel

HELLO = [Message("system", "be nice"), Message("user", "hello there")]
OPTIONS = GenerateOptions()


def test_is_a_model() -> None:
    assert isinstance(FakeModel(), Model)


def test_enqueued_replies_play_in_order_then_echo() -> None:
    model = FakeModel()
    model.enqueue("first", "second")
    model.enqueue("third")
    assert [complete(model, HELLO, OPTIONS) for _ in range(4)] == [
        "first", "second", "third", "You said: hello there"]


def test_echo_uses_the_last_user_message_cut_to_200_chars() -> None:
    model = FakeModel()
    messages = [Message("user", "old"), Message("assistant", "reply"),
                Message("user", "x" * 500)]
    assert complete(model, messages, OPTIONS) == "You said: " + "x" * 200
    assert complete(model, [Message("system", "only system")], OPTIONS) == "You said: "


def test_streams_in_pieces_that_join_to_the_reply() -> None:
    model = FakeModel()
    text = "I missed you.  How was the\nwalk by the sea?"
    model.enqueue(text)
    pieces = list(model.stream_chat(HELLO, OPTIONS))
    assert len(pieces) == 10
    assert "".join(pieces) == text


def test_max_tokens_cuts_the_reply() -> None:
    model = FakeModel()
    model.enqueue("one two three four five")
    assert complete(model, HELLO, GenerateOptions(max_tokens=3)) == "one two three "


def test_calls_are_recorded_with_messages_and_options() -> None:
    model = FakeModel()
    options = GenerateOptions(max_tokens=7, logit_bias={" AI": -6.0})
    complete(model, HELLO, options)
    (call,) = model.calls
    assert call.messages == HELLO
    assert call.options is options


def test_fail_with_raises_once_then_recovers() -> None:
    model = FakeModel()
    model.fail_with = BackendUnavailable("down")
    with pytest.raises(BackendUnavailable, match="down"):
        complete(model, HELLO, OPTIONS)
    assert model.fail_with is None
    assert complete(model, HELLO, OPTIONS) == "You said: hello there"
    assert len(model.calls) == 2


def test_count_tokens_and_close() -> None:
    model = FakeModel(context_size=123)
    assert model.context_size == 123
    assert model.count_tokens("Hello, world!") == 4
    assert model.count_tokens("") == 0
    model.close()
    assert model.closed


def test_from_spec_plain_echoes() -> None:
    model = FakeModel.from_spec("fake", 2048)
    assert model.context_size == 2048
    assert not model.replies


def test_from_spec_reads_a_json_list(tmp_path: Path) -> None:
    path = tmp_path / "replies.json"
    path.write_text(json.dumps(["hi", 42, "bye"]), encoding="utf-8")
    model = FakeModel.from_spec(f"fake:{path}", 4096)
    assert list(model.replies) == ["hi", "42", "bye"]


@pytest.mark.parametrize(("content", "expected"), [
    (None, "Can't read fake replies"),
    ("[not json", "Can't read fake replies"),
    (b"\xff\xfe\x00", "Can't read fake replies"),
    ('{"a": "dict"}', "must hold a JSON list"),
    ('"just a string"', "must hold a JSON list"),
])
def test_from_spec_bad_file_gives_config_error(tmp_path: Path, content: str | bytes | None,
                                               expected: str) -> None:
    path = tmp_path / "replies.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected) as caught:
        FakeModel.from_spec(f"fake:{path}", 4096)
    assert str(path) in str(caught.value)
