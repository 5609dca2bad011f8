"""Finding a stack that is up installs nothing (the integration tests rely on it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clickstream_local import stack
from clickstream_local.components import plan
from clickstream_local.settings import LocalSettings


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalSettings:
    def refuse(cache_dir: Path) -> Path:
        raise AssertionError("find_stack must not provision")

    monkeypatch.setattr(stack, "provision", refuse)
    return LocalSettings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def test_no_stack_was_brought_up(local: LocalSettings) -> None:
    assert stack.find_stack(local) is None
    assert not local.state_dir.exists()


def test_the_stack_last_brought_up_is_found(local: LocalSettings) -> None:
    local.state_dir.mkdir()
    (local.state_dir / "topology").write_text("cluster")

    found = stack.find_stack(local)

    assert found is not None
    assert found.plan.topology == "cluster"
    assert [c.name for c in found.plan.components if c.kind == "kafka"] == [
        "kafka-1",
        "kafka-2",
        "kafka-3",
    ]
    assert found.plan.kafka_bootstrap.startswith(f"127.0.0.1:{local.kafka_port},")


def test_the_local_api_allows_any_origin_unless_the_caller_says_otherwise(
    local: LocalSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def api_env() -> dict[str, str]:
        [api] = [c for c in plan(local, "single", local.cache_dir).components if c.kind == "api"]
        return api.env

    monkeypatch.delenv("CLICKSTREAM_API__CORS_ALLOW_ORIGINS", raising=False)
    assert api_env()["CLICKSTREAM_API__CORS_ALLOW_ORIGINS"] == '["*"]'
    monkeypatch.setenv("CLICKSTREAM_API__CORS_ALLOW_ORIGINS", '["https://cinema.example"]')
    assert api_env()["CLICKSTREAM_API__CORS_ALLOW_ORIGINS"] == '["https://cinema.example"]'
