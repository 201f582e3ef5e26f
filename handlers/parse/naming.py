"""Which tunnels a question names: "paris", "paris and lyon", "paris, lyon and nice", "all tunnels on VPNGW01", an IP,
an alias, a VPN connection id; and, when it names none the registry knows, the word that was most likely meant.

A name or alias wins over a shared identifier (a gateway carries several tunnels), so "paris on VPNGW01" is paris; a
gateway alone that carries several tunnels is ambiguous ("name one"), unless the question says it means all of
them ("all tunnels on VPNGW01", "VPNGW01 tunnels", "everything on VPNGW02") or asks for its state ("VPNGW01
status", "is VPNGW01 up"). Every tunnel named is kept: the answer caps how many it answers
(`handlers.several.MAX_TUNNELS`) and names the others.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from diagnostics.tunnels import AmbiguousTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.parse.lexicon import PLACE_ZONES

ID_LIKE = re.compile(  # IPv4, AWS VPN connection id, IPv6
    r"\d{1,3}(?:\.\d{1,3}){3}|vpn-[0-9a-f]{8,17}|(?=[^:]*[0-9a-f])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}",
    re.IGNORECASE | re.ASCII,
)
_ALL_OF_A_GATEWAY = {"all", "every", "everything", "tunnels", "both", "each", "vpns", "connections", "links"}
# The state of a gateway that carries several tunnels is theirs ("VPNGW01 status"); why it dropped still asks which.
_STATE_OF_A_GATEWAY = {"status", "state", "health", "healthy", "up", "ok", "okay", "wrong"}
_LIST_WORDS = {"and", "or", "&", "+", "/", "-", "und", "et", "y", "oder", "ou", "o"}
_TRIGGERS = {"tunnel", "did", "does", "to", "is", "for", "about", "of", "on", "with", "status", "drops",
             "history", "evidence", "summary", "explain", "vpn", "link", "site", "connection", "check"}


class NamingError(ValueError):
    """The tunnels named cannot go together ("berlin on VPNGW01"); str() is one line."""


@dataclass(frozen=True)
class Named:
    tunnels: tuple[Tunnel, ...]  # in the order named


@dataclass(frozen=True)
class NameIndex:
    """What the parser reads off a registry's names, computed once per tunnel list (a fleet has 1,000 tunnels, and
    a difflib scan of 2,000 names and aliases takes ~10 ms): names within one typo of a word, found through their
    one-letter deletions (as SymSpell does) and confirmed with difflib; and the words that may name a clock."""

    tunnels: list[Tunnel]  # the list it was computed from (kept: its id is the cache key)
    places: dict[str, str]  # cities, and every tunnel name and alias: its own zone, else its city's, else ""
    by_deletion: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, tunnels: list[Tunnel]) -> NameIndex:
        places = dict(PLACE_ZONES)
        index = cls(tunnels, places)
        for tunnel in tunnels:
            for key in (tunnel.name.lower(), *(alias.lower() for alias in tunnel.aliases)):
                places[key] = tunnel.timezone or PLACE_ZONES.get(key, "")
                for variant in _deletions(key):
                    index.by_deletion.setdefault(variant, set()).add(key)
        return index

    def close(self, word: str, cutoff: float = 0.8) -> list[str]:
        """Names and aliases one typo away from `word` (difflib ratio >= cutoff), closest first."""
        word = word.lower()
        found = set().union(*(self.by_deletion.get(v, ()) for v in _deletions(word)))
        return difflib.get_close_matches(word, sorted(found), n=3, cutoff=cutoff)


def _deletions(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1:] for i in range(len(word)))}


_INDEXES: dict[int, NameIndex] = {}


def index_of(registry: TunnelRegistry) -> NameIndex:
    """Cached per tunnel list: `TunnelRegistry.update` swaps in a new list, so a changed registry is a new entry."""
    cached = _INDEXES.get(id(registry.tunnels))
    if cached is not None and cached.tunnels is registry.tunnels:
        return cached
    if len(_INDEXES) >= 16:  # a few registries live at once (the workspace, channel views): forget the oldest
        del _INDEXES[next(iter(_INDEXES))]
    _INDEXES[id(registry.tunnels)] = index = NameIndex.of(registry.tunnels)
    return index


def variants(token: str) -> list[str]:
    """The token and its non-possessive form ("paris's" -> "paris")."""
    for suffix in ("'s", "’s"):
        if token.lower().endswith(suffix):
            return [token, token[: -len(suffix)]]
    return [token]


def is_name(token: str, registry: TunnelRegistry) -> bool:
    return any(registry.is_known_word(v) for v in variants(token))


def find_tunnels(tokens: Sequence[str], used: frozenset[int], registry: TunnelRegistry) -> Named:
    """Every tunnel the free tokens name, in order. Raises AmbiguousTunnel (a gateway alone), NamingError (a name
    and a gateway that does not carry it), UnknownTunnel (a misspelt name in a list: "paris and lyonn")."""
    low = {token.lower() for token in tokens}
    whole_gateways = bool(_ALL_OF_A_GATEWAY & low)
    gateway_state = bool(_STATE_OF_A_GATEWAY & low)
    found: dict[str, Tunnel] = {}
    ambiguous: list[AmbiguousTunnel] = []
    by_name: set[str] = set()
    for index, token in enumerate(tokens):
        if index in used:
            continue
        tunnel, problem = _lookup(token, registry)
        if problem is not None and whole_gateways:
            for name in problem.candidates:
                found.setdefault(name, registry.resolve(name))
        elif problem is not None:
            ambiguous.append(problem)
        elif tunnel is not None:
            found.setdefault(tunnel.name, tunnel)
            by_name.add(tunnel.name)
    if ambiguous and gateway_state and not found:  # "VPNGW01 status", "is VPNGW01 up": every tunnel it carries
        for problem in ambiguous:
            for name in problem.candidates:
                found.setdefault(name, registry.resolve(name))
        ambiguous = []
    _check_gateways(found, by_name, ambiguous)
    _check_lists(tokens, used, registry)
    return Named(tuple(found.values()))


def _lookup(token: str, registry: TunnelRegistry) -> tuple[Tunnel | None, AmbiguousTunnel | None]:
    for variant in variants(token):
        try:
            tunnel = registry.lookup(variant)
        except AmbiguousTunnel as problem:
            return None, problem
        if tunnel is not None:
            return tunnel, None
    return None, None


def _check_gateways(found: dict[str, Tunnel], by_name: set[str], ambiguous: list[AmbiguousTunnel]) -> None:
    if not found and ambiguous:
        raise ambiguous[0]
    for problem in ambiguous:  # "paris on VPNGW01" is paris; "berlin on VPNGW01": that gateway is not berlin's
        strangers = [name for name in by_name if name not in problem.candidates]
        if strangers:
            raise NamingError(
                f"{strangers[0]} is not on {problem.reference} (it carries {', '.join(problem.candidates)}):"
                " name one tunnel"
            )


def _check_lists(tokens: Sequence[str], used: frozenset[int], registry: TunnelRegistry) -> None:
    """ "paris and lyonn": a word listed with a tunnel that looks like a misspelt one is refused, not dropped."""
    for index in range(2, len(tokens)):
        word, joiner, before = tokens[index], tokens[index - 1].lower(), tokens[index - 2]
        if joiner not in _LIST_WORDS or index in used or not is_name(before, registry) or is_name(word, registry):
            continue
        if index_of(registry).close(word, 0.6) or ID_LIKE.fullmatch(word):
            raise UnknownTunnel(word, registry.suggest(word), registry.names())


def unknown_reference(tokens: Sequence[str], used: frozenset[int], registry: TunnelRegistry,
                      vocabulary: Callable[[str], bool]) -> str | None:
    """The word most likely meant as a tunnel that the registry does not know, or None.

    An IP or a vpn-… id is the strongest sign; then the word after "tunnel", "did", "to", "is"… (skipping question,
    time and stop words: `vocabulary`); a word that resembles a known name counts too.
    """
    free = [(i, token) for i, token in enumerate(tokens) if i not in used and not is_number(token)]
    ids = [token for _, token in free if ID_LIKE.fullmatch(token)]
    if ids:
        return ids[0]
    candidates = [token for _, token in free if not vocabulary(token.lower())]
    after_trigger = _words_after_triggers(tokens, used, vocabulary)
    index = index_of(registry)
    for word in after_trigger + candidates:
        if index.close(word, 0.6):
            return word
    return after_trigger[0] if after_trigger else None


def _words_after_triggers(tokens: Sequence[str], used: frozenset[int], vocabulary: Callable[[str], bool]) -> list[str]:
    words: list[str] = []
    low = [token.lower() for token in tokens]
    for i, token in enumerate(low):
        if token not in _TRIGGERS:
            continue
        for j in range(i + 1, len(low)):
            if j in used or vocabulary(low[j]) or is_number(low[j]):
                continue
            if tokens[j] not in words:
                words.append(tokens[j])
            break
    return words


def is_number(token: str) -> bool:
    return token.replace(".", "", 1).isdigit() and token.isascii()
