"""`python -m bot` on the command line: --help lists every operators' command; an unknown
one is refused in one line instead of starting the console chat."""

from __future__ import annotations

import pytest

from bot import __main__ as cli


def test_help_lists_every_subcommand(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["bot", "--help"])
    assert cli.main() == 0
    out = capsys.readouterr().out
    for name in cli.SUBCOMMANDS:
        assert f"python -m bot {name}" in out


def test_an_unknown_subcommand_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["bot", "awardz"])
    assert cli.main() == 2
    assert "unknown command 'awardz'" in capsys.readouterr().err


def test_every_subcommand_module_has_a_main() -> None:
    import importlib

    for module, _help in cli.SUBCOMMANDS.values():
        assert callable(importlib.import_module(module).main)
