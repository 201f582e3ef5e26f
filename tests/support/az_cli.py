"""A stand-in for the Azure CLI, for tests of `credential = "cli"`: the real `AzureCliCredential` runs `az`, and
finds this one first on PATH."""

from __future__ import annotations

import stat
from pathlib import Path


def fake_az(directory: Path, token: str) -> Path:
    """An `az` in `directory` that answers `az account get-access-token` like the real CLI, with `token`."""
    script = directory / "az"
    script.write_text(f"#!/bin/sh\necho '{{\"accessToken\": \"{token}\", \"expires_on\": 4102444800, "
                      f"\"tokenType\": \"Bearer\"}}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script
