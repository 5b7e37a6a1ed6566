"""schemathesis against the OpenAPI spec: generated requests to every documented
operation (with a valid token, and without) must never get a server error. 503 is allowed
only as the documented "not available" answer, which needs the model to be loading."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.core.result import Ok

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.server.gate import RateLimiter
from tests.unit.test_server import serve, sign_up


@pytest.fixture
def running(settings: Settings) -> Iterator[TestClient]:
    client = serve(settings, FakeModel())
    yield client
    client.__exit__(None, None, None)


def test_no_generated_request_gets_a_server_error(running: TestClient) -> None:
    token = sign_up(running, "fuzz")
    # a budget this small would answer most generated requests 429, testing nothing deeper
    running.app.state.os1.limiter = RateLimiter(per_minute=1e6, burst=10**6)  # type: ignore[attr-defined]
    seen: Counter[tuple[str, int]] = Counter()
    schema = schemathesis.openapi.from_asgi("/openapi.json", running.app)
    results = list(schema.get_all_operations())
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    assert len(operations) == len(results)  # the spec is valid throughout
    operations.sort(key=lambda op: op.method.upper() == "DELETE")  # log out last
    assert len(operations) >= 10
    failures: list[str] = []
    for operation in operations:
        @given(case=operation.as_strategy())
        # derandomized: the same requests every run, so "reached a 200" cannot come and go
        @settings(max_examples=20, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def no_server_error(case: Case) -> None:  # type: ignore[type-arg]
            for headers in ({"Authorization": f"Bearer {token}"}, {}):
                response = case.call(headers=headers)
                seen[(case.path, response.status_code)] += 1
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.path} {case.path_parameters} "
                                    f"{case.query} {case.body!r}: {response.status_code} "
                                    f"{response.text[:200]}")

        no_server_error()
    assert failures == []
    # the generated requests got past validation and authentication, and were refused too
    for reached in (("/v1/chat/completions", 200), ("/v1/chat/completions", 400),
                    ("/api/history", 200), ("/api/history", 401), ("/api/sessions", 401)):
        assert seen[reached] > 0, (reached, sorted(seen.items()))
