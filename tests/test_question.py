"""The question parser: intent, tunnel and window from what people type in an incident channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.tunnels import AmbiguousTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.help import HELP_EXAMPLES, help_examples
from handlers.parse.intent import Intent
from handlers.parse.question import Question, QuestionError, TimeWindow, parse_question

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)  # Sunday 11:30 in Paris
UTC_ZONE = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")

PARIS_TUNNEL = Tunnel(name="paris", aliases=("branch-paris", "par"), azure_gateway="VPNGW01",
                      azure_remote_ip="203.0.113.10")
LYON = Tunnel(name="lyon", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.20")
BERLIN = Tunnel(name="berlin", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.40")
DC1 = Tunnel(name="dc1", aws_vpn_connection="vpn-0123456789abcdef0", aws_outside_ips=("52.95.10.1", "52.95.10.2"))
REGISTRY = TunnelRegistry([PARIS_TUNNEL, LYON, BERLIN, DC1])


def ask(text: str, tz: ZoneInfo = UTC_ZONE, registry: TunnelRegistry = REGISTRY, now: datetime = NOW) -> Question:
    return parse_question(text, registry, now, tz)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def span(question: Question) -> tuple[datetime, datetime]:
    return question.window.start, question.window.end


# ------------------------------------------------------------------------------ the sentences people type


def test_why_did_tunnel_drop_at_a_time():
    q = ask("why did tunnel paris drop at 14:02", PARIS)
    assert (q.intent, q.tunnel) == (Intent.WHY_DROP, PARIS_TUNNEL)
    assert q.anchor == utc(2026, 11, 21, 13, 2)  # 14:02 Paris is later than 11:30 today: yesterday's
    assert q.window == TimeWindow(utc(2026, 11, 21, 12, 47), utc(2026, 11, 21, 13, 17))
    assert q.explicit_window is True and q.tz == PARIS


def test_why_did_it_go_down_yesterday_around_2pm():
    q = ask("why did paris go down yesterday around 2pm", PARIS)
    assert (q.intent, q.tunnel) == (Intent.WHY_DROP, PARIS_TUNNEL)
    assert q.anchor == utc(2026, 11, 21, 13, 0)


def test_what_happened_to_an_ip_between_two_utc_times():
    q = ask("what happened to 203.0.113.10 between 13:00 and 15:00 UTC", NEW_YORK)
    assert (q.intent, q.tunnel) == (Intent.WHY_DROP, PARIS_TUNNEL)
    assert span(q) == (utc(2026, 11, 21, 13), utc(2026, 11, 21, 15))
    assert q.anchor is None and q.tz == UTC_ZONE


def test_did_alias_drop_in_the_last_hour():
    q = ask("did branch-paris drop in the last hour")
    assert (q.intent, q.tunnel) == (Intent.WHY_DROP, PARIS_TUNNEL)
    assert span(q) == (NOW - timedelta(hours=1), NOW)
    assert q.anchor is None and q.explicit_window


@pytest.mark.parametrize(
    ("text", "anchor"),
    [("why did paris drop on 2026-11-20 at 14:02", utc(2026, 11, 20, 14, 2)),
     ("why did paris drop at 2026-11-21T14:02:00Z", utc(2026, 11, 21, 14, 2)),
     ("paris 2026-11-21 14:02", utc(2026, 11, 21, 14, 2)),
     ("did paris drop on 20 Nov at 2:02pm", utc(2026, 11, 20, 14, 2)),
     ("paris Nov 20 14:02", utc(2026, 11, 20, 14, 2)),
     ("paris 2 hours ago", utc(2026, 11, 22, 8, 30)),
     ("why did paris drop at 14h02", utc(2026, 11, 21, 14, 2))],
)
def test_explicit_dates_iso_times_and_relative_instants(text, anchor):
    q = ask(text)
    assert q.tunnel == PARIS_TUNNEL and q.intent == Intent.WHY_DROP
    assert q.anchor == anchor
    assert span(q) == (anchor - timedelta(minutes=15), min(anchor + timedelta(minutes=15), NOW))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("paris since 09:00", utc(2026, 11, 22, 9), NOW),
     ("paris last 30 minutes", NOW - timedelta(minutes=30), NOW),
     ("paris past 2h", NOW - timedelta(hours=2), NOW),
     ("paris today", utc(2026, 11, 22), NOW),
     ("paris yesterday", utc(2026, 11, 21), utc(2026, 11, 22)),
     ("paris this morning", utc(2026, 11, 22, 6), NOW)],
)
def test_spans_have_no_anchor(text, start, end):
    q = ask(text)
    assert span(q) == (start, end)
    assert q.anchor is None and q.explicit_window


def test_no_time_gives_the_default_last_24_hours_and_says_so():
    q = ask("why did paris drop")
    assert span(q) == (NOW - timedelta(hours=24), NOW)
    assert q.anchor is None
    assert q.explicit_window is False


# ---------------------------------------------------------------------------------- tolerant reading


@pytest.mark.parametrize(
    "text",
    ["<@U123> why did tunnel paris drop at 14:02?", "<@U123|vpnbot> why did tunnel paris drop at 14:02",
     "@vpnbot why did tunnel paris drop at 14:02", "/vpn why did tunnel paris drop at 14:02",
     "WHY DID TUNNEL PARIS DROP AT 14:02???", "  why, did tunnel *paris* drop at 14:02 ?! ",
     "why did tunnel Paris's link drop at 14:02", "why did tunnel paris drop at 14:02.",
     "why did tunnel <http://203.0.113.10|203.0.113.10> drop at 14:02"],
)
def test_mentions_slash_command_case_and_punctuation_do_not_matter(text):
    q = ask(text)
    assert (q.intent, q.tunnel, q.anchor) == (Intent.WHY_DROP, PARIS_TUNNEL, utc(2026, 11, 21, 14, 2))


def test_question_text_is_kept_without_the_mention():
    assert ask("<@U123>   why did paris drop").text == "why did paris drop"


def test_slack_escaped_characters_are_unescaped():
    assert ask("why did paris drop &gt; 1 time").text == "why did paris drop > 1 time"


@pytest.mark.parametrize(
    ("text", "anchor"),
    [("paris at 14:02 UTC", utc(2026, 11, 21, 14, 2)), ("paris at 14:02 GMT", utc(2026, 11, 21, 14, 2)),
     ("paris at 14:02 Europe/Paris", utc(2026, 11, 21, 13, 2)), ("paris at 14:02 CET", utc(2026, 11, 21, 13, 2)),
     ("paris at 9:02am EST", utc(2026, 11, 21, 14, 2)), ("paris at 6:02 PDT", utc(2026, 11, 21, 14, 2))],
)
def test_a_zone_in_the_text_overrides_the_asker_zone(text, anchor):
    tokyo = ZoneInfo("Asia/Tokyo")
    q = ask(text, tokyo)
    assert q.anchor == anchor
    assert q.tz != tokyo


def test_times_are_read_in_the_asker_zone_by_default():
    assert ask("paris at 09:00", NEW_YORK).anchor == utc(2026, 11, 21, 14, 0)
    assert ask("paris at 09:00", PARIS).anchor == utc(2026, 11, 22, 8, 0)
    assert ask("paris at 09:00", NEW_YORK).tz == NEW_YORK


# --------------------------------------------------------------------------------------------- intents


@pytest.mark.parametrize(
    ("text", "intent"),
    [("help", Intent.HELP), ("?", Intent.HELP), ("", Intent.HELP), ("<@U123>", Intent.HELP),
     ("can you help", Intent.HELP),
     ("tunnels", Intent.TUNNELS), ("list tunnels", Intent.TUNNELS), ("which tunnels do you know?", Intent.TUNNELS),
     ("status paris", Intent.STATUS), ("is paris up?", Intent.STATUS), ("is paris down", Intent.STATUS),
     ("how is paris", Intent.STATUS), ("how's paris doing", Intent.STATUS),
     ("drops paris since monday", Intent.DROPS), ("how many times did paris drop", Intent.DROPS),
     ("list drops for paris", Intent.DROPS), ("paris history", Intent.DROPS),
     ("summary", Intent.SUMMARY), ("summary paris yesterday", Intent.SUMMARY),
     ("evidence paris at 14:02", Intent.EVIDENCE), ("evidence for why paris dropped", Intent.EVIDENCE),
     ("why is paris down", Intent.WHY_DROP), ("explain paris at 14:02", Intent.WHY_DROP),
     ("what happened to lyon", Intent.WHY_DROP), ("did berlin fail yesterday", Intent.WHY_DROP),
     ("did dc1 go down", Intent.WHY_DROP), ("dc1", Intent.WHY_DROP), ("paris 14:02", Intent.WHY_DROP)],
)
def test_intent_is_recognised(text, intent):
    assert ask(text).intent == intent


def test_help_and_tunnel_list_need_no_tunnel():
    assert ask("help").tunnel is None
    assert ask("help paris").tunnel is None
    assert ask("tunnels").tunnel is None


def test_summary_without_a_tunnel_covers_every_tunnel():
    q = ask("summary yesterday")
    assert q.tunnel is None
    assert span(q) == (utc(2026, 11, 21), utc(2026, 11, 22))
    assert ask("summary for lyon").tunnel == LYON


def test_sentence_with_no_intent_and_no_tunnel_lists_examples_that_work():
    with pytest.raises(QuestionError) as caught:
        ask("hello there")
    message = str(caught.value)
    assert '"hello there"' in message
    assert sum(example in message for example in HELP_EXAMPLES) >= 2
    assert "\n" not in message


def test_every_help_example_parses():
    assert HELP_EXAMPLES
    for example in HELP_EXAMPLES:
        q = ask(example)
        assert q.window.end <= NOW


def test_help_examples_name_the_workspace_tunnel():
    registry = TunnelRegistry([BERLIN])
    examples = help_examples(registry)
    assert "status berlin" in examples
    assert all(ask(example, registry=registry).window.end <= NOW for example in examples)


# ---------------------------------------------------------------------------------------------- tunnels


@pytest.mark.parametrize(
    ("reference", "tunnel"),
    [("paris", PARIS_TUNNEL), ("PARIS", PARIS_TUNNEL), ("branch-paris", PARIS_TUNNEL), ("par", PARIS_TUNNEL),
     ("203.0.113.10", PARIS_TUNNEL), ("203.0.113.20", LYON), ("VPNGW02", BERLIN), ("vpngw02", BERLIN),
     ("vpn-0123456789abcdef0", DC1), ("VPN-0123456789ABCDEF0", DC1), ("52.95.10.2", DC1)],
)
def test_tunnel_is_found_by_any_identifier(reference, tunnel):
    assert ask(f"why did {reference} drop at 14:02").tunnel == tunnel


def test_gateway_carrying_several_tunnels_is_ambiguous():
    with pytest.raises(AmbiguousTunnel) as caught:
        ask("why did VPNGW01 drop at 14:02")
    assert set(caught.value.candidates) == {"paris", "lyon"}


def test_a_name_plus_its_gateway_is_that_tunnel():
    assert ask("why did paris on VPNGW01 drop").tunnel == PARIS_TUNNEL


def test_a_name_plus_another_gateway_is_refused():
    with pytest.raises(QuestionError, match="berlin is not on VPNGW01"):
        ask("why did berlin on VPNGW01 drop")


def test_naming_two_tunnels_asks_about_both_in_order():
    q = ask("why did paris and lyon drop at 14:02")
    assert q.intent is Intent.WHY_DROP
    assert q.tunnels == (PARIS_TUNNEL, LYON) and q.tunnel is None
    assert q.anchor == utc(2026, 11, 21, 14, 2)


def test_the_same_tunnel_named_twice_is_fine():
    assert ask("why did paris (203.0.113.10) drop").tunnel == PARIS_TUNNEL


@pytest.mark.parametrize("text", ["why did pariss drop at 14:02", "status pariss", "did the vpn to pariss drop",
                                  "pariss 2 hours ago", "what happened to tunnel Pariss yesterday"])
def test_misspelt_tunnel_suggests_the_closest_name(text):
    with pytest.raises(UnknownTunnel) as caught:
        ask(text)
    assert caught.value.reference.lower() == "pariss"
    assert caught.value.suggestions[0] == "paris"


def test_unknown_ip_lists_the_known_tunnels():
    with pytest.raises(UnknownTunnel) as caught:
        ask("what happened to 10.9.9.9 at 14:02")
    assert caught.value.reference == "10.9.9.9"
    assert caught.value.known == ["paris", "lyon", "berlin", "dc1"]


def test_unknown_word_after_tunnel_is_reported_as_the_reference():
    with pytest.raises(UnknownTunnel) as caught:
        ask("why did tunnel tokyo drop")
    assert caught.value.reference == "tokyo"


def test_no_tunnel_word_at_all_asks_which_tunnel_listing_them():
    with pytest.raises(QuestionError) as caught:
        ask("why did the tunnel drop at 14:02")
    message = str(caught.value)
    assert message.startswith("which tunnel?")
    assert all(name in message for name in ("paris", "lyon", "berlin", "dc1"))


def test_with_a_single_tunnel_it_is_the_one_asked_about():
    registry = TunnelRegistry([BERLIN])
    q = ask("why did it drop at 14:02", registry=registry)
    assert q.tunnel == BERLIN
    assert q.anchor == utc(2026, 11, 21, 14, 2)


def test_with_a_single_tunnel_an_unknown_ip_is_still_refused():
    with pytest.raises(UnknownTunnel):
        ask("what happened to 10.9.9.9", registry=TunnelRegistry([BERLIN]))


def test_empty_registry_says_no_tunnels_are_configured():
    with pytest.raises(QuestionError, match="no tunnels are configured"):
        ask("why did the tunnel drop", registry=TunnelRegistry([]))


# ------------------------------------------------------------------------------------------ bad times


def test_impossible_time_is_a_question_error_with_an_example():
    with pytest.raises(QuestionError) as caught:
        ask("why did paris drop at 25:61")
    assert str(caught.value) == (
        'can\'t read the time "25:61": try "at 14:02", "yesterday around 2pm" or "between 13:00 and 15:00 UTC"'
    )


@pytest.mark.parametrize("text", ["why did paris drop at 14:02 tomorrow", "paris on 2026-12-01",
                                  "paris in 2 hours"])
def test_future_time_is_refused_saying_so(text):
    with pytest.raises(QuestionError, match="is in the future"):
        ask(text)


def test_reversed_range_is_refused():
    with pytest.raises(QuestionError, match="ends before it starts"):
        ask("what happened to paris between 15:00 and 13:00")


def test_a_word_where_a_time_belongs_is_refused():
    with pytest.raises(QuestionError, match='can\'t read the time "lunch"'):
        ask("why did paris drop at lunch")


def test_a_tunnel_after_at_is_not_a_time():
    q = ask("what happened at paris yesterday")
    assert q.tunnel == PARIS_TUNNEL
    assert span(q) == (utc(2026, 11, 21), utc(2026, 11, 22))


def test_dst_gap_time_does_not_crash():
    q = ask("why did paris drop at 02:30", PARIS, now=utc(2026, 3, 29, 10))
    assert q.anchor == utc(2026, 3, 29, 1, 30)


def test_dst_repeated_hour_window_covers_both_occurrences():
    q = ask("why did paris drop at 02:30", PARIS, now=utc(2026, 10, 25, 10))
    assert span(q) == (utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 1, 45))


def test_naive_now_is_taken_as_utc():
    q = parse_question("paris at 09:00", REGISTRY, datetime(2026, 11, 22, 10, 30), UTC_ZONE)
    assert q.anchor == utc(2026, 11, 22, 9, 0)


# ------------------------------------------------------------------------------------------ properties

_WORDS = ["why", "did", "paris", "pariss", "lyon", "VPNGW01", "drop", "at", "14:02", "25:61", "between", "and",
          "since", "yesterday", "tomorrow", "last", "2", "hours", "ago", "UTC", "Europe/Paris", "3", "pm", "nov",
          "20", "2026-11-20", "-", "to", "status", "help", "tunnels", "203.0.113.10", "10.0.0.1", "in", "around",
          "morning", "monday", "<@U1>", "/vpn", "?", "9999", "days", "11/20", "europe/x", "half", "an", "from"]


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80),
                 st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=6)), max_size=10).map(" ".join)))
def test_arbitrary_text_only_raises_the_documented_errors(text):
    try:
        q = ask(text, PARIS)
    except (QuestionError, UnknownTunnel, AmbiguousTunnel) as problem:
        assert len(str(problem).splitlines()) == 1
    else:
        assert q.window.start <= q.window.end <= NOW
        assert q.window.start.tzinfo is not None and q.window.start.utcoffset() == timedelta(0)
        assert q.anchor is None or q.window.start <= q.anchor <= NOW
        if q.tunnel is None:  # none named (the fleet's status, every tunnel's summary) or several
            without_one = (Intent.HELP, Intent.TUNNELS, Intent.SUMMARY, Intent.STATUS, Intent.P2S)
            assert q.intent in without_one or len(q.tunnels) > 1
        else:
            assert q.tunnels == (q.tunnel,)
        if q.intent in (Intent.HELP, Intent.TUNNELS):
            assert q.tunnel is None
