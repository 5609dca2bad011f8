"""The operators' sub-commands refuse bad arguments before touching anything."""

from __future__ import annotations

import pytest

from clickstream.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["erase"],
        ["erase", "--user-id", "u", "--anonymous-id", "a"],
        ["dlq", "list", "--since", "yesterday"],
        ["dlq", "purge"],
        ["replay"],
        ["replay", "--from", "2024-13-01"],
        ["retention"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage: clickstream" in capsys.readouterr().err


def test_retention_needs_a_day_at_least(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "--days", "0"]) == 2
    assert "at least 1 day" in capsys.readouterr().err
