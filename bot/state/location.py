"""Where the state store is: a SQLite path or a PostgreSQL URL, and how to name it without its password."""

from __future__ import annotations

import re

_SCHEMES = ("postgresql://", "postgres://")
#: user:password@ in a URL's authority.
_USERINFO = re.compile(r"(?P<scheme>postgres(?:ql)?://)(?P<user>[^:@/?#]*):(?P<password>[^@/?#]*)@")
#: password=... as a URL query parameter or a libpq keyword.
_PASSWORD_PARAM = re.compile(r"(?i)(?P<key>\bpassword\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^&\s]*)")


def is_postgres_url(location: str) -> bool:
    return str(location).strip().lower().startswith(_SCHEMES)


def has_password(location: str) -> bool:
    """Whether `location` carries a password (refused in the configuration file: PGPASSWORD, .pgpass or a service
    file hold it instead)."""
    match = _USERINFO.search(location)
    return bool(match and match["password"]) or bool(_PASSWORD_PARAM.search(location))


def redact(text: str, location: str | None = None) -> str:
    """`text` without the password of any PostgreSQL URL in it (and without `location`'s password wherever it
    appears: an error message may quote it alone)."""
    secret = ""
    if location:
        match = _USERINFO.search(location)
        secret = match["password"] if match else ""
        param = _PASSWORD_PARAM.search(location)
        secret = secret or (param["value"].strip("'") if param else "")
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@" if m["password"] else m[0], text)
    text = _PASSWORD_PARAM.sub(lambda m: f"{m['key']}***", text)
    if len(secret) >= 3:  # a shorter one would blank letters of the message, not hide anything
        text = text.replace(secret, "***")
    return text
