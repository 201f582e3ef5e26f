"""Questions in French, German, Spanish and Japanese: understood with the same intents, tunnels and windows as in
English (answers stay in English; `Question.language` says so), or refused in one line with an English example."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.tunnels import AmbiguousTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.parse.intent import Intent
from handlers.parse.languages import FRENCH, GERMAN, JAPANESE, SPANISH
from handlers.parse.question import QuestionError, parse_question

NOW = datetime(2026, 11, 23, 15, 40, tzinfo=UTC)
REGISTRY = TunnelRegistry([Tunnel(name="paris", aliases=("par",), azure_gateway="GW1", azure_remote_ip="203.0.113.10"),
                           Tunnel(name="lyon", azure_gateway="GW1", azure_remote_ip="203.0.113.20")])


def ask(text: str, zone: str = "Europe/Paris"):
    return parse_question(text, REGISTRY, NOW, ZoneInfo(zone))


def at(day: int, hour: int, minute: int, zone: str = "Europe/Paris") -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(("text", "zone", "language"), [
    ("pourquoi le tunnel paris est tombé hier à 14h02", "Europe/Paris", "fr"),
    ("warum ist paris gestern um 14:02 ausgefallen", "Europe/Berlin", "de"),
    ("¿por qué se cayó paris ayer a las 14:02?", "Europe/Madrid", "es"),
    ("parisはなぜ昨日14時02分に落ちたの？", "Asia/Tokyo", "ja"),
])
def test_why_did_paris_drop_yesterday_at_1402_in_four_languages(text, zone, language):
    q = ask(text, zone)
    yesterday = NOW.astimezone(ZoneInfo(zone)).day - 1
    assert (q.intent, q.tunnel.name, q.language) == (Intent.WHY_DROP, "paris", language)
    assert q.anchor == at(yesterday, 14, 2, zone)


@pytest.mark.parametrize(("text", "intent", "tunnels"), [
    ("paris est down ?", Intent.STATUS, ["paris"]), ("quels tunnels sont down ?", Intent.STATUS, []),
    ("résumé d'hier", Intent.SUMMARY, []), ("ist paris down?", Intent.STATUS, ["paris"]),
    ("welche tunnel sind down?", Intent.STATUS, []), ("zusammenfassung von gestern", Intent.SUMMARY, []),
    ("¿paris está caído?", Intent.STATUS, ["paris"]), ("¿qué túneles están caídos?", Intent.STATUS, []),
    ("resumen de ayer", Intent.SUMMARY, []), ("parisは落ちてる？", Intent.STATUS, ["paris"]),
    ("どのトンネルがダウンしてる？", Intent.STATUS, []), ("昨日のサマリー", Intent.SUMMARY, []),
    ("昨日落ちたトンネルは？", Intent.STATUS, []), ("parisのトンネルは？", Intent.WHY_DROP, ["paris"]),
    ("lyon ça va ?", Intent.STATUS, ["lyon"]),
])
def test_status_fleet_status_and_summary_in_other_languages(text, intent, tunnels):
    q = ask(text)
    assert q.intent is intent and [t.name for t in q.tunnels] == tunnels and q.language != "en"


def test_french_est_is_never_a_time_zone():
    q = ask("pourquoi le tunnel paris est tombé hier à 14h02", "America/New_York")
    assert q.anchor == at(22, 14, 2, "America/New_York")


@pytest.mark.parametrize(("text", "language"), [
    ("paris down 14:02 EST", "en"), ("paris 14:02 EST", "en"), ("pourquoi paris est tombé hier à 14:02 EST", "fr"),
])
def test_est_next_to_a_time_is_new_york_time_and_does_not_make_the_question_french(text, language):
    q = ask(text)  # asked from Paris: read as Paris time, 14:02 would be 08:02 in New York
    assert q.language == language
    assert q.anchor.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "14:02"


@pytest.mark.parametrize("text", ["peux-tu redémarrer le tunnel paris", "kannst du mir die Logs von paris schicken",
                                  "¿puedes reiniciar el túnel paris?", "parisの設定を変更してください"])
def test_a_question_with_words_we_do_not_know_is_refused_with_an_english_example(text):
    with pytest.raises(QuestionError) as caught:
        ask(text)
    message = str(caught.value)
    assert "ask in English" in message and '"why did tunnel paris drop at 14:02"' in message and "\n" not in message


@pytest.mark.parametrize("text", ["perché il tunnel paris è caduto ieri alle 14:02", "waarom viel paris gisteren uit",
                                  "почему paris упал вчера", "巴黎隧道为什么昨天断了"])
def test_languages_we_do_not_read_are_refused_never_misread(text):
    with pytest.raises(QuestionError, match="I read questions in English, French, German, Spanish and Japanese"):
        ask(text)


def test_a_misspelt_tunnel_in_another_language_gets_the_closest_name():
    with pytest.raises(UnknownTunnel) as caught:
        ask("pourquoi pariss est tombé hier")
    assert caught.value.suggestions == ["paris"]


def test_english_questions_say_english():
    assert ask("why did paris drop at 14:02").language == "en"
    assert ask("status paris stp").language == "en"  # a French "please" does not make it French


_WORDS = sorted({key for lang in (FRENCH, GERMAN, SPANISH) for key in (*lang.words, *lang.numeric)}
                | set(list(JAPANESE.words)[:80]) | {"paris", "lyon", "14h02", "14:02", "9", "2026-11-20", "?"})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8).map(" ".join))
def test_any_mix_of_foreign_words_is_read_or_refused_in_one_line(text):
    try:
        q = ask(text)
    except (QuestionError, UnknownTunnel, AmbiguousTunnel) as problem:
        assert len(str(problem).splitlines()) == 1
    else:
        assert q.window.start <= q.window.end <= NOW
