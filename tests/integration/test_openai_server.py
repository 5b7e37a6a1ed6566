"""The HTTP backend against a real OpenAI-compatible server: llama.cpp's own
(``python -m llama_cpp.server``) serving the bundled model on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from os1.errors import BackendUnavailable
from os1.llm.base import GenerateOptions, Message
from os1.llm.openai_http import OpenAIChatModel
from tests.integration.conftest import OS1
from tests.integration.test_real_conversation import ANSWERS, run_os1

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(bundled_model_path: Path, tmp_path_factory: pytest.TempPathFactory)\
        -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "llama_server.log"
    log = log_path.open("wb")  # a file, not a pipe: its chatter must never block it
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_path),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
         "--model_alias", "qwen-local"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            raise RuntimeError("llama_cpp.server did not come up in 120 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_streams_a_reply_and_picks_the_only_model(server_url: str) -> None:
    model = OpenAIChatModel(server_url)
    pieces = list(model.stream_chat(
        [Message("user", "Say hello to Theo in one short sentence.")],
        GenerateOptions(max_tokens=30, temperature=0.0)))
    model.close()
    assert len(pieces) > 1, pieces  # streamed, not one blob
    assert "".join(pieces).strip()
    assert model.name.startswith("qwen-local @ ")


def test_json_schema_output_is_honoured(server_url: str) -> None:
    import json

    schema = {"type": "object", "properties": {"name": {"type": "string"}},
              "required": ["name"]}
    model = OpenAIChatModel(server_url + "/v1/", model="qwen-local")
    text = "".join(model.stream_chat(
        [Message("user", "Invent a first name for a robot. Answer as JSON.")],
        GenerateOptions(max_tokens=40, temperature=0.0, json_schema=schema)))
    model.close()
    assert isinstance(json.loads(text)["name"], str)


def test_os1_talks_through_the_server(server_url: str, os1_env: dict[str, str]) -> None:
    env = {**os1_env, "OS1_MODEL": server_url}
    assert run_os1(env, "setup", *ANSWERS).returncode == 0
    result = run_os1(env, "say", "Hi! What's a good name for a goldfish?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_a_server_that_goes_away_gives_a_clear_error(os1_env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    model = OpenAIChatModel(url, model="x", timeout=5)
    with pytest.raises(BackendUnavailable, match="Can't reach the model server"):
        list(model.stream_chat([Message("user", "hi")], GenerateOptions()))
    result = subprocess.run([*OS1, "say", "--model", url, "hello?"], env=os1_env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "os1 setup" in result.stderr or "Can't reach" in result.stderr
