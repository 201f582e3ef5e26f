"""`vpnbot`: the command line. A thin layer over `handlers` and `diagnostics`, which people can import too.

Exit status: 0 when a question was answered (even "no drop found"), 2 on bad input (unknown tunnel, unreadable
time, unreadable file or configuration), 1 when no log source could answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config import Config, ConfigError, check_zone, find_config_file, load_config, names_state_db, state_location
from bot.workspace import Workspace, open_workspace, tunnels_json
from handlers.tunnels import tunnels_text

if TYPE_CHECKING:
    from handlers.answer import Answer

# Each command imports what it uses inside its `run_…` function (lazy loads): a fresh process pays only for its
# own command, so `vpnbot tunnels` never loads DuckDB, the question parser, the rules or the evidence code
# (docs/architecture.md#startup, tests/test_startup.py).

BAD_INPUT = 2
SOURCE_FAILED = 1
FORMATS = ("text", "json", "blocks")
#: The errors that mean bad input (exit 2) and a source that could not answer (exit 1), by module and name: an
#: exception can only be one of them if its module was loaded, so `main` looks them up in sys.modules instead of
#: importing every command's modules to catch their errors.
#: The export readers' refusals are ExportError (and its subclasses) or one of the classes after it, which the readers
#: turn into ExportError today but which say "bad file" if one ever escapes (tests/test_export_refusals.py pins both).
BAD_INPUT_ERRORS = (("handlers.parse.question", "QuestionError"), ("diagnostics.tunnels", "UnknownTunnel"),
                    ("diagnostics.tunnels", "AmbiguousTunnel"), ("diagnostics.exportfile", "ExportError"),
                    ("diagnostics.summary.build", "SummaryError"), ("diagnostics.azure.export_load", "NotAnExport"),
                    ("diagnostics.azure.export_times", "TimeRefusal"),
                    ("diagnostics.aws.attribution", "AttributionError"))
SOURCE_ERRORS = (("diagnostics.model", "InvestigationError"), ("bot.state", "StoreUnavailable"))


class UsageError(ValueError):
    pass


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """The options every log-reading command shares (docs/asking.md)."""
    group = parser.add_argument_group("log sources")
    group.add_argument("--config", metavar="FILE", help="configuration file (default: $VPNBOT_CONFIG, ./vpnbot.toml)")
    group.add_argument("--azure-export", metavar="FILE", action="append", default=[],
                       help="Azure logs exported as CSV (portal), JSON (az monitor log-analytics query) or "
                            "resource-log JSON lines; repeatable")
    group.add_argument("--aws-export", metavar="FILE", action="append", default=[],
                       help="AWS tunnel logs: `aws logs filter-log-events` / `get-log-events` output (JSON or "
                            "--output text), a Logs Insights CSV, or the log messages themselves; repeatable")
    group.add_argument("--aws-stream", metavar="NAME", type=aws_stream_option,
                       help="the log stream (vpn-<id>-<tunnel outside IP>) of --aws-export events that name none, "
                            "e.g. `aws logs get-log-events` output")
    group.add_argument("--export-tz", metavar="ZONE", type=export_zone_option,
                       help="the time zone of the browser that exported a portal CSV in local time "
                            "(`TimeGenerated [Local Time]`); such a file is refused without it")
    group.add_argument("--demo", action="store_true", help="use the built-in demo workspace")
    group.add_argument("--now", metavar="ISO8601", help="pin 'now' (relative times resolve against it)")
    group.add_argument("--tz", metavar="IANA_ZONE", help="the asker's time zone (default: config timezone, else UTC)")


def aws_stream_option(text: str) -> str:
    from diagnostics.aws.attribution import AttributionError, check_stream_option  # lazy load: only with the option

    try:
        return check_stream_option(text)
    except AttributionError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--aws-stream {text!r} ")) from None


def export_zone_option(text: str) -> str:
    from diagnostics.azure.export_times import export_zone  # lazy load: only with the option

    try:
        return export_zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--export-tz ")) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vpnbot", description="Explain why a site-to-site VPN tunnel dropped.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask_cmd = commands.add_parser("ask", help="answer one question", description="Answer one question, e.g. "
                                  '"why did tunnel paris drop at 14:02".')
    ask_cmd.add_argument("question", help="the question, in plain words")
    add_source_options(ask_cmd)
    ask_cmd.add_argument("--format", choices=FORMATS, default="text")
    ask_cmd.add_argument("--png", metavar="FILE", help="also draw the chart of a drop answer into FILE (the picture "
                                                       "the Slack bot posts in the answer's thread)")

    chat = commands.add_parser("chat", help="interactive console that answers like the Slack bot")
    add_source_options(chat)

    tunnels = commands.add_parser("tunnels", help="list the tunnels the bot knows")
    add_source_options(tunnels)
    tunnels.add_argument("--format", choices=("text", "json"), default="text")

    serve = commands.add_parser(
        "serve", help="run the Slack bot",
        description="Run the Slack bot: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on --port at "
                    "/slack/events (health: /healthz). Needs SLACK_BOT_TOKEN, and SLACK_SIGNING_SECRET in HTTP mode.")
    add_source_options(serve)
    serve.add_argument("--port", type=int, default=3000, help="HTTP mode: port to listen on (default 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on (default 0.0.0.0)")

    summary = commands.add_parser(
        "summary", help="the daily tunnel summary",
        description="How every tunnel did over one local day (default: yesterday in --tz, else the configured "
                    "timezone): uptime, drops, downtime, causes, flapping, AWS redundancy, logging gaps.")
    add_source_options(summary)
    summary.add_argument("--day", metavar="YYYY-MM-DD", help="the local day to summarise (default: yesterday)")
    summary.add_argument("--png", metavar="FILE", help="also draw the day's timeline picture into FILE")
    summary.add_argument("--format", choices=FORMATS, default="text")
    summary.add_argument("--tunnel", metavar="NAME", action="append", default=[],
                         help="only this tunnel (repeatable; default: every tunnel)")
    status = commands.add_parser(
        "status", help="every tunnel's state now, or those tunnels'",
        description="Every tunnel's state now (fleet status): up, DOWN since when and the cause so far, flapping "
                    "(drops in the last hour), no logs, unknown; troubled tunnels first, the healthy ones on one line, "
                    "with the drops of the last hour and their causes. Named tunnels get their state first, then "
                    "their latest drop explained.")
    status.add_argument("tunnels", nargs="*", metavar="TUNNEL",
                        help="a tunnel name, alias or identifier (several allowed, at most 10; default: every tunnel)")
    add_source_options(status)
    status.add_argument("--format", choices=FORMATS, default="text")
    evidence = commands.add_parser(
        "evidence", help="package an investigation for the cloud vendor's support (zip)",
        description="A support-ready zip of one investigation: report.md, case.txt (the support-case text for Azure "
                    "or AWS), the rows of every query re-read as CSV and JSON Lines, the exact queries with their "
                    "time ranges, the tunnel's configuration (never secrets), SHA256SUMS and manifest.json. --id "
                    "reads the investigation from the state store (the Slack bot's, or the config's state_db); "
                    "--question answers a question first and stores it.")
    add_source_options(evidence)
    which = evidence.add_mutually_exclusive_group()
    which.add_argument("--question", metavar="Q", help='a question to answer and bundle, e.g. "why did paris drop '
                                                       'at 14:02"')
    which.add_argument("--id", metavar="N", type=int, help="a stored investigation id (the Slack answer's, or the "
                                                           "one `vpnbot ask` printed)")
    evidence.add_argument("--out", metavar="FILE.zip", help="where to write the zip (default: "
                                                            "vpnbot-evidence-<id>-<tunnel>-<start>.zip here)")
    evidence.add_argument("--redact-ips", action="store_true",
                          help="replace public IP addresses by IP-1, IP-2, … (the same token in every file)")
    evidence.add_argument("--hash-users", action="store_true",
                          help="replace point-to-site usernames (as masked in the logs) by a SHA-256 token")
    explain = commands.add_parser(
        "explain", help="explain log lines someone pasted or a file they sent",
        description="Explain a log file, or log lines on standard input (-): an Azure or AWS export is investigated "
                    "over its time span; Network Watcher's IKElogs.txt / IKEErrors.txt / Scrubbed-wfpdiag.txt, IKE "
                    "messages without times and strongSwan, Libreswan, Cisco or FortiGate logs get the negotiation "
                    "analysis, without a timeline.")
    explain.add_argument("file", metavar="FILE", help="the file to explain, or - for standard input")
    add_source_options(explain)
    explain.add_argument("--tunnel", metavar="NAME", help="the tunnel to explain when the file holds several")
    explain.add_argument("--format", choices=FORMATS, default="text")
    watch = commands.add_parser(
        "watch", help="report each new tunnel drop once, explained",
        description="Report the tunnel drops whose log rows became queryable since the last run (the watermark in "
                    "the state store), each once, explained like an answer: a failover with its duration, a flap "
                    "series as one incident, tunnels of one gateway dropping together as one. --once polls once "
                    "(for cron); without it, polls every --every seconds until interrupted.")
    add_source_options(watch)
    watch.add_argument("--once", action="store_true", help="poll once and exit")
    watch.add_argument("--since", metavar="ISO8601", help="the first watermark when the state store has none "
                                                          "(default: now − 15 min)")
    watch.add_argument("--every", metavar="SECONDS", type=int, default=60, help="seconds between polls (default 60)")
    watch.add_argument("--state-db", metavar="LOCATION", help="the state store, a SQLite file or a postgresql:// URL "
                                                              "(default: $VPNBOT_STATE_URL, the config's state_db, "
                                                              "else ./vpnbot.db)")
    watch.add_argument("--format", choices=("text", "json"), default="text")
    add_db_parser(commands)
    return parser


def add_db_parser(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser(
        "db", help="the state store: status, upgrade, copy",
        description="The state store (state_db: a SQLite file, or a postgresql:// URL; VPNBOT_STATE_URL wins). "
                    "docs/state.md says how to move an installation to PostgreSQL.")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    for name, text in (("status", "backend, location, schema version, pending migration steps, rows per table"),
                       ("upgrade", "apply the pending migration steps (the bot also does at start)")):
        action = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        action.add_argument("--config", metavar="FILE", help="configuration file (default: $VPNBOT_CONFIG, "
                                                             "./vpnbot.toml)")
        action.add_argument("--state-db", metavar="LOCATION", help="the store (default: $VPNBOT_STATE_URL, the "
                                                                   "config's state_db, ./vpnbot.db)")
    copy = actions.add_parser("copy", help="copy every row of one store into another (e.g. SQLite to PostgreSQL)",
                              description="Copy every table of --from into --to (ids kept), both upgraded to the "
                                          "latest schema first; each table's row count is checked. Stop the bot "
                                          "first.")
    copy.add_argument("--from", dest="source", metavar="SRC", required=True, help="the store to read")
    copy.add_argument("--to", dest="target", metavar="DST", required=True, help="the store to fill (empty)")
    copy.add_argument("--force", action="store_true", help="replace the rows DST has")


def parse_now(text: str | None, tz: ZoneInfo) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now {text!r} is not an ISO 8601 time; example: --now 2026-11-21T14:30:00Z") from None
    return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)


def resolve_setup(args: argparse.Namespace, serving: bool = False,
                  logs: bool = True) -> tuple[Config | None, Workspace, ZoneInfo, datetime]:
    """The configuration, the workspace, the asker's zone and now. `logs` False: only the tunnels are needed."""
    config_path = find_config_file(args.config)
    config = load_config(config_path) if config_path else None
    tz_name = args.tz or (config.timezone if config else None)
    zone = check_zone(tz_name) if tz_name else None
    now = parse_now(args.now, zone or ZoneInfo("UTC"))
    # `serve` must start listening whatever EC2 does: its tunnel discovery runs in the background.
    workspace = open_workspace(config, args.azure_export, args.demo, now, args.aws_export,
                               discover_in_background=serving, export_tz=args.export_tz,
                               aws_stream=getattr(args, "aws_stream", None) or "", logs=logs,
                               pinned=bool(args.now))
    if zone is None:
        zone = ZoneInfo(workspace.timezone)
    return config, workspace, zone, now


def say(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def run_ask(args: argparse.Namespace) -> int:
    from handlers.ask import ask  # lazy load: the parser, the rules and the log readers

    config, workspace, zone, now = resolve_setup(args)
    answer = ask(args.question, workspace.registry, workspace.sources, now, zone, progress=progress_printer())
    print_answer(answer, workspace, args.format)
    if args.png:
        write_chart(answer, args.png)
    kept = None
    if config is not None and names_state_db(config):
        from bot.evidence import keep_answer  # lazy load: the state store, only when the configuration names one

        kept = keep_answer(config, answer, now)
    if kept is not None:  # the id goes to stderr (stdout is the answer)
        question_id, path = kept
        say([f"Saved as investigation {question_id} in {path}: `vpnbot evidence --id {question_id}` packages it "
             "for support."])
    return 0


def write_chart(answer: Answer, path: str) -> None:
    """`ask --png FILE`: the chart of a drop answer (docs/asking.md#the-chart-of-an-incident), one file per tunnel for
    a question about several (FILE's name with the tunnel's before its suffix); one line on stderr when the answer
    has no drop to chart."""
    charts = answer.charts
    if not charts:
        say([f"No chart written to {path}: the answer has no drop to chart."])
        return
    from handlers.incident_chart import safe_name  # lazy load: with the chart
    from handlers.render.incident_png import render_incident_png  # lazy load: Pillow, only when a chart is asked

    target = Path(path)
    written = []
    for chart in charts:
        one = f"{target.stem}-{safe_name(chart.tunnel)}{target.suffix}"
        out = target if len(charts) == 1 else target.with_name(one)
        try:
            out.write_bytes(render_incident_png(chart))
        except OSError as exc:
            raise UsageError(f"cannot write --png {out}: {exc.strerror}") from None
        written.append(str(out))
    if len(written) > 1:
        say([f"Charts written to {', '.join(written)}."])


def print_answer(answer: Answer, workspace: Workspace, fmt: str) -> None:
    """The answer on stdout; the workspace's notes and problems on stderr (said only once there is an answer, so
    that bad input costs exactly one line there), its problems also in the answer."""
    say(workspace.notes + workspace.problems)
    answer.notes += workspace.problems
    print(render(answer, fmt), end="")


def progress_printer():
    """Per-source progress on a terminal ("Log Analytics workspace …: 412 rows"); silent when piped."""
    if not sys.stderr.isatty():
        return None
    return lambda line: print(f"… {line}", file=sys.stderr)


def render(answer: Answer, fmt: str) -> str:
    if fmt == "json":
        from handlers.render.json import answer_to_json  # lazy load: only the renderer of the format asked

        return json.dumps(answer_to_json(answer), indent=2, ensure_ascii=False) + "\n"
    if fmt == "blocks":
        from handlers.render.blocks import render_blocks  # lazy load: see above

        return json.dumps(render_blocks(answer), indent=2, ensure_ascii=False) + "\n"
    from handlers.render.text import render_text  # lazy load: see above

    return render_text(answer)


def run_summary(args: argparse.Namespace) -> int:
    # lazy loads: the summary's readers and renderers
    from diagnostics.model import InvestigationError
    from diagnostics.summary.build import previous_day, summarize_day
    from handlers.render.summary import summary_json, summary_text
    from handlers.render.summary_blocks import summary_blocks

    _, workspace, zone, now = resolve_setup(args)
    day = parse_day(args.day) if args.day else previous_day(now, zone)
    summary = summarize_day(workspace.registry, workspace.sources, day, zone, now, args.tunnel,
                            progress=progress_printer())
    say(workspace.notes + workspace.problems)
    if summary.failures and not summary.tunnels:
        raise InvestigationError("; ".join(summary.failures))
    if args.png:
        from handlers.render.timeline_png import render_timeline_png  # Pillow loads only when a picture is asked

        try:
            with open(args.png, "wb") as fh:
                fh.write(render_timeline_png(summary))
        except OSError as exc:
            raise UsageError(f"cannot write --png {args.png}: {exc.strerror}") from None
    if args.format == "json":
        print(json.dumps(summary_json(summary), indent=2, ensure_ascii=False))
    elif args.format == "blocks":
        print(json.dumps({"text": (r := summary_blocks(summary)).text, "blocks": r.blocks}, indent=2,
                         ensure_ascii=False))
    else:
        print(summary_text(summary), end="")
    return 0


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--day {text!r} is not a date; example: --day 2026-11-21") from None


def run_status(args: argparse.Namespace) -> int:
    """`vpnbot status [TUNNEL…]`: thin over `handlers.status.status_of`."""
    from handlers.status import status_of  # lazy load: the fleet readers

    _, workspace, zone, now = resolve_setup(args)
    answer = status_of(args.tunnels, workspace.registry, workspace.sources, now, zone, progress=progress_printer())
    print_answer(answer, workspace, args.format)
    return 0


def run_tunnels(args: argparse.Namespace) -> int:
    _, workspace, _, _ = resolve_setup(args, logs=False)  # the list opens no log source
    say(workspace.notes)
    if args.format == "json":
        print(json.dumps(tunnels_json(workspace), indent=2))
    else:
        print(tunnels_text(workspace.registry), end="")
        if workspace.discovered:
            print(f"Discovered from EC2 describe_vpn_connections: {', '.join(workspace.discovered)}")
    return 0


def run_chat(args: argparse.Namespace) -> int:
    # lazy loads: what answering needs
    from diagnostics.model import InvestigationError
    from diagnostics.tunnels import AmbiguousTunnel, UnknownTunnel
    from handlers.ask import ask
    from handlers.parse.question import QuestionError
    from handlers.render.text import render_text

    _, workspace, zone, now = resolve_setup(args)
    say(workspace.notes + workspace.problems)
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask about a tunnel (e.g. 'why did paris drop at 14:02'); 'help' for examples, 'quit' to leave.")
    while True:
        if interactive:
            print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line or line.strip().lower() in ("quit", "exit", "bye"):
            return 0
        if not line.strip():
            continue
        current = now if args.now else datetime.now(UTC)
        try:
            print(render_text(ask(line.strip(), workspace.registry, workspace.sources, current, zone)))
        except (QuestionError, UnknownTunnel, AmbiguousTunnel, InvestigationError) as exc:
            print(f"Sorry: {exc}")


def run_serve(args: argparse.Namespace) -> int:
    from bot.slack.server import serve  # the Slack stack loads only for this command

    config, workspace, zone, now = resolve_setup(args, serving=True)
    say(workspace.notes + workspace.problems + workspace.pending)
    return serve(config, workspace, zone, now if args.now else None, host=args.host, port=args.port)


def run_evidence(args: argparse.Namespace) -> int:
    """`vpnbot evidence (--question Q | --id N) [--out FILE.zip] [--redact-ips] [--hash-users]`."""
    # lazy loads: the state store, the bundle and its report
    from bot.evidence import cli_user, make_bundle, open_investigation, store_answer
    from diagnostics.evidence import RedactionOptions
    from handlers.ask import ask
    from handlers.evidence import EvidenceError, describe

    if args.id is None and not args.question:
        raise UsageError('give --question "why did paris drop at 14:02" or --id N (a stored investigation id)')
    config = load_config(found) if (found := find_config_file(args.config)) else None
    path = state_location(config)
    options = RedactionOptions(redact_ips=args.redact_ips, hash_users=args.hash_users)
    progress = progress_printer()
    try:
        if args.id is not None:
            state, row = open_investigation(path, args.id)
            if not args.now and row.get("asked_at"):
                args.now = row["asked_at"]  # the demo week of that answer, not today's (cloud sources ignore it)
            _, workspace, _, _ = resolve_setup(args)
            question_id = args.id
        else:
            _, workspace, zone, now = resolve_setup(args)
            answer = ask(args.question, workspace.registry, workspace.sources, now, zone, progress=progress)
            answer.notes += workspace.problems
            state, question_id = store_answer(path, answer, now)
    except EvidenceError as exc:
        raise UsageError(str(exc)) from None
    say(workspace.notes + workspace.problems)
    try:
        made = make_bundle(state, question_id, workspace, args.out, options, cli_user(), progress=progress)
    except EvidenceError as exc:
        raise UsageError(str(exc)) from None
    finally:
        state.close()
    print(made.path)
    print("\n".join(describe(made)))
    return 0


def run_explain(args: argparse.Namespace) -> int:
    """`vpnbot explain FILE|-`: thin over `handlers.explain.explain_file` (bot/explain.py opens what it needs). No
    log source is opened: the file is the logs, the configuration only names the tunnels."""
    from bot.explain import explain_command  # lazy load: the export readers

    config = load_config(found) if (found := find_config_file(args.config)) else None
    zone = check_zone(args.tz or (config.timezone if config else None) or "UTC")
    output, notes = explain_command(args, config, zone, parse_now(args.now, zone), progress_printer())
    say(notes)
    print(output, end="")
    return 0


def run_watch(args: argparse.Namespace) -> int:
    """`vpnbot watch [--once] [--since ISO] [--format text|json]`: thin over `bot.watch.watch_command`."""
    from bot.watch import watch_command  # lazy load: the watch readers and the state store

    config, workspace, zone, now = resolve_setup(args)
    say(workspace.notes + workspace.problems)
    try:
        since = parse_now(args.since, zone) if args.since else None
    except UsageError:
        raise UsageError(f"--since {args.since!r} is not an ISO 8601 time; example: --since 2026-11-21T14:00:00Z") \
            from None
    if since is not None and since > now:
        raise UsageError(f"--since {args.since!r} is after now; example: --since 2026-11-21T14:00:00Z")
    if not args.once and args.now:
        raise UsageError("--now pins one moment: use it with --once (a watch that keeps polling follows the clock)")
    return watch_command(args, config, workspace, zone, now, since)


def run_db(args: argparse.Namespace) -> int:
    """`vpnbot db status | upgrade | copy --from SRC --to DST [--force]`: thin over bot.state.admin."""
    from bot.state import admin  # lazy load: the state store

    try:
        if args.db_command == "copy":
            lines = admin.copy(args.source, args.target, force=args.force, progress=lambda line: say([line]))
        else:
            config = load_config(found) if (found := find_config_file(args.config)) else None
            location = args.state_db or state_location(config)
            lines = admin.status(location) if args.db_command == "status" else admin.upgrade(location)
    except admin.DbError as exc:
        raise UsageError(str(exc)) from None
    print("\n".join(lines))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"ask": run_ask, "tunnels": run_tunnels, "chat": run_chat, "serve": run_serve, "summary": run_summary,
                "evidence": run_evidence, "status": run_status, "explain": run_explain, "watch": run_watch,
                "db": run_db}
    try:
        return handlers[args.command](args)
    except (ConfigError, UsageError) as exc:
        print(f"vpnbot: error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        status = BAD_INPUT if _one_of(exc, BAD_INPUT_ERRORS) else SOURCE_FAILED if _one_of(exc, SOURCE_ERRORS) else 0
        if not status:
            raise
        print(f"vpnbot: error: {exc}", file=sys.stderr)
        return status


def _one_of(exc: BaseException, errors: Sequence[tuple[str, str]]) -> bool:
    """Whether `exc` is one of `errors` (module, class name), looked up among the modules already loaded."""
    return any(isinstance(exc, getattr(sys.modules.get(module), name, ())) for module, name in errors)


if __name__ == "__main__":
    sys.exit(main())
