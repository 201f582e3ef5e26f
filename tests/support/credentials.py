"""A token credential for tests: a fixed bearer token, no network, no Entra ID.

The real `LogsQueryClient` asks its credential for a token through azure-core's
`BearerTokenCredentialPolicy`; this one answers from memory, so tests exercise the production client
end to end without ever contacting login.microsoftonline.com or the instance metadata service.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

TOKEN_LIFETIME_S = 3600


class StaticTokenCredential:
    """Implements `TokenCredential` and `SupportsTokenInfo` (azure-core >= 1.31 prefers `get_token_info`).

    `calls` counts every token request, whichever method was used, so tests can prove that a token was
    (or was not) requested; `scopes` records what was asked for.
    """

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.calls = 0
        self.scopes: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    def _record(self, scopes: tuple[str, ...]) -> int:
        with self._lock:
            self.calls += 1
            self.scopes.append(scopes)
        return int(time.time()) + TOKEN_LIFETIME_S

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        return AccessToken(self.token, self._record(scopes))

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, self._record(scopes))

    def close(self) -> None:
        """Nothing to release; present because `SupportsTokenInfo` is a context manager."""

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
