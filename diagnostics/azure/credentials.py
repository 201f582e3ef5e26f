"""The `[azure] credential` setting -> an azure-identity credential.

"default" walks DefaultAzureCredential's chain (environment, workload identity, managed identity, Azure CLI,
...), which is right for most hosts but slow to fail on a host where the first links do not apply; pinning one
skips the chain (docs/configuration.md#azure-credentials). Constructing a credential does no I/O: tokens are
requested only by the Log Analytics client, when it sends a query.
"""

from __future__ import annotations

from collections.abc import Callable

from azure.core.credentials import TokenCredential
from azure.identity import (
    AzureCliCredential,
    DefaultAzureCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

#: Setting value -> credential class. Order is the order shown to people in error messages.
CREDENTIALS: dict[str, Callable[[], TokenCredential]] = {
    "default": DefaultAzureCredential,
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
