"""Where loaded workspaces are cached on this machine (docs/exports.md#cache).

`VPNBOT_CACHE_DIR` names the directory (`off` keeps nothing); otherwise `$XDG_CACHE_HOME/vpnbot`, else
`~/.cache/vpnbot`. Loaded exports live under `exports/` (their file name carries the content hash and the reader
version), the demo's week under `demo/` (keyed by its generator's version and the day, bot/demo_cache.py); the
directory can be removed at any time, the next question loads the file again.
"""

from __future__ import annotations

import os
from pathlib import Path

from diagnostics.azure.workspace_cache import WorkspaceCache

DISABLED = ("off", "none", "0", "false", "no")


def cache_root() -> Path | None:
    """The cache directory, or None when caching is off."""
    configured = os.environ.get("VPNBOT_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in DISABLED or not configured.strip() else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vpnbot"


def export_cache() -> WorkspaceCache:
    """The cache of loaded Azure exports."""
    root = cache_root()
    return WorkspaceCache(root / "exports" if root else None)


#: The demo's weeks are small (a few MB each) and one a day is enough: the oldest go first past this.
DEMO_MAX_BYTES = 256 << 20


def demo_cache() -> WorkspaceCache:
    """The cache of the demo's weeks (bot/demo_cache.py), next to the exports'."""
    root = cache_root()
    return WorkspaceCache(root / "demo" if root else None, max_bytes=DEMO_MAX_BYTES)
