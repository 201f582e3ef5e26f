"""`vpnbot` run in this process, as `python -m bot` would run it, with what it printed."""

from __future__ import annotations

import pytest

from bot.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `vpnbot *argv`."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
