"""The CLI's plugin seam: `clickstream local` comes from the development stack, if installed."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from clickstream import cli
from clickstream_local.cli import LocalCommand


def _registered(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    entry_point = EntryPoint(name="local", value=value, group=cli.COMMANDS_GROUP)
    monkeypatch.setattr(cli, "entry_points", lambda group: [entry_point])


def test_the_dev_venv_registers_the_local_stack() -> None:
    args = cli._parser().parse_args(["local", "stop", "kafka-2", "--kill"])

    assert isinstance(args.plugin, LocalCommand)
    assert (args.action, args.component, args.kill) == ("stop", "kafka-2", True)


def test_an_installation_without_the_dev_stack_says_what_it_is(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As in the wheel: the entry point is there, its package is not.
    _registered(monkeypatch, "clickstream_no_such_package.cli:command")

    code = cli.main(["local", "up", "--topology", "cluster", "--detach"])

    assert code == 2
    error = capsys.readouterr().err
    assert "the local stack is a development tool" in error
    assert "run it from a checkout of the repository (make up)" in error


def test_a_broken_plugin_is_not_mistaken_for_a_missing_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The package exists, a module it names does not: a bug to show, not hide.
    _registered(monkeypatch, "clickstream_local.no_such_module:command")

    with pytest.raises(ModuleNotFoundError):
        cli._parser()
