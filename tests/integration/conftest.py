"""Integration fixtures: the real bundled model, assembled once into the shared cache.

Every test under tests/integration is marked ``integration`` here, whether or not its
module says so, so ``-m "not integration"`` (``./run-tests --fast``) selects exactly the
unit tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from os1.config import load_settings
from os1.llm.bundled import CHAT_MODEL, ensure_assembled
from os1.llm.llama import LlamaModel


@pytest.fixture(scope="session")
def bundled_model_path() -> Path:
    return ensure_assembled(CHAT_MODEL, load_settings().cache_dir)


@pytest.fixture(scope="session")
def real_model(bundled_model_path: Path) -> Iterator[LlamaModel]:
    model = LlamaModel(bundled_model_path, context_size=4096)
    yield model
    model.close()


@pytest.fixture
def os1_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the real ``os1`` command on a fresh data dir."""
    env = dict(os.environ)
    env["OS1_HOME"] = str(tmp_path / "home")
    env["OS1_MAX_REPLY_TOKENS"] = "80"
    env["PYTHONUNBUFFERED"] = "1"
    return env


OS1 = [sys.executable, "-m", "os1"]
INTEGRATION = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A conftest's hook sees every collected test, so only those under this folder."""
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)
