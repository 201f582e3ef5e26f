"""What `vpnbot explain` and the Slack bot's explanations need from this process: the readers `--azure-export` /
`--aws-export` use (`bot.workspace.export_workspace`), the tunnels the configuration names, and a file to read.

The readers take files, so pasted text, standard input and Slack uploads are written to one first: under a
temporary directory for the CLI, under the state directory for the Slack bot (never anywhere else), and removed
once explained. Export rows copied without their header are written under one of ours
(`diagnostics.pasted.header_for_rows`), and the answer says so.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Config, config_from_mapping
from bot.workspace import Workspace, export_workspace
from diagnostics.aws import demo as aws_demo
from diagnostics.azure import demo
from diagnostics.azure.workspace_cache import WorkspaceCache
from diagnostics.exportfile import ExportError, decode_export, read_export_head
from diagnostics.pasted import (
    LOCAL_TIME,
    by_position,
    header_for_rows,
    headerless_note,
    headerless_zone_refusal,
    timed_messages_as_rows,
)
from diagnostics.timefmt import Progress
from diagnostics.troubleshoot_zip import ZIP_MAGIC
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.explain import SHOWN_AS, ExplainError, Explanation, OpenExports, explain_file
from handlers.render.explain import render_explanation

#: Characters kept in the name of a file written for the readers (a Slack file name is the uploader's choice).
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def opener(azure: Sequence[str] = (), aws: Sequence[str] = (), export_tz: str | None = None, aws_stream: str = "",
           cache: WorkspaceCache | None = None, configured: Iterable[Tunnel] = ()) -> OpenExports:
    """Opens an explained file with the export readers, with `azure` / `aws` exports read alongside it and the
    export options (`--export-tz`, `--aws-stream`). The rows name their tunnels themselves (no configuration is
    given): `explain_file` names them as the configuration does. `configured`: the configuration's tunnels, which
    rows that name none are attributed to as `ask` would (a portal CSV without Resource, AWS events without their
    stream, with one connection configured). `cache`: where loaded workspaces go (the Slack bot keeps them under
    its state directory)."""
    attribute = tuple(configured)

    def open_exports(azure_files: Sequence[str], aws_files: Sequence[str]) -> Workspace:
        def opened(tunnels: Sequence[Tunnel]) -> Workspace:
            return export_workspace([*azure_files, *azure], None, [*aws_files, *aws], export_tz=export_tz,
                                    cache=cache, aws_stream=aws_stream, attribute=tunnels)

        try:
            return opened(attribute)
        except ExportError:
            if not attribute:
                raise
            # Rows the configuration cannot attribute (a CSV without Resource from a peer none of several gateways
            # has) are still explained, named after what they show: `explain_file` names their tunnel by its remote
            # IP. Anything else fails again, and the first reason is said.
            try:
                return opened(())
            except ExportError:
                pass
            raise

    return open_exports


def known_tunnels(config: Config | None, demo_names: bool = False) -> TunnelRegistry:
    """The tunnels explanations are named after: the configuration's, or the demo's with `--demo`."""
    if demo_names:
        return config_from_mapping({"tunnels": [*demo.DEMO_TUNNELS, *aws_demo.DEMO_AWS_TUNNELS]}).registry
    return config.registry if config is not None and config.tunnels else TunnelRegistry([])


def safe_name(name: str, default: str = "input.txt") -> str:
    """A file name with no path in it and nothing a shell or a file system could misread."""
    cleaned = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip("._")[:80]
    return cleaned or default


@contextlib.contextmanager
def scratch(root: Path | None = None) -> Iterator[Path]:
    """A directory of its own for one explanation's input, removed afterwards: under `root` (the Slack bot's
    state directory), else a temporary one."""
    if root is None:
        with tempfile.TemporaryDirectory(prefix="vpnbot-explain-") as directory:
            yield Path(directory)
        return
    directory = root / "vpnbot-explain" / uuid.uuid4().hex
    directory.mkdir(parents=True, exist_ok=True)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def explain_bytes(data: bytes, name: str, directory: Path, known: TunnelRegistry, open_exports: OpenExports,
                  now: datetime, tz: ZoneInfo, tunnel: str | None = None, progress: Progress | None = None,
                  filename: str = "") -> Explanation:
    """Explain `data` (pasted text, standard input, an upload), shown as `name`, written in `directory` for the
    readers (as `filename`, else `name`: an AWS reader may read the stream from a file's name). Text is written as
    UTF-8, so no reader needs a converted copy of it anywhere else."""
    path = directory / safe_name(filename or name)
    text = None if data.startswith(ZIP_MAGIC) else _text(data)
    text = timed_messages_as_rows(text) if text is not None else None
    header = header_for_rows(text) if text is not None else None
    if text is None:
        path.write_bytes(data)  # Network Watcher's troubleshoot zip, read as it is; or not text: refused in one line
    else:
        path.write_text(f"{header}\n{text}" if header else text, encoding="utf-8", newline="")
    try:
        explanation = explain_file(path, name, known, open_exports, now, tz, tunnel=tunnel, progress=progress)
    except ExportError as exc:
        if header and LOCAL_TIME in header and "--export-tz" in str(exc):  # the header said so, not the user's rows
            raise ExplainError(headerless_zone_refusal(name)) from None
        raise
    return _headed(explanation, header) if header else explanation


def _headed(explanation: Explanation, header: str) -> Explanation:
    """Said of rows read under a header of ours: that, and their line numbers as they were pasted."""
    said = f"{SHOWN_AS.get(explanation.name, explanation.name)}:"

    def unshift(text: str) -> str:
        text = by_position(text)  # our names, not the user's
        return re.sub(rf"^({re.escape(said)})(\d+):", lambda m: f"{m[1]}{int(m[2]) - 1}:", text)

    explanation.problems[:] = [unshift(p) for p in explanation.problems]
    answer = explanation.answer
    notes = answer.notes if answer is not None else explanation.notes
    inv = answer.investigation if answer is not None else None
    for texts in (notes, *((inv.notes, inv.caveats) if inv is not None else ())):
        texts[:] = [unshift(t) for t in texts]
    notes.insert(0, headerless_note(LOCAL_TIME in header))
    return explanation


def _without_header(path: str) -> bool:
    """Whether the file holds export rows without their header (what `explain_bytes` gives one)."""
    try:
        return header_for_rows(timed_messages_as_rows(read_export_head(path, 1 << 16).text)) is not None
    except ExportError:
        return False  # explain_file says why it cannot be read


def _text(data: bytes) -> str | None:
    try:
        return decode_export(data)[0]
    except UnicodeDecodeError:
        return None


def explain_command(args: argparse.Namespace, config: Config | None, zone: ZoneInfo, now: datetime,
                    progress: Progress | None = None) -> tuple[str, list[str]]:
    """`vpnbot explain FILE|- [source options] [--tunnel NAME] [--format …]`: the rendered answer, and the lines
    to say on stderr (skipped rows)."""
    known = known_tunnels(config, args.demo)
    open_exports = opener(args.azure_export, args.aws_export, getattr(args, "export_tz", None),
                          getattr(args, "aws_stream", None) or "", configured=known)
    if args.file == "-" or _without_header(args.file):  # read as a copy: under a header of ours
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        name = "-" if args.file == "-" else Path(args.file).name
        with scratch() as directory:
            explanation = explain_bytes(data, name, directory, known, open_exports, now, zone, args.tunnel, progress,
                                        filename="stdin.txt" if args.file == "-" else name)
    else:
        explanation = explain_file(args.file, Path(args.file).name, known, open_exports, now, zone, args.tunnel,
                                   progress)
    return render_explanation(explanation, args.format), explanation.problems
