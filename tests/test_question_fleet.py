"""What a question is about: every tunnel ("what's down right now?"), one tunnel's state ("paris down?"), several
tunnels ("paris and lyon", "all tunnels on VPNGW01"); and the words that still look like a time, refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, config_from_mapping
from diagnostics.tunnels import Tunnel, TunnelRegistry, UnknownTunnel
from handlers.parse.intent import Intent
from handlers.parse.question import Question, QuestionError, TimeWindow, parse_question
from handlers.several import asked_tunnels, capped

NOW = datetime(2026, 11, 23, 15, 40, tzinfo=UTC)  # Monday 16:40 in Paris
PARIS = ZoneInfo("Europe/Paris")
GW1 = [Tunnel(name=n, azure_gateway="VPNGW01", azure_remote_ip=f"203.0.113.{i}", timezone=z)
       for i, (n, z) in enumerate((("paris", "Europe/Paris"), ("lyon", ""), ("nice", "")), 10)]
DC1 = Tunnel(name="dc1", aws_vpn_connection="vpn-0123456789abcdef0", timezone="America/New_York")
BERLIN = Tunnel(name="berlin", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.40")
REGISTRY = TunnelRegistry([*GW1, DC1, BERLIN])


def ask(text: str, registry: TunnelRegistry = REGISTRY, tz: ZoneInfo = PARIS) -> Question:
    return parse_question(text, registry, NOW, tz)


def local(day: int, hour: int, minute: int = 0, zone: ZoneInfo = PARIS) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=zone).astimezone(UTC)


# ------------------------------------------------------------------------------------------- the fleet


@pytest.mark.parametrize("text", ["what's down right now?", "any tunnels down?", "which tunnels are flapping?",
                                  "anything broken?", "status", "vpn status", "is everything ok", "sitrep"])
def test_questions_about_no_tunnel_in_particular_are_the_status_of_every_tunnel_now(text):
    q = ask(text)
    assert (q.intent, q.tunnels, q.tunnel) == (Intent.STATUS, (), None)
    assert q.window == TimeWindow(NOW - timedelta(hours=24), NOW) and q.explicit_window is False


def test_fleet_today_this_morning_and_last_hour_cover_that_period_not_yesterday():
    assert ask("anything dropping today").window == TimeWindow(local(23, 0), NOW)
    assert ask("anything drop this morning?").window == TimeWindow(local(23, 6), local(23, 12))
    assert ask("what went down in the last hour").window == TimeWindow(NOW - timedelta(hours=1), NOW)


def test_what_dropped_at_a_time_is_the_fleet_around_that_instant():
    q = ask("what dropped at 14:02 yesterday")
    assert (q.intent, q.tunnels, q.anchor) == (Intent.STATUS, (), local(22, 14, 2))


@pytest.mark.parametrize("text", ["why did it drop", "why did the tunnel drop at 14:02", "how many times did it drop"])
def test_a_tunnel_left_unsaid_is_asked_for_suggesting_status_and_summary(text):
    with pytest.raises(QuestionError) as caught:
        ask(text)
    message = str(caught.value)
    assert message.startswith("which tunnel?") and '"status"' in message and '"summary"' in message


@pytest.mark.parametrize(("text", "reference"), [
    ("what's up with kyoto", "kyoto"), ("kyoto down?", "kyoto"), ("hey kyoto status", "kyoto"),
    ("any tunnels down in kyoto", "kyoto"), ("paris-lyon down?", "paris-lyon"), ("kyoto is down", "kyoto"),
    ("madrid is still flapping", "madrid"),
])
def test_a_fleet_question_naming_an_unknown_tunnel_is_refused_not_answered_for_every_tunnel(text, reference):
    with pytest.raises(UnknownTunnel) as caught:
        ask(text)
    assert caught.value.reference == reference


@pytest.mark.parametrize("text", ["anything else down besides paris?", "all tunnels except paris",
                                  "is paris the only one down?", "is anything other than paris down",
                                  "paris down, anything else?"])
def test_the_others_than_a_tunnel_named_are_every_tunnel_not_that_one(text):
    q = ask(text)
    assert (q.intent, q.tunnels) == (Intent.STATUS, ())


def test_why_one_dropped_and_anything_else_is_still_about_that_one():
    assert [t.name for t in ask("why did paris drop, anything else?").tunnels] == ["paris"]


def test_a_summary_except_one_tunnel_is_the_summary_of_every_tunnel():
    q = ask("summary except paris")
    assert (q.intent, q.tunnels) == (Intent.SUMMARY, ())


@pytest.mark.parametrize("text", ["everything's down?", "nothing's working", "network down", "things down?",
                                  "@here anything down? customers complaining", "who's down"])
def test_loose_words_for_everything_stay_fleet_questions(text):
    assert (ask(text).intent, ask(text).tunnels) == (Intent.STATUS, ())


# ------------------------------------------------------------------------------------------ one tunnel


@pytest.mark.parametrize("text", ["paris down?", "paris up?", "@here paris is down again??", "what's wrong with paris",
                                  "what's up with paris", "is paris still flapping", "is paris ok", "paris status pls"])
def test_state_questions_about_one_tunnel_are_its_status(text):
    q = ask(text)
    assert (q.intent, q.tunnel, q.tunnels) == (Intent.STATUS, GW1[0], (GW1[0],))


@pytest.mark.parametrize("text", ["paris dwn?", "is paris downn", "paris flaping", "paris staus",
                                  "can someone check paris"])
def test_state_words_typed_in_a_hurry_are_still_status(text):
    assert ask(text).intent is Intent.STATUS


def test_check_why_asks_why_not_for_the_status():
    assert ask("check why paris dropped at 14:02").intent is Intent.WHY_DROP


def test_a_state_word_about_a_past_time_asks_what_happened_then():
    q = ask("paris down 1402 yesterday")
    assert (q.intent, q.anchor) == (Intent.WHY_DROP, local(22, 14, 2))
    assert ask("has paris been down since 14:00?").intent is Intent.STATUS  # up to now: its state
    assert ask("status paris yesterday").intent is Intent.STATUS  # the command word decides


def test_a_question_built_with_one_tunnel_lists_it_in_tunnels():
    q = Question(text="status paris", intent=Intent.STATUS, tunnel=GW1[0], window=TimeWindow(NOW, NOW), anchor=None,
                 tz=PARIS, explicit_window=False)
    assert q.tunnels == (GW1[0],)


# ------------------------------------------------------------------------------------------ several


@pytest.mark.parametrize(("text", "names"), [
    ("paris and lyon down?", ["paris", "lyon"]), ("status paris, lyon and nice", ["paris", "lyon", "nice"]),
    ("all tunnels on VPNGW01", ["paris", "lyon", "nice"]), ("paris/dc1 status", ["paris", "dc1"]),
    ("status of everything on vpngw01", ["paris", "lyon", "nice"]), ("paris (203.0.113.10) down?", ["paris"]),
])
def test_several_tunnels_are_named_in_order(text, names):
    q = ask(text)
    assert [t.name for t in q.tunnels] == names
    assert q.tunnel == (q.tunnels[0] if len(names) == 1 else None)


@pytest.mark.parametrize("text", ["status VPNGW01", "VPNGW01 status?", "is vpngw01 up"])
def test_the_state_of_a_gateway_is_the_state_of_every_tunnel_it_carries(text):
    q = ask(text)
    assert q.intent is Intent.STATUS
    assert [t.name for t in q.tunnels] == ["paris", "lyon", "nice"]


def test_why_a_gateway_alone_dropped_still_asks_which_of_its_tunnels():
    with pytest.raises(LookupError, match="matches several tunnels"):
        ask("why did VPNGW01 drop at 14:02")


def test_more_than_ten_tunnels_are_all_kept_so_the_answer_can_name_those_it_leaves_out():
    many = TunnelRegistry([Tunnel(name=f"site{n}", azure_gateway="GW", azure_remote_ip=f"10.0.0.{n}")
                           for n in range(12)])
    q = ask(" ".join(f"site{n}" for n in range(12)) + " status", registry=many)
    assert [t.name for t in q.tunnels] == [f"site{n}" for n in range(12)]
    answered, notes = capped(asked_tunnels(q))  # the answer's cap: 10, and a note naming the others
    assert len(answered) == 10 and "ask again about site10, site11" in notes[0]


def test_a_misspelt_name_in_a_list_is_refused_not_dropped():
    with pytest.raises(UnknownTunnel) as caught:
        ask("paris and lyonn down?")
    assert caught.value.suggestions == ["lyon"]


def test_evidence_for_several_tunnels_is_one_at_a_time():
    with pytest.raises(QuestionError, match="one at a time"):
        ask("evidence paris and lyon at 14:02")


# ------------------------------------------------------------------------------------------ time zones


def test_local_time_is_the_tunnels_configured_zone_else_the_askers_with_a_note():
    new_york = ZoneInfo("America/New_York")
    assert ask("why did dc1 drop at 9am local time").anchor == local(23, 9, 0, new_york)
    q = ask("why did lyon drop at 9am local time", tz=new_york)
    assert q.anchor == local(23, 9, 0, new_york) and "your zone" in q.notes[0]


@pytest.mark.parametrize("text", ["why did dc1 drop at 9am local", "why did dc1 drop at 9am in local time"])
def test_local_right_after_a_clock_is_local_time(text):
    assert ask(text).anchor == local(23, 9, 0, ZoneInfo("America/New_York"))


def test_a_place_time_after_in_is_still_that_places_clock():
    q = ask("why did lyon drop at 2pm in tokyo time", tz=ZoneInfo("America/New_York"))
    assert q.anchor == local(23, 14, 0, ZoneInfo("Asia/Tokyo"))


def test_tunnel_time_is_its_configured_zone():
    q = ask("why did lyon drop at 3:02pm dc1 time")
    assert [t.name for t in q.tunnels] == ["lyon"]  # dc1 names the clock here, not a tunnel asked about
    assert q.anchor == local(22, 15, 2, ZoneInfo("America/New_York"))


def test_a_tunnel_timezone_must_be_a_real_zone():
    with pytest.raises(ConfigError, match="unknown timezone 'Europe/Pariss'"):
        config_from_mapping({"tunnels": [{"name": "paris", "azure_gateway": "GW", "timezone": "Europe/Pariss"}]})
    config = config_from_mapping({"tunnels": [{"name": "paris", "azure_gateway": "GW", "timezone": "Europe/Paris"}]})
    assert config.tunnels[0].timezone == "Europe/Paris"


# ---------------------------------------------------------------------------------- never silently dropped


@pytest.mark.parametrize(("text", "quoted"), [
    ("why did paris drop yesterdy", '"yesterdy": did you mean "yesterday"?'), ("paris drop 3", '"3"'),
    ("why did paris drop after lunch", '"lunch"'), ("paris drop in august", '"august"'),
    ("why did paris drop hier", '"hier"'), ("paris at half past two", '"half past two"'),
    ("why did paris drop at 14:02 XST", '"XST"'), ("drops paris since 2026", '"2026"'),
    ("paris drop an hour and a half ago", '"90 min ago"'), ("paris drop 22.11.2026", '"22.11.2026"'),
    ("paris drop 22-11", '"on 20 Nov"'), ("weekly summary", '"weekly"'),
])
def test_words_that_look_like_a_time_nobody_read_are_refused_with_a_suggestion(text, quoted):
    with pytest.raises(QuestionError) as caught:
        ask(text)
    assert quoted in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("text", ["dc1 drop sat", "status fri", "did paris drop wed"])
def test_a_short_weekday_alone_is_refused_with_the_day_spelt_out(text):
    with pytest.raises(QuestionError, match=r'can\'t read the day ".+": try "on \w+day"'):
        ask(text)


@pytest.mark.parametrize(("text", "start"), [("dc1 drop sat 14:02", local(21, 13, 47)),
                                             ("paris dropped fri afternoon", local(20, 12)),
                                             ("paris drop on sat", local(21, 0))])
def test_a_short_weekday_next_to_a_time_or_after_on_is_that_day(text, start):
    assert ask(text).window.start == start


@pytest.mark.parametrize("text", ["paris now", "paris rn?", "lyon right now", "paris currently"])
def test_a_tunnel_and_now_asks_for_its_state(text):
    assert ask(text).intent is Intent.STATUS


@pytest.mark.parametrize("text", ["how did the tunnels do yesterday", "tunnels yesterday",
                                  "how were the tunnels last night"])
def test_how_the_tunnels_did_then_is_the_fleet_then_not_the_list_of_tunnels(text):
    q = ask(text)
    assert (q.intent, q.tunnels, q.explicit_window) == (Intent.STATUS, (), True)


def test_counts_are_not_times():
    assert ask("did paris drop 3 times today").intent is Intent.WHY_DROP


@pytest.mark.parametrize(("text", "anchor"), [("paris down, 100 users affected", None),
                                              ("paris dropped at 14:02, ticket 4521", local(23, 14, 2)),
                                              ("INC 0012345 paris down since 9am", None)])
def test_counts_and_ticket_numbers_around_a_question_are_no_times(text, anchor):
    assert ask(text).anchor == anchor


def test_a_reaction_naming_a_tunnel_is_no_question():
    with pytest.raises(QuestionError, match="didn't understand"):
        ask("nice, thanks!")
    assert ask("nice").intent is Intent.WHY_DROP  # a tunnel alone is still "why did it drop"


def test_imperatives_are_refused_the_bot_only_reads_logs():
    with pytest.raises(QuestionError, match="only read logs"):
        ask("restart paris")


def test_a_summary_covers_one_day():
    assert ask("summary").window == TimeWindow(local(22, 0), local(23, 0))  # yesterday, as the summary covers
    with pytest.raises(QuestionError, match="one day"):
        ask("summary for the weekend")
