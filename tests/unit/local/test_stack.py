"""Finding a stack that is up installs nothing (the integration tests rely on it)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from clickstream_local import kafka_config, stack
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


def test_a_kafka_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kafka's storage tool reads "-t -Agc..." as two options and refuses to
    # format; one UUID in 64 encodes to an id starting with "-".
    dashed = uuid.UUID(bytes=base64.urlsafe_b64decode("-AgcnSglQ5GlnjXSoavArA=="))
    plain = uuid.UUID(bytes=base64.urlsafe_b64decode("AgcnSglQ5GlnjXSoavArAA=="))
    drawn = iter([dashed, plain])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))

    assert kafka_config.new_cluster_id() == "AgcnSglQ5GlnjXSoavArAA"


def test_the_storage_tool_gets_the_cluster_id_as_one_token(local: LocalSettings) -> None:
    (local.state_dir / "single").mkdir(parents=True)
    (local.state_dir / "single" / "kafka-cluster-id").write_text("-AgcnSglQ5GlnjXSoavArA")
    [kafka] = [c for c in plan(local, "single", local.cache_dir).components if c.kind == "kafka"]

    [format_argv] = kafka.init

    assert "--cluster-id=-AgcnSglQ5GlnjXSoavArA" in format_argv
