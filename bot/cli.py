"""`vpnbot`: the command line. A thin layer over `handlers` and `diagnostics`, which people can import too.

Exit status: 0 when a question was answered (even "no drop found"), 2 on bad input (unknown tunnel, unreadable
time, unreadable file or configuration), 1 when no log source could answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from diagnostics.azure.exports import ExportError
from diagnostics.investigate import InvestigationError
from diagnostics.tunnels import AmbiguousTunnel, UnknownTunnel
from handlers.ask import Answer, ask
from handlers.question import QuestionError
from handlers.render_blocks import render_blocks
from handlers.render_json import answer_to_json
from handlers.render_text import render_text, tunnels_text

from .config import Config, ConfigError, check_zone, find_config_file, load_config
from .workspace import Workspace, open_workspace

BAD_INPUT = 2
SOURCE_FAILED = 1
FORMATS = ("text", "json", "blocks")


class UsageError(ValueError):
    pass


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """The options every log-reading command shares (DESIGN.md)."""
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

    # Their options are the contract (DESIGN.md), parsed already so a script gets the one-line "not available"
    # answer rather than a usage error.
    summary = commands.add_parser("summary", help="the daily tunnel summary (not available in this version yet)")
    add_source_options(summary)
    summary.add_argument("--day", metavar="YYYY-MM-DD")
    summary.add_argument("--png", metavar="FILE")
    summary.add_argument("--format", choices=FORMATS, default="text")
    evidence = commands.add_parser("evidence", help="package evidence for the cloud vendor's support "
                                                    "(not available in this version yet)")
    add_source_options(evidence)
    which = evidence.add_mutually_exclusive_group()
    which.add_argument("--question", metavar="Q")
    which.add_argument("--id", metavar="N", type=int)
    evidence.add_argument("--out", metavar="FILE.zip")
    return parser


def parse_now(text: str | None, tz: ZoneInfo) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now {text!r} is not an ISO 8601 time; example: --now 2026-11-21T14:30:00Z") from None
    return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)


def resolve_setup(args: argparse.Namespace) -> tuple[Config | None, Workspace, ZoneInfo, datetime]:
    config_path = find_config_file(args.config)
    config = load_config(config_path) if config_path else None
    tz_name = args.tz or (config.timezone if config else None)
    zone = check_zone(tz_name) if tz_name else None
    now = parse_now(args.now, zone or ZoneInfo("UTC"))
    workspace = open_workspace(config, args.azure_export, args.demo, now, args.aws_export)
    if zone is None:
        zone = ZoneInfo(workspace.timezone)
    return config, workspace, zone, now


def say(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def run_ask(args: argparse.Namespace) -> int:
    _, workspace, zone, now = resolve_setup(args)
    answer = ask(args.question, workspace.registry, workspace.backends, now, zone, progress=progress_printer())
    # Said only once there is an answer, so that bad input costs exactly one line on stderr.
    say(workspace.notes + workspace.problems)
    answer.notes += workspace.problems
    print(render(answer, args.format), end="")
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


def run_tunnels(args: argparse.Namespace) -> int:
    _, workspace, _, _ = resolve_setup(args)
    say(workspace.notes)
    if args.format == "json":
        doc = [{"name": t.name, "provider": t.provider, "aliases": list(t.aliases), **t.identifiers,
                **({"discovered": True} if t.name in workspace.discovered else {})}
               for t in workspace.registry]
        print(json.dumps(doc, indent=2))
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
            print(render_text(ask(line.strip(), workspace.registry, workspace.backends, current, zone)))
        except (QuestionError, UnknownTunnel, AmbiguousTunnel, InvestigationError) as exc:
            print(f"Sorry: {exc}")


def run_serve(args: argparse.Namespace) -> int:
    from .slack.server import serve  # the Slack stack loads only for this command

    config, workspace, zone, now = resolve_setup(args)
    say(workspace.notes + workspace.problems)
    return serve(config, workspace, zone, now if args.now else None, host=args.host, port=args.port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"ask": run_ask, "tunnels": run_tunnels, "chat": run_chat, "serve": run_serve}
    if args.command not in handlers:
        print(f"vpnbot: error: '{args.command}' is not available in this version yet", file=sys.stderr)
        return BAD_INPUT
    try:
        return handlers[args.command](args)
    except (QuestionError, UnknownTunnel, AmbiguousTunnel, ExportError, ConfigError, UsageError) as exc:
        print(f"vpnbot: error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except InvestigationError as exc:
        print(f"vpnbot: error: {exc}", file=sys.stderr)
        return SOURCE_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
