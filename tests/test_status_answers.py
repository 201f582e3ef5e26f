"""What a status answer says and how every answer states its question: one tunnel's state first (up or down since
when, on which instance or AWS tunnel), then its latest drop and cause, then whether it flaps now; several tunnels
in one reply (at most 10, the rest named); the first line of every answer (text, Slack blocks, JSON) is the question
as understood, with the window in the asker's zone; and `vpnbot status` on the command line.

The answers come from the demo workspace (its scenarios: diagnostics/azure/demo.py, diagnostics/aws/demo.py) and, for
a tunnel flapping now, from the rows of tests/test_status_fleet.py in a local workspace.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.cli import run
from support.demo import DEMO_NOW
from test_status_fleet import AZURE, NOW, PARIS_TZ, weu_rows

from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.sources import Sources
from handlers.ask import answer_question, ask
from handlers.parse.intent import Intent
from handlers.parse.question import Question, TimeWindow
from handlers.render.blockkit import limit_problems
from handlers.render.blocks import render_blocks
from handlers.render.json import answer_to_json
from handlers.render.text import render_text
from handlers.several import MAX_TUNNELS
from handlers.status import status_question

UTC_ZONE = ZoneInfo("UTC")
DEMO = ("--demo", "--now", "2026-11-22T10:30:00Z")
YESTERDAY_1402 = datetime(2026, 11, 21, 14, 2, tzinfo=UTC)


def status_of(demo, *names: str, tz: ZoneInfo = UTC_ZONE):
    return answer_question(status_question(list(names), demo.registry, DEMO_NOW, tz), demo.registry, demo.sources,
                           DEMO_NOW)


def asked(demo, intent: Intent, *names: str, at: datetime = YESTERDAY_1402, language: str = "en",
          text: str = "") -> Question:
    """A question as the parser gives it (the phrasings themselves are tests/test_phrasings.py's)."""
    tunnels = tuple(demo.registry.resolve(n) for n in names)
    return Question(text=text or f"{intent.value} {' and '.join(names)}", intent=intent,
                    tunnel=tunnels[0] if len(tunnels) == 1 else None,
                    window=TimeWindow(at - timedelta(minutes=15), at + timedelta(minutes=15)), anchor=at, tz=UTC_ZONE,
                    explicit_window=True, tunnels=tunnels, language=language)


# ------------------------------------------------------------------------------------------- one tunnel


def test_one_tunnel_says_first_that_it_is_up_since_when_on_which_instance_then_its_latest_drop(demo):
    lines = render_text(status_of(demo, "paris")).splitlines()
    assert lines[1] == ("paris (VPNGW01 ↔ 203.0.113.10) is up since 2026-11-21 14:40:35 UTC on IN_0; not flapping "
                        "(no drop in the last hour)")
    assert lines[2].startswith("Latest drop: 2026-11-21 14:40:23 UTC on IN_1 → IN_0, back after 13 s")
    # The latest drop's linked findings as one story (diagnostics/chains.py), then its cause.
    assert lines[4].startswith("Story: Platform maintenance started on VPNGW01 at 14:36:51 UTC")
    assert lines[lines.index("", 5) + 1].startswith("Cause: maintenance_failover (high confidence)")


def test_a_tunnel_down_now_says_so_first_with_the_cause_so_far(demo):
    answer = status_of(demo, "porto")
    lines = render_text(answer).splitlines()
    assert lines[1].startswith("porto (VPNGW04 ↔ 198.51.100.100) is DOWN since 05:30:09 UTC (4 h 59 min so far) on "
                               "IN_0; cause so far: peer_unreachable")
    assert "still down" in lines[2]
    assert answer_to_json(answer)["state"]["state"] == "down"


def test_a_latest_drop_older_than_a_day_is_the_one_explained(demo):
    answer = status_of(demo, "munich")
    inv = answer.investigation
    assert inv.findings[0].cause.value == "gateway_failover"  # VPNGW02's reset two days ago, not "no drop found"
    assert inv.notes[0] == "No drop in the last 24 h: this is its latest drop, at 2026-11-20 03:12:24 UTC."
    first = render_text(answer).splitlines()[0]
    assert first == ("Status of munich · now, 2026-11-22 10:30 UTC; its latest drop, read in 2026-11-20 02:57–03:27 "
                     "UTC, around 03:12 UTC")


def test_an_aws_connection_names_its_two_tunnels_and_the_one_that_dropped_last(demo):
    dc2 = status_of(demo, "dc2")
    assert render_text(dc2).splitlines()[1].startswith(
        "dc2 (vpn-0b2c3d4e5f6071829) is up on both tunnels: tunnel 203.0.113.140 up since before")
    assert dc2.investigation.findings[0].cause.value == "remote_initiated"  # two days ago, found by the wider look
    assert dc2.investigation.drops[0].down_instance == "203.0.113.141"


def test_a_tunnel_flapping_now_says_so_with_its_drops_of_the_last_hour():
    workspace = LocalWorkspace(label="test workspace", origin="test")
    workspace.load_rows(weu_rows())
    answer = answer_question(status_question(["paris"], AZURE, NOW, PARIS_TZ), AZURE, Sources(kql=[workspace]), NOW)
    state_line = render_text(answer).splitlines()[1]
    assert state_line.endswith("FLAPPING now: 4 drops in the last hour")
    assert answer.investigation.findings[0].cause.value == "flapping"
    assert answer_to_json(answer)["state"]["drops_last_hour"] == 4


# ------------------------------------------------------------------------------------------- the fleet, asked


def test_what_dropped_at_a_time_yesterday_lists_who_dropped_then_with_causes_before_the_state_now(demo):
    text = render_text(ask("what dropped at 14:02 yesterday", demo.registry, demo.sources, DEMO_NOW, UTC_ZONE))
    lines = text.splitlines()
    assert lines[0] == ("Status of every tunnel (16) · what dropped around 2026-11-21 14:02 UTC (2026-11-21 "
                        "13:47–14:17 UTC), and the state now, 2026-11-22 10:30 UTC")
    assert lines[1] == "16 tunnels: 1 down, 12 up with no drop; 3 dropped then: lyon, nice, paris."
    assert [line.split(" ")[0] for line in lines[3:6]] == ["lyon", "nice", "paris"]
    assert all("14:02:06 UTC maintenance_failover" in line for line in lines[3:6])
    assert lines[6].startswith("porto is DOWN since 05:30:09 UTC")  # still the state now, after who dropped then


def test_anything_dropping_today_covers_since_midnight_up_to_now_not_yesterday(demo):
    answer = ask("anything dropping today", demo.registry, demo.sources, DEMO_NOW, UTC_ZONE)
    lines = render_text(answer).splitlines()
    assert lines[0] == "Status of every tunnel (16) · now, 2026-11-22 10:30 UTC; drops of 2026-11-22 00:00–10:30 UTC"
    assert [line.split(" ")[0] for line in lines[3:6]] == ["porto", "hamburg", "dc4"]
    assert answer_to_json(answer)["window"] == {"start": "2026-11-22T00:00:00Z", "end": "2026-11-22T10:30:00Z"}


# ------------------------------------------------------------------------------------------- several


def test_several_tunnels_get_one_section_each_in_one_reply(demo):
    answer = status_of(demo, "paris", "porto")
    text = render_text(answer)
    assert text.index("── paris ") < text.index("paris (VPNGW01 ↔ 203.0.113.10) is up since")
    assert text.index("── porto ") < text.index("porto (VPNGW04 ↔ 198.51.100.100) is DOWN since")
    assert text.splitlines()[0] == ("Status of paris, porto · now, 2026-11-22 10:30 UTC; the latest drop of each (the "
                                    "last 24 h, else the latest before)")
    doc = answer_to_json(answer)
    assert [t["tunnel"]["name"] for t in doc["tunnels"]] == ["paris", "porto"]
    assert [t["state"]["state"] for t in doc["tunnels"]] == ["up", "down"] and doc["tunnel"] is None
    message = render_blocks(answer)
    assert limit_problems(message) == []
    headline = next(b["text"]["text"] for b in message["blocks"] if b["type"] == "header")
    assert headline == "paris up, porto DOWN"


def test_why_did_several_tunnels_drop_answers_each_of_them(demo):
    answer = answer_question(asked(demo, Intent.WHY_DROP, "paris", "lyon"), demo.registry, demo.sources, DEMO_NOW)
    assert [p.investigation.findings[0].cause.value for p in answer.parts] == ["maintenance_failover"] * 2
    sections = [b["text"]["text"] for b in render_blocks(answer)["blocks"] if b["type"] == "section"]
    assert sections[0].startswith("*paris*: paris (VPNGW01 ↔ 203.0.113.10) dropped at 2026-11-21 14:02:06 UTC")
    assert any(s.startswith("*lyon*: lyon (VPNGW01 ↔ 203.0.113.20) dropped at 2026-11-21 14:02:") for s in sections)


def test_more_than_ten_tunnels_are_cut_to_ten_with_a_note_naming_the_rest(capsys):
    names = ["paris", "lyon", "nice", "berlin", "munich", "hamburg", "madrid", "rome", "milan", "porto", "seville",
             "dc1"]
    code, out, _ = run(capsys, "status", *names, *DEMO, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and len(doc["tunnels"]) == MAX_TUNNELS
    assert "You named 12 tunnels: this answers the first 10 (at most 10 in one question); ask again about seville, " \
           "dc1." in doc["notes"]


# ------------------------------------------------------------------------------------------- the first line


def test_every_answer_states_the_question_it_answered_in_its_first_line(demo):
    answer = answer_question(asked(demo, Intent.WHY_DROP, "paris"), demo.registry, demo.sources, DEMO_NOW)
    first = "Why paris dropped · 2026-11-21 13:47–14:17 UTC, around 14:02 UTC"
    assert render_text(answer).splitlines()[0] == first
    assert render_blocks(answer)["blocks"][0] == {"type": "context", "elements": [{"type": "mrkdwn", "text": first}]}
    understood = answer_to_json(answer)["understood"]
    assert understood == {"text": first, "tunnels": ["paris"], "zone": "UTC", "anchor": "2026-11-21T14:02:00Z",
                          "language": "en", "notes": []}


def test_how_a_loose_time_was_read_is_said_under_the_first_line_in_text_blocks_and_json(demo):
    answer = ask("why did paris drop yesterday at 14:02 local time", demo.registry, demo.sources, DEMO_NOW,
                 ZoneInfo("America/New_York"))
    note = '"local time" is read in your zone (America/New_York): no tunnel asked about has a timezone'
    assert render_text(answer).splitlines()[1] == note
    assert note in render_blocks(answer)["blocks"][0]["elements"][0]["text"]
    assert answer_to_json(answer)["understood"]["notes"] == [note]


def test_the_first_line_is_in_the_askers_zone(demo):
    answer = status_of(demo, "paris", tz=ZoneInfo("Asia/Tokyo"))
    # its state now, and the day its latest drop was read in (not the fleet's last hour)
    first = render_text(answer).splitlines()[0]
    assert first == ("Status of paris · now, 2026-11-22 19:30 JST (10:30 UTC); its latest drop, read in 2026-11-21 "
                     "19:30–2026-11-22 19:30 JST (2026-11-21 10:30–2026-11-22 10:30 UTC)")


def test_a_question_in_another_language_is_answered_in_english_and_says_so(demo):
    question = asked(demo, Intent.WHY_DROP, "paris", language="fr", text="pourquoi le tunnel paris est tombé hier "
                                                                         "à 14h02")
    answer = answer_question(question, demo.registry, demo.sources, DEMO_NOW)
    assert render_text(answer).splitlines()[0].endswith("around 14:02 UTC (answered in English)")
    assert answer_to_json(answer)["understood"]["language"] == "fr"


def test_a_summary_of_named_tunnels_states_them_and_the_day(demo):
    question = asked(demo, Intent.SUMMARY, "paris", "lyon", at=datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    text = render_text(answer_question(question, demo.registry, demo.sources, DEMO_NOW))
    assert text.splitlines()[0] == "Summary of paris, lyon · Saturday 21 November 2026 (UTC)"
    assert text.splitlines()[2].startswith("2 tunnels: ")
    assert {line.split(":")[0] for line in text.splitlines()[4:6]} == {"paris", "lyon"}


# ------------------------------------------------------------------------------------------- the command


def test_vpnbot_status_lists_every_tunnel_troubled_first(capsys):
    code, out, err = run(capsys, "status", *DEMO)
    lines = out.splitlines()
    assert code == 0 and "demo workspace" in err
    assert lines[0].startswith("Status of every tunnel (16) · now, 2026-11-22 10:30 UTC")
    assert lines[3].startswith("porto is DOWN since 05:30:09 UTC")


@pytest.mark.parametrize("fmt", ["text", "json", "blocks"])
def test_vpnbot_status_of_a_tunnel_answers_in_every_format(capsys, fmt):
    code, out, _ = run(capsys, "status", "branch-lyon", *DEMO, "--format", fmt)
    assert code == 0 and "lyon" in out
    if fmt == "json":
        assert json.loads(out)["tunnels"][0]["state"]["state"] == "up"
    if fmt == "blocks":
        assert limit_problems(json.loads(out)) == []


def test_vpnbot_status_of_an_unknown_tunnel_is_one_line_with_the_closest_names(capsys):
    code, out, err = run(capsys, "status", "pariss", *DEMO)
    assert code == 2 and out == ""
    assert err.strip().endswith("vpnbot: error: unknown tunnel 'pariss': did you mean 'paris'?")
