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
from zoneinfo import ZoneInfo

from bot.config import Config, ConfigError, check_zone, find_config_file, load_config, state_path
from bot.evidence import cli_user, keep_answer, make_bundle, open_investigation, store_answer
from bot.state import StoreUnavailable
from bot.workspace import Workspace, open_workspace, tunnels_json
from diagnostics.azure.exports import ExportError
from diagnostics.evidence import RedactionOptions
from diagnostics.model import InvestigationError
from diagnostics.summary.build import SummaryError, previous_day, summarize_day
from diagnostics.tunnels import AmbiguousTunnel, UnknownTunnel
from handlers.answer import Answer
from handlers.ask import ask
from handlers.evidence import EvidenceError, describe
from handlers.parse.question import QuestionError
from handlers.render.blocks import render_blocks
from handlers.render.json import answer_to_json
from handlers.render.summary import summary_json, summary_text
from handlers.render.summary_blocks import summary_blocks
from handlers.render.text import render_text
from handlers.tunnels import tunnels_text

BAD_INPUT = 2
SOURCE_FAILED = 1
FORMATS = ("text", "json", "blocks")


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
                       help="output of `aws logs filter-log-events` (JSON); repeatable")
    group.add_argument("--demo", action="store_true", help="use the built-in demo workspace")
    group.add_argument("--now", metavar="ISO8601", help="pin 'now' (relative times resolve against it)")
    group.add_argument("--tz", metavar="IANA_ZONE", help="the asker's time zone (default: config timezone, else UTC)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vpnbot", description="Explain why a site-to-site VPN tunnel dropped.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask_cmd = commands.add_parser("ask", help="answer one question", description="Answer one question, e.g. "
                                  '"why did tunnel paris drop at 14:02".')
    ask_cmd.add_argument("question", help="the question, in plain words")
    add_source_options(ask_cmd)
    ask_cmd.add_argument("--format", choices=FORMATS, default="text")

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
    return parser


def parse_now(text: str | None, tz: ZoneInfo) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now {text!r} is not an ISO 8601 time; example: --now 2026-11-21T14:30:00Z") from None
    return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)


def resolve_setup(args: argparse.Namespace,
                  serving: bool = False) -> tuple[Config | None, Workspace, ZoneInfo, datetime]:
    config_path = find_config_file(args.config)
    config = load_config(config_path) if config_path else None
    tz_name = args.tz or (config.timezone if config else None)
    zone = check_zone(tz_name) if tz_name else None
    now = parse_now(args.now, zone or ZoneInfo("UTC"))
    # `serve` must start listening whatever EC2 does: its tunnel discovery runs in the background.
    workspace = open_workspace(config, args.azure_export, args.demo, now, args.aws_export,
                               discover_in_background=serving)
    if zone is None:
        zone = ZoneInfo(workspace.timezone)
    return config, workspace, zone, now


def say(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def run_ask(args: argparse.Namespace) -> int:
    config, workspace, zone, now = resolve_setup(args)
    answer = ask(args.question, workspace.registry, workspace.sources, now, zone, progress=progress_printer())
    # Said only once there is an answer, so that bad input costs exactly one line on stderr.
    say(workspace.notes + workspace.problems)
    answer.notes += workspace.problems
    print(render(answer, args.format), end="")
    kept = keep_answer(config, answer, now)
    if kept is not None:  # the id goes to stderr (stdout is the answer)
        question_id, path = kept
        say([f"Saved as investigation {question_id} in {path}: `vpnbot evidence --id {question_id}` packages it "
             "for support."])
    return 0


def progress_printer():
    """Per-source progress on a terminal ("Log Analytics workspace …: 412 rows"); silent when piped."""
    if not sys.stderr.isatty():
        return None
    return lambda line: print(f"… {line}", file=sys.stderr)


def render(answer: Answer, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(answer_to_json(answer), indent=2, ensure_ascii=False) + "\n"
    if fmt == "blocks":
        return json.dumps(render_blocks(answer), indent=2, ensure_ascii=False) + "\n"
    return render_text(answer)


def run_summary(args: argparse.Namespace) -> int:
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


def run_tunnels(args: argparse.Namespace) -> int:
    _, workspace, _, _ = resolve_setup(args)
    say(workspace.notes)
    if args.format == "json":
        print(json.dumps(tunnels_json(workspace), indent=2))
    else:
        print(tunnels_text(workspace.registry), end="")
        if workspace.discovered:
            print(f"Discovered from EC2 describe_vpn_connections: {', '.join(workspace.discovered)}")
    return 0


def run_chat(args: argparse.Namespace) -> int:
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
    if args.id is None and not args.question:
        raise UsageError('give --question "why did paris drop at 14:02" or --id N (a stored investigation id)')
    config = load_config(found) if (found := find_config_file(args.config)) else None
    path = state_path(config)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"ask": run_ask, "tunnels": run_tunnels, "chat": run_chat, "serve": run_serve, "summary": run_summary,
                "evidence": run_evidence}
    try:
        return handlers[args.command](args)
    except (QuestionError, UnknownTunnel, AmbiguousTunnel, ExportError, ConfigError, UsageError,
            SummaryError) as exc:
        print(f"vpnbot: error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except (InvestigationError, StoreUnavailable) as exc:
        print(f"vpnbot: error: {exc}", file=sys.stderr)
        return SOURCE_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
