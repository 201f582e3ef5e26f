"""Which tunnel logged the events of a file that names no stream.

A tunnel log event names its VPN connection and tunnel only through its log stream (docs/sources.md#aws-log-fields:
"The log stream file name uses VpnConnectionID and TunnelOutsideIPAddress"). `aws logs get-log-events` reads one
stream and prints its events without the name, and messages copied from the console have none either. In this order:

1. `--aws-stream NAME`: the person says which stream it was;
2. the file's name or folder holds a stream name (`vpn-0123…-52.95.10.1.json`; an export to S3 writes one folder per
   stream) or a connection id;
3. the file's other events name exactly one connection (BGP events carry `resource_id`);
4. the configuration has exactly one AWS VPN connection;

else the file is refused, saying what to pass. Only 1 and 2 with a full stream name know the tunnel (outside IP);
otherwise the events are the connection's with the tunnel unknown, and the answer says so.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from diagnostics.aws.streams import parse_stream_name, stream_in_text
from diagnostics.tunnels import Tunnel

STREAM_EXAMPLE = "vpn-0123456789abcdef0-52.95.10.1"
#: What a file whose events name no tunnel may hide: both tunnels' events in one list (a query over the log group).
MIXED = (" If the file holds both tunnels' events, their states are read as one tunnel's: a drop's start or end may be "
         "the other tunnel's.")


class AttributionError(ValueError):
    """No way to tell which connection logged the events; the message says what to pass."""


@dataclass(frozen=True)
class Attribution:
    stream: str  # a stream name, or a connection id alone when the tunnel is unknown
    connection: str
    caveat: str  # what the answers about this connection must say; "" when the person named the stream


def check_stream_option(value: str) -> str:
    """`--aws-stream` as given, when it names a tunnel's stream or a connection; else one line saying why not."""
    parsed = parse_stream_name(value)
    if parsed is None:
        raise AttributionError(f"--aws-stream {value!r} is not a Site-to-Site VPN log stream name; the streams are "
                               f"named after the connection and the tunnel's outside IP, e.g. --aws-stream "
                               f"{STREAM_EXAMPLE}")
    return value.strip()


def attribute(path: Path, what: str, count: int, option: str = "", named: Collection[str] = (),
              tunnels: Sequence[Tunnel] = ()) -> Attribution:
    """Where `count` events of `path` (read as `what`) without a stream name come from; AttributionError when
    nothing says."""
    name = path.name
    events = f"{count} event{'s' if count != 1 else ''} of {name} ({what})"
    if option:
        stream = check_stream_option(option)
        return _known(stream, events, "--aws-stream")
    in_name, in_folder = stream_in_text(name), stream_in_text(path.parent.name)
    if in_name or in_folder:
        return _known(in_name or in_folder, events, "the file's name" if in_name else "the file's folder")
    if len(named) == 1:
        (connection,) = named
        return Attribution(connection, connection, (
            f"{events} name no stream; they were attributed to {connection}, the only VPN connection the file's "
            f"other events name. Which of its tunnels logged them is unknown: give --aws-stream "
            f"{connection}-<tunnel outside IP> to say.{MIXED}"))
    connections = sorted({t.aws_vpn_connection.lower(): t for t in tunnels if t.aws_vpn_connection}.items())
    if len(connections) == 1:
        connection, tunnel = connections[0]
        return Attribution(connection, connection, (
            f"{events} name no stream; they were attributed to {tunnel.name} ({connection}), the only AWS VPN "
            f"connection in the configuration. Which of its tunnels logged them is unknown: give --aws-stream "
            f"{connection}-<tunnel outside IP> to say.{MIXED}"))
    among = (f"the configuration has {len(connections)} AWS VPN connections" if connections
             else "no configuration names the connection")
    raise AttributionError(
        f"{name}: {what}: its {count} events carry no stream name, so which VPN connection and tunnel logged them is "
        f"unknown ({among}); give --aws-stream with the stream it was read from (e.g. --aws-stream "
        f"{STREAM_EXAMPLE}), or name the file after it ({STREAM_EXAMPLE}.json)")


def _known(stream: str, events: str, source: str) -> Attribution:
    parsed = parse_stream_name(stream)
    assert parsed is not None
    if parsed.outside_ip:
        caveat = "" if source == "--aws-stream" else f"{events} name no stream; {source} says {stream}."
        return Attribution(stream, parsed.vpn_connection, caveat)
    return Attribution(stream, parsed.vpn_connection, (
        f"{events} name no stream; {source} says {parsed.vpn_connection}, but not which of its tunnels logged them: "
        f"give --aws-stream {parsed.vpn_connection}-<tunnel outside IP> to say.{MIXED}"))
