"""The `[azure] credential` setting -> an azure-identity credential.

"default" walks DefaultAzureCredential's chain (environment, workload identity, managed identity, Azure CLI,
...), which is right for most hosts but slow to fail on a host where the first links do not apply; pinning one
skips the chain (docs/configuration.md#azure-credentials). Constructing a credential does no I/O: tokens are
requested only by the Log Analytics client, when it sends a query.

When no link of the default chain works, azure-identity logs its whole chain at WARNING (a dozen lines: each
credential and why it did not apply) before it raises; the bot already says it in one sentence (the source's
`SourceError`: "no usable Azure credential; run `az login`…"). So once the default chain is built, azure-identity's
warnings are moved to DEBUG (`ChainChatterToDebug`): still there for whoever turns DEBUG on, never on the console of
an operator; the error itself is raised as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from azure.core.credentials import TokenCredential
from azure.identity import (
    AzureCliCredential,
    DefaultAzureCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

#: azure-identity's loggers (its modules log under their own names; a logger's filters do not see its children's).
IDENTITY_LOGGER = "azure.identity"


class ChainChatterToDebug(logging.Filter):
    """Records of azure-identity below ERROR become DEBUG records: kept for DEBUG, out of the operator's console."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR or record.levelno <= logging.DEBUG:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_QUIET = ChainChatterToDebug()


def quiet_identity_logs() -> None:
    """Put the filter on every azure-identity logger (idempotent)."""
    names = [IDENTITY_LOGGER] + [n for n in logging.root.manager.loggerDict if n.startswith(IDENTITY_LOGGER + ".")]
    for name in names:
        logger = logging.getLogger(name)
        if _QUIET not in logger.filters:
            logger.addFilter(_QUIET)


def default_credential() -> TokenCredential:
    """DefaultAzureCredential, its chain's warnings moved to DEBUG (the failure is said once, by the source)."""
    quiet_identity_logs()
    return DefaultAzureCredential()


#: Setting value -> credential class. Order is the order shown to people in error messages.
CREDENTIALS: dict[str, Callable[[], TokenCredential]] = {
    "default": default_credential,
    "cli": AzureCliCredential,
    "managed_identity": ManagedIdentityCredential,
    "environment": EnvironmentCredential,
    "workload_identity": WorkloadIdentityCredential,
}


def credential_from_setting(name: str) -> TokenCredential:
    """The credential named by `[azure] credential`. Case and `-`/`_` are forgiven, anything else is not.

    Raises ValueError naming the valid settings for an unknown name, and a readable ValueError when the chosen
    credential cannot be built on this host (workload identity needs the variables its webhook injects).
    """
    key = str(name).strip().lower().replace("-", "_")
    factory = CREDENTIALS.get(key)
    if factory is None:
        valid = ", ".join(f'"{k}"' for k in CREDENTIALS)
        raise ValueError(f"unknown [azure] credential {name!r}: use one of {valid}")
    try:
        return factory()
    except ValueError as exc:
        raise ValueError(f"[azure] credential = {key!r} cannot be used on this host: {exc}") from exc
