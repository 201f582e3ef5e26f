"""What never leaves in an evidence bundle, and what leaves only on request.

A bundle is handed to a cloud vendor's support, so everything written into it goes through one `Redactor`:

* **Secrets, always.** Pre-shared keys, bearer tokens, Log Analytics `SharedKey` signatures, SAS `sig=` values,
  AWS access key ids (secret keys when written `aws_secret_access_key = …`), Slack tokens, JWTs, and the exact
  values the process knows to be secret (the tokens it was started with, a `psk = "…"` someone put in a tunnel's
  configuration) are replaced by `[redacted]` wherever they appear: log rows, query texts, the report. Logs should
  not hold them, but a tunnel's configuration or a connection's ARM JSON pasted into a message can.
* **Point-to-site usernames** stay exactly as masked in the logs (Azure writes `Username=***tosouser@…`: "the username
  is partially obscured", docs/sources.md#azure-p2s); `hash_users` replaces each with `user-<12 hex>` (SHA-256 of the
  logged value), so attempts by one user can still be counted together.
* **Public IP addresses**, on request (`redact_ips`): each distinct address becomes `IP-1`, `IP-2`, … in order of
  first appearance (the tunnel's own addresses first), the same token in every file. Private, loopback, link-local,
  CGNAT and multicast addresses are kept: they identify nothing outside the customer's network. The documentation
  ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) count as public, since examples use them in place of
  public addresses. Queries that name a redacted address cannot be re-run as written: the report says so.

The tunnel's configuration keeps only its identifiers and the extras whose names do not look secret
(`config_view`); the names of the keys left out are listed, never their values.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

REDACTED = "[redacted]"
#: Config keys whose values never enter a bundle (names matching psk/secret/key/token/password/shared);
#: credentials, passphrases and certificates are the same kind of thing.
SECRET_KEY_NAME = re.compile(r"psk|secret|key|token|password|passwd|shared|credential|passphrase|cert|sas",
                             re.IGNORECASE)
#: Known values shorter than this are not masked: they would mask ordinary words (as bot/logs.py does).
MIN_SECRET_LENGTH = 8

_VALUE = r"[^\s\"',;&<>\x00]+"
#: `name=value`, `name: value`, `"name": "value"` for secret-looking names. The name must be followed by `=` or
#: `:`, so prose like "pre-shared key mismatch" or IKE's "Auth:PreShared Key-" is left alone; see `_mask_key_value`
#: for "the pre-shared key: the keys differ" (AWS's own message, diagnostics/aws/rules.py).
_KEY_VALUE = re.compile(
    r"(?i)([\"']?)\b(psk|pre[-_ ]?shared[-_ ]?key|shared[-_]?key|sharedkey|password|passwd|pwd|client[-_]?secret|"
    r"secret[-_]?access[-_]?key|aws[-_]secret[-_]access[-_]key|secret|access[-_]?token|refresh[-_]?token|"
    r"session[-_]?token|api[-_]?key|auth[-_]?token|token)\b([\"']?\s*[:=]\s*[\"']?)(" + _VALUE + ")"
)
_PATTERNS = (
    # Log Analytics Data Collector / storage shared-key authorization: "SharedKey <workspace>:<signature>".
    re.compile(r"(?i)(\bSharedKey\s+)(" + _VALUE + ")"),
    re.compile(r"(?i)(\bBearer\s+)([A-Za-z0-9\-._~+/]+=*)"),
    re.compile(r"(?i)(\bAuthorization[\"']?\s*:\s*[\"']?Basic\s+)([A-Za-z0-9+/]{8,}=*)"),
    # SAS tokens: the signature is the secret part of the URL.
    re.compile(r"(?i)([?&]sig=)([^&\s\"'<>\x00]+)"),
)
#: Values that are secret whatever surrounds them.
_STANDALONE = (
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\bx(?:ox[abposre]|app)-[0-9A-Za-z-]+"),  # Slack tokens (as bot/logs.py)
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),  # JWTs (Entra ID tokens)
)
#: The cheap test run on every row before the patterns (most rows hold none of these): words that only matter
#: when followed by `=` or `:` (IKE rows say "Auth:PreShared Key-" thousands of times) and words that always do.
#: Substring tests on the lower-cased text cost ~1 µs a row; one regex alternation over the same words costs ~50.
_HINT_KEY_VALUE = ("psk", "key", "secret", "token", "password", "passwd", "pwd")
_HINT_ALWAYS = ("sharedkey", "bearer", "sig=", "akia", "asia", "xox", "xapp-", "eyj", "authorization")
#: What makes one of the first words a hint (`suspect`): quotes or blanks, then ":" or "=" (never past a NUL).
_FOLLOWED = re.compile("[\"' \t]*[:=]")

_IPV4 = re.compile(r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\d|\.\d)")
#: Candidates only where a word starts (the look-behind fails fast inside words): hex groups and colons, validated
#: by `ipaddress` (a time like 14:02:06 matches the shape and is rejected there).
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:.])")
_NOT_PUBLIC_V6 = ipaddress.ip_network("fc00::/7")
_NOT_PUBLIC_V4 = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
))
#: A column whose first `FEW_SAMPLE` cells hold at most `FEW` values is searched value by value, not cell by cell.
FEW, FEW_SAMPLE = 8, 64
_USERNAME = re.compile(r"(Username=)([^\s\x00]+)")
_USER_TOKEN = re.compile(r"user-[0-9a-f]{12}")


@dataclass(frozen=True)
class RedactionOptions:
    """What the person asking for the bundle chose; secrets are masked whatever they chose."""

    redact_ips: bool = False
    hash_users: bool = False
    #: Exact values to mask wherever they appear: the process's tokens, secret-looking config values.
    secrets: tuple[str, ...] = ()


@dataclass
class Redactor:
    """Applies `RedactionOptions` to text. One instance per bundle: the IP tokens are numbered per bundle."""

    options: RedactionOptions = field(default_factory=RedactionOptions)
    ips: dict[str, str] = field(default_factory=dict)  # address -> token, in order of first appearance
    masked: int = 0  # secrets replaced (reported, so a reader knows redaction happened)

    def __post_init__(self) -> None:
        self._kept: set[str] = set()  # address-shaped words found not to be public addresses
        self._known = sorted({s for s in self.options.secrets if s and len(s) >= MIN_SECRET_LENGTH},
                             key=len, reverse=True)

    def seed_ips(self, addresses: Iterable[str]) -> None:
        """Number these first (the tunnel's own addresses), so `IP-1` is the same device in every bundle."""
        if self.options.redact_ips:
            for address in addresses:
                if address:
                    self._ip_token(address)

    def text(self, value: str) -> str:
        """`value` with secrets masked, and IPs / usernames replaced when asked."""
        if not value:
            return value
        if self._known:
            for secret in self._known:
                if secret in value:
                    self.masked += value.count(secret)
                    value = value.replace(secret, REDACTED)
        if suspect(value):
            value = self._secrets(value)
        if self.options.hash_users and "Username=" in value:
            value = _USERNAME.sub(lambda m: m.group(1) + hash_user(m.group(2)), value)
        if self.options.redact_ips:
            value = self.redact_ips(value)
        return value

    def cells(self, row: list[Any]) -> list[Any]:
        """A row's cells with every text cell through `text()` (numbers and None are left as they are).

        The text cells go through `text()` joined by NUL, once per row rather than once per cell (a million rows
        have ten million cells); no pattern matches across a NUL. `row` itself is returned when nothing changed."""
        where = [i for i, c in enumerate(row) if c.__class__ is str and c]
        if not where:
            return row
        joined = "\x00".join([row[i] for i in where])
        done = self.text(joined)
        if done == joined:
            return row
        parts = done.split("\x00")
        out = list(row)
        if len(parts) != len(where):  # a cell held a NUL itself: cell by cell then
            return [self.text(c) if c.__class__ is str else c for c in row]
        for i, part in zip(where, parts, strict=True):
            out[i] = part
        return out

    def rows(self, batch: list[list[Any]]) -> list[list[Any]]:
        """`cells()` of every row of `batch`, in order, with the same result and the same count of what was masked.

        Most rows hold nothing to mask, and finding that out row by row is what a big bundle spent its time on (the
        IKE rows all say "Key"). So the batch is searched a column at a time, each column's cells joined into one
        text: only the rows where a hint of a secret (`suspect`'s words, a known secret, "Username=" when users are
        hashed) falls go through `cells()`. A false alarm costs only that row's `cells()`; a row is never skipped
        that `cells()` would have changed. With `redact_ips` every row goes through `cells()` (addresses are numbered
        in order of appearance)."""
        if self.options.redact_ips or any("\x00" in secret for secret in self._known):
            return [self.cells(row) for row in batch]
        flagged: set[int] = set()
        for column in zip(*batch, strict=True):
            first = column[0]
            if first.__class__ is str and column.count(first) == len(column):  # one value all along
                if self._flagged([first]):
                    flagged.update(range(len(batch)))
            elif len(set(map(str, column[:FEW_SAMPLE]))) <= FEW:  # a few values repeated (category, operation…)
                distinct = list(dict.fromkeys(map(str, column)))
                hits = {distinct[i] for i in self._flagged(distinct)}
                if hits:
                    flagged.update(i for i, text in enumerate(map(str, column)) if text in hits)
            else:
                flagged.update(self._flagged(list(map(str, column))))
            if len(flagged) == len(batch):
                break
        if not flagged:
            return batch
        cells = self.cells
        return [cells(row) if i in flagged else row for i, row in enumerate(batch)]

    def _flagged(self, texts: list[str]) -> set[int]:
        """The indexes of `texts` that may hold a secret, a known secret or (when hashed) a username."""
        joined = "\x00".join(texts)
        starts = list(accumulate(map((1).__add__, map(len, texts)), initial=0))
        flagged: set[int] = set()

        def mark(at: int) -> int:
            """Flag the text at position `at`; where the next one starts."""
            index = bisect_right(starts, at) - 1
            flagged.add(index)
            return starts[index + 1]

        def every(word: str, text: str) -> None:
            i = text.find(word)
            while i >= 0:
                i = text.find(word, mark(i))

        for secret in self._known:
            every(secret, joined)
        if self.options.hash_users:
            every("Username=", joined)
        low = joined.lower()
        if len(low) != len(joined):  # a character whose lower case is longer: positions no longer line up
            return set(range(len(texts)))
        for word in _HINT_ALWAYS:
            every(word, low)
        follows = _FOLLOWED.match
        for word in _HINT_KEY_VALUE:  # as `suspect`: the word, then quotes or blanks, then ":" or "="
            i = low.find(word)
            while i >= 0:
                j = i + len(word)
                if follows(low, j):
                    j = mark(i)
                i = low.find(word, j)
        return flagged

    def json(self, value: Any, key: str = "") -> Any:
        """A JSON document with every string through `text()`; a P2S `user` field is hashed whole on request."""
        if isinstance(value, str):
            if key == "user" and self.options.hash_users and value:
                return hash_user(value)
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.json(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(v) for v in value]
        return value

    def _secrets(self, value: str) -> str:
        for pattern in _PATTERNS:
            value = pattern.sub(self._mask_group, value)
        value = _KEY_VALUE.sub(self._mask_key_value, value)
        for pattern in _STANDALONE:
            value = pattern.sub(self._mask_all, value)
        return value

    def _mask_group(self, match: re.Match[str]) -> str:
        if match.group(2) == REDACTED:
            return match.group(0)
        self.masked += 1
        return match.group(1) + REDACTED

    def _mask_key_value(self, match: re.Match[str]) -> str:
        """`psk = x`, `"psk": "x"` and `psk:x` are masked; `psk: word` only when the word looks like a key (a digit
        or a symbol in it, 6 characters or more), so prose ("the pre-shared key: the keys differ") stays readable."""
        quote, name, sep, value = match.groups()
        if value == REDACTED:
            return match.group(0)
        loose = ":" in sep and not quote and sep != sep.strip()
        if loose and not (len(value) >= 6 and any(not c.isalpha() for c in value)):
            return match.group(0)
        self.masked += 1
        return quote + name + sep + REDACTED

    def _mask_all(self, match: re.Match[str]) -> str:
        self.masked += 1
        return REDACTED

    def redact_ips(self, value: str) -> str:
        if "." in value:
            value = _IPV4.sub(self._ipv4, value)
        if _may_hold_ipv6(value):
            value = _IPV6.sub(self._ipv6, value)
        return value

    def _ipv4(self, match: re.Match[str]) -> str:
        text = match.group(0)
        token = self.ips.get(text)
        if token is not None:
            return token
        if text in self._kept:
            return text
        try:
            address = ipaddress.IPv4Address(text)
        except ValueError:  # 999.1.2.3, a version number: not an address
            address = None
        if address is None or any(address in net for net in _NOT_PUBLIC_V4):
            self._kept.add(text)  # decided once: the same private address is in every row of a tunnel
            return text
        return self._ip_token(text)

    def _ipv6(self, match: re.Match[str]) -> str:
        text = match.group(0)
        token = self.ips.get(text.lower())
        if token is not None:
            return token
        if text in self._kept:
            return text
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:  # a time (14:02:06), a MAC-like word: not an address
            address = None
        if address is None or (address.is_link_local or address.is_loopback or address.is_multicast
                               or address.is_unspecified or address in _NOT_PUBLIC_V6):
            self._kept.add(text)
            return text
        return self._ip_token(text.lower())

    def _ip_token(self, address: str) -> str:
        token = self.ips.get(address)
        if token is None:
            token = self.ips[address] = f"IP-{len(self.ips) + 1}"
        return token

    def summary(self) -> list[str]:
        """What was done, in words for the report (no values)."""
        lines = ["Secrets (pre-shared keys, tokens, keys, signatures, passwords) are masked as `[redacted]` "
                 f"wherever they appear ({self.masked} masked in the rows, queries and answer)."]
        if self.options.hash_users:
            lines.append("Point-to-site usernames are replaced by `user-<12 hex>`, the SHA-256 of the name as logged.")
        else:
            lines.append("Point-to-site usernames are as Azure logs them (already partly masked).")
        if self.options.redact_ips:
            lines.append(f"Public IP addresses are replaced by `IP-n` tokens, the same token for the same address in "
                         f"every file ({len(self.ips)} addresses); private addresses are kept. Queries naming a "
                         "replaced address must have it put back before they are re-run.")
        else:
            lines.append("IP addresses are as logged.")
        return lines


def _may_hold_ipv6(text: str) -> bool:
    """An IPv6 address has "::" or eight groups (seven colons in one word): a cheap test before the regex, which
    costs ~30 ns a character and would otherwise run on every IKE row (they are full of colons)."""
    if "::" in text:
        return True
    return text.count(":") >= 7 and any(word.count(":") >= 7 for word in text.split())


def suspect(text: str) -> bool:
    """Whether `text` may hold a secret the patterns would mask (false positives only cost time)."""
    low = text.lower()
    for word in _HINT_ALWAYS:
        if word in low:
            return True
    end = len(low)
    for word in _HINT_KEY_VALUE:
        i = low.find(word)
        while i >= 0:
            j = i + len(word)
            while j < end and low[j] in "\"' \t":
                j += 1
            if j < end and low[j] in ":=":
                return True
            i = low.find(word, j)
    return False


def hash_user(name: str) -> str:
    """A stable stand-in for a (masked) username: the same name always gives the same token. A token is left as it
    is, so redacting twice (the answer, then the report made from it) gives the same text."""
    if _USER_TOKEN.fullmatch(name):
        return name
    return "user-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]


def is_secret_name(name: str) -> bool:
    return bool(SECRET_KEY_NAME.search(name))


def config_view(entry: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A tunnel's configuration without anything secret-looking: (kept, names of the keys left out).

    Nested tables (e.g. `ipsec_policy`) are filtered the same way; key names left out are given as dotted paths.
    """
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key in sorted(entry):
        value = entry[key]
        if is_secret_name(str(key)):
            dropped.append(str(key))
            continue
        if isinstance(value, Mapping):
            inner, inner_dropped = config_view(value)
            kept[str(key)] = inner
            dropped += [f"{key}.{d}" for d in inner_dropped]
        else:
            kept[str(key)] = list(value) if isinstance(value, tuple) else value
    return kept, dropped


def secret_values(entry: Mapping[str, Any]) -> list[str]:
    """The values of the secret-looking keys of a configuration entry, to mask should they appear in a row."""
    out: list[str] = []
    for key, value in entry.items():
        if isinstance(value, Mapping):
            out += secret_values(value)
        elif is_secret_name(str(key)) and isinstance(value, str | int):
            out.append(str(value))
    return out
