"""A model server's password is never shown or logged (issue 25)."""

from __future__ import annotations

import pytest

from os1.errors import BackendUnavailable
from os1.llm.base import GenerateOptions, Message
from os1.llm.openai_http import OpenAIChatModel, shown_url
from os1.llm.resolve import describe_spec


@pytest.mark.parametrize(("url", "shown"), [
    ("https://me:s3cret@llm.example:8443/v1", "https://me:***@llm.example:8443/v1"),
    ("http://:tok@127.0.0.1:9", "http://:***@127.0.0.1:9"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
])
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_neither_the_start_line_nor_an_error_carries_the_password() -> None:
    url = "http://theo:s3cret@127.0.0.1:9"  # nothing listens on port 9
    assert "s3cret" not in describe_spec(url)
    model = OpenAIChatModel(url, "m", "", 2.0, 4096)
    assert "s3cret" not in model.name
    with pytest.raises(BackendUnavailable) as failed:
        list(model.stream_chat([Message("user", "hi")], GenerateOptions(max_tokens=1)))
    assert "s3cret" not in str(failed.value) and "***" in str(failed.value)
