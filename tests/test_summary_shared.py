"""09:00 for many channels: the channels whose daily summary is due at the same time share the reads of the logs
(one pushed-down counts query per Log Analytics workspace, whatever the number of channels), and each channel gets
the summary it would have had alone, limited to its own tunnels. Through the real scheduler, the real Bolt-side
poster, the fake Web API and the real LogsQueryClient against the local Log Analytics endpoint."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.fake_slack_api import running_bot

from bot.config import ChannelSettings, SubscriptionSettings, config_from_mapping
from bot.scheduler import lower_thread_priority
from bot.slack.core import BotOptions
from bot.slack.subscriptions import summary_scheduler
from bot.workspace import Workspace
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.azure import demo as azure_demo
from diagnostics.sources import Sources
from diagnostics.summary.build import summarize_day
from diagnostics.summary.shared import SharedDays

NINE = datetime(2026, 11, 22, 8, 0, 30, tzinfo=UTC)  # 09:00:30 in Paris
DAY = date(2026, 11, 21)
PARIS = ZoneInfo("Europe/Paris")
WORKSPACE_ID = "7f3c2a10-5b6d-4e8f-9a01-23456789abcd"
COUNTS = "by Gateway = toupper(Resource), Remote, Day"  # the pushed-down counts query's last line
LIMITED = "C0LIMITED"
#: Channel -> the tunnels its subscription names (() = all).
SUBSCRIPTIONS = {"C0ALL": (), "C0PARIS": ("paris",), "C0SOUTH": ("nice", "madrid"), "C0NORTH": ("lyon", "paris"),
                 "C0MADRID": ("madrid",), LIMITED: ()}


@pytest.fixture(scope="module")
def rows():
    return azure_demo.generate_rows(NINE)


@pytest.fixture
def azure_workspace(rows, log_analytics, azure_source):
    """The demo's Azure tunnels, their logs in a Log Analytics workspace on the local endpoint."""
    server = log_analytics({WORKSPACE_ID: rows})
    registry = config_from_mapping({"timezone": "Europe/Paris", "tunnels": azure_demo.DEMO_TUNNELS}).registry
    return server, Workspace(registry, Sources(kql=[azure_source(server, WORKSPACE_ID)]), "Europe/Paris")


def queries(server) -> list[str]:
    return [r.body["query"] for r in server.requests if isinstance(r.body, dict) and "query" in r.body]


def subscriptions(channels=SUBSCRIPTIONS) -> tuple[SubscriptionSettings, ...]:
    return tuple(SubscriptionSettings(channel, "09:00", "Europe/Paris", tunnels) for channel, tunnels in
                 channels.items())


def test_channels_due_at_once_send_one_counts_query_per_workspace(azure_workspace, slack_api, tmp_path):
    server, workspace = azure_workspace
    api = slack_api()
    options = BotOptions(channels=(ChannelSettings(id=LIMITED, tunnels=("lyon", "nice")),))
    with running_bot(api, workspace, tmp_path / "state.db", NINE, options) as bot:
        outcomes = summary_scheduler(bot.bot, subscriptions()).tick(NINE)
    assert sorted(o.channel for o in outcomes if o.status == "posted") == sorted(SUBSCRIPTIONS)
    sent = queries(server)
    assert sum(COUNTS in q for q in sent) == 1, sent
    # ... and no more queries than one channel summarising every tunnel alone
    alone = len(sent)
    server.requests.clear()
    summarize_day(workspace.registry, workspace.sources, DAY, PARIS, NINE)
    assert alone == len(queries(server))
    posted = {c["channel"]: str(c.blocks) for c in api.calls_to("chat.postMessage")}
    assert "paris" in posted["C0PARIS"] and "madrid" not in posted["C0PARIS"]
    assert "madrid" in posted["C0SOUTH"] and "nice" in posted["C0SOUTH"] and "paris" not in posted["C0SOUTH"]
    assert "lyon" in posted[LIMITED] and "paris" not in posted[LIMITED] and "madrid" not in posted[LIMITED]


def test_each_channel_gets_the_summary_it_would_have_had_alone(azure_workspace):
    _, workspace = azure_workspace
    shared = SharedDays(workspace.registry, workspace.sources, lambda: NINE)
    wanted = [None, ["paris"], ["nice", "madrid"], ["lyon", "paris"]]
    shared.plan([(DAY, PARIS, tunnels) for tunnels in wanted])
    for tunnels in wanted:
        mine = shared.summary(DAY, PARIS, tunnels)
        alone = summarize_day(workspace.registry, workspace.sources, DAY, PARIS, NINE, tunnels)
        assert mine.tunnels and sorted(mine.tunnels, key=lambda t: t.name) == sorted(alone.tunnels,
                                                                                      key=lambda t: t.name)
        assert mine.unknown == alone.unknown
    assert shared.made == 1


def test_channels_of_another_zone_or_day_are_summarised_apart(azure_workspace):
    server, workspace = azure_workspace
    shared = SharedDays(workspace.registry, workspace.sources, lambda: NINE)
    london = ZoneInfo("Europe/London")
    shared.plan([(DAY, PARIS, ["paris"]), (DAY, london, ["paris"]), (DAY - timedelta(days=1), PARIS, ["lyon"])])
    shared.summary(DAY, PARIS, ["paris"])
    shared.summary(DAY, london, ["paris"])
    shared.summary(DAY - timedelta(days=1), PARIS, ["lyon"])
    assert shared.made == 3
    assert sum(COUNTS in q for q in queries(server)) == 3


def test_a_channel_naming_an_unknown_tunnel_fails_alone(azure_workspace):
    from diagnostics.tunnels import UnknownTunnel

    _, workspace = azure_workspace
    shared = SharedDays(workspace.registry, workspace.sources, lambda: NINE)
    shared.plan([(DAY, PARIS, ["paris"]), (DAY, PARIS, ["atlantis"])])
    assert [t.name for t in shared.summary(DAY, PARIS, ["paris"]).tunnels] == ["paris"]
    with pytest.raises(UnknownTunnel):
        shared.summary(DAY, PARIS, ["atlantis"])


def test_a_narrowed_summary_says_nothing_of_the_other_channels_tunnels(azure_workspace):
    _, workspace = azure_workspace
    shared = SharedDays(workspace.registry, workspace.sources, lambda: NINE)
    shared.plan([(DAY, PARIS, None), (DAY, PARIS, ["paris"])])
    union = shared.summary(DAY, PARIS, None)
    union.notes.append("madrid logged nothing after 23:10")  # a note about another tunnel
    union.notes.append("Log Analytics can lag about 15 minutes")
    mine = shared.summary(DAY, PARIS, ["paris"])
    assert "Log Analytics can lag about 15 minutes" in mine.notes
    assert not any("madrid" in n for n in mine.notes)


def test_channels_given_the_same_tunnels_share_one_picture(azure_workspace):
    _, workspace = azure_workspace
    shared = SharedDays(workspace.registry, workspace.sources, lambda: NINE)
    shared.plan([(DAY, PARIS, None), (DAY, PARIS, None), (DAY, PARIS, ["paris"]), (DAY, PARIS, ["paris"])])
    drawn: list[str] = []

    def draw(summary) -> bytes:
        drawn.append(",".join(sorted(t.name for t in summary.tunnels)))
        return drawn[-1].encode()

    pictures = [shared.drawn(shared.summary(DAY, PARIS, tunnels), draw) for tunnels in (None, None, ["paris"],
                                                                                         ["paris"])]
    assert len(drawn) == 2 and pictures[0] == pictures[1] and pictures[2] == pictures[3] == b"paris"


def test_the_scheduler_thread_runs_nicer_than_the_question_workers():
    seen: list[int] = []

    def thread() -> None:
        import os  # lazy load: this test's thread reads its own niceness

        before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        lower_thread_priority(5)
        seen.extend([before, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())])

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join()
    assert seen[1] == min(19, seen[0] + 5)


class CountedEvents(MemoryLogSource):
    """The AWS demo's events, counting the reads of a whole log group (the summary's one read a group a day)."""

    def __init__(self, records, **options) -> None:
        super().__init__(records, **options)
        self.group_reads = 0

    def read_group(self, request, sink=None):
        self.group_reads += 1
        return super().read_group(request, sink)


def test_aws_channels_due_at_once_read_each_log_group_once():
    from bot.config import config_from_mapping as mapping
    from diagnostics.aws import demo as aws_demo

    registry = mapping({"tunnels": aws_demo.DEMO_AWS_TUNNELS}).registry
    records = aws_demo.generate_records(NINE)

    def events() -> CountedEvents:
        return CountedEvents(records, label="demo AWS tunnel logs", origin="demo", log_group=aws_demo.LOG_GROUP)

    alone = events()
    summarize_day(registry, Sources(aws=[alone]), DAY, PARIS, NINE)
    shared_source = events()
    shared = SharedDays(registry, Sources(aws=[shared_source]), lambda: NINE)
    names = [t.name for t in registry]
    wanted = [None, names[:1], names[1:3], names[:2]]
    shared.plan([(DAY, PARIS, tunnels) for tunnels in wanted])
    for tunnels in wanted:
        assert shared.summary(DAY, PARIS, tunnels).tunnels
    assert shared_source.group_reads == alone.group_reads >= 1
