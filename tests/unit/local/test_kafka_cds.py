"""The class archive is used only once it exists, and a failed attempt is not repeated."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from clickstream_local import kafka_cds


@pytest.fixture
def libs(tmp_path: Path) -> Path:
    libs = tmp_path / "kafka" / "libs"
    libs.mkdir(parents=True)
    (libs / "kafka-clients-4.3.1.jar").write_bytes(b"jar")
    return libs


def test_no_archive_no_option(libs: Path) -> None:
    assert kafka_cds.archive_options(libs) == []


def test_an_archive_in_place_is_mapped(libs: Path) -> None:
    kafka_cds.archive_path(libs).write_bytes(b"archive")

    assert kafka_cds.archive_options(libs) == [
        f"-XX:SharedArchiveFile={kafka_cds.archive_path(libs)}"
    ]


def test_other_jars_get_another_archive(libs: Path) -> None:
    before = kafka_cds.archive_path(libs)
    (libs / "kafka-clients-4.3.1.jar").write_bytes(b"another jar")

    assert kafka_cds.archive_path(libs) != before


def test_a_failed_attempt_is_said_once_and_not_repeated(
    libs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = []

    def fail(libs: Path, options: list[str], path: Path) -> None:
        attempts.append(path)
        raise subprocess.CalledProcessError(1, ["java"])

    monkeypatch.setattr(kafka_cds, "_make", fail)
    said: list[str] = []

    assert kafka_cds.ensure_archive(libs, [], said.append) is None
    assert kafka_cds.ensure_archive(libs, [], said.append) is None

    assert len(attempts) == 1
    assert any("without it" in line for line in said)
    assert kafka_cds.archive_options(libs) == []
