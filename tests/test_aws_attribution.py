"""Events that name no stream (`get-log-events`, messages copied from the console) are attributed to a tunnel only
by what says so: `--aws-stream`, the file's name or folder, the file's other events, the only connection configured;
otherwise the file is refused with what to give (diagnostics/aws/attribution.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from diagnostics.aws.attribution import AttributionError, attribute, check_stream_option
from diagnostics.aws.streams import StreamName, is_tunnel_stream, parse_stream_name, stream_in_text
from diagnostics.tunnels import Tunnel

VPN = "vpn-0123456789abcdef0"
DC1 = Tunnel(name="dc1", aws_vpn_connection=VPN, aws_outside_ips=("52.95.10.1", "52.95.10.2"))
DC2 = Tunnel(name="dc2", aws_vpn_connection="vpn-0fedcba9876543210")
PARIS = Tunnel(name="paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")


@pytest.mark.parametrize(("text", "found"), [
    (f"{VPN}-52.95.10.1-IKE.json", f"{VPN}-52.95.10.1"),
    (f"get-log-events_{VPN}_52.95.10.1.txt", f"{VPN}-52.95.10.1"),
    (f"{VPN}.json", VPN),
    (f"{VPN}-events-{VPN}-52.95.10.2.json", f"{VPN}-52.95.10.2"),  # a full stream name beats a bare id
    ("export.json", ""),
    ("prevpn-0123456789abcdef0.json", ""),
])
def test_a_stream_name_or_connection_id_is_found_in_a_file_name(text, found):
    assert stream_in_text(text) == found


def test_a_connection_id_alone_is_a_stream_whose_tunnel_is_unknown_and_matches_any_of_its_tunnels():
    assert parse_stream_name(VPN.upper()) == StreamName(VPN, "")
    assert is_tunnel_stream(VPN, VPN, ("52.95.10.1",))
    assert not is_tunnel_stream(VPN, "vpn-0fedcba9876543210")
    assert not is_tunnel_stream(f"{VPN}-52.95.10.2", VPN, ("52.95.10.1",))


def test_aws_stream_wins_and_says_nothing_when_it_names_the_tunnel():
    given = attribute(Path("x.json"), "get-log-events", 3, option=f"{VPN}-52.95.10.1-IKE", tunnels=[DC1, DC2])
    assert (given.stream, given.connection, given.caveat) == (f"{VPN}-52.95.10.1-IKE", VPN, "")


def test_an_aws_stream_of_a_connection_alone_says_the_tunnel_is_unknown():
    given = attribute(Path("x.json"), "get-log-events", 3, option=VPN)
    assert given.stream == VPN and "not which of its tunnels" in given.caveat


def test_the_folder_of_an_s3_export_names_the_stream():
    given = attribute(Path(f"exports/{VPN}-52.95.10.2/000000.gz"), "lines", 9)
    assert given.stream == f"{VPN}-52.95.10.2" and "the file's folder says" in given.caveat


def test_the_only_connection_other_events_name_comes_before_the_configuration():
    given = attribute(Path("x.json"), "messages", 4, named={"vpn-0fedcba9876543210"}, tunnels=[DC1])
    assert given.connection == "vpn-0fedcba9876543210" and "the file's other events name" in given.caveat


def test_the_only_aws_connection_configured_is_named_with_its_tunnel_name():
    given = attribute(Path("x.json"), "messages", 4, tunnels=[PARIS, DC1])
    assert given.stream == VPN
    assert "attributed to dc1 (vpn-0123456789abcdef0), the only AWS VPN connection in the configuration" in \
        given.caveat


@pytest.mark.parametrize(("tunnels", "why"), [([], "no configuration names the connection"),
                                              ([DC1, DC2], "the configuration has 2 AWS VPN connections")])
def test_nothing_to_go_by_is_refused_with_what_to_give(tunnels, why):
    with pytest.raises(AttributionError) as refused:
        attribute(Path("messages.jsonl"), "tunnel log messages", 7, tunnels=tunnels)
    text = str(refused.value)
    assert text.startswith("messages.jsonl: tunnel log messages: its 7 events carry no stream name")
    assert why in text and "--aws-stream" in text and "\n" not in text


def test_a_stream_option_that_names_no_tunnel_is_refused_with_an_example():
    assert check_stream_option(f" {VPN}-52.95.10.1 ") == f"{VPN}-52.95.10.1"
    with pytest.raises(AttributionError, match=re.escape("e.g. --aws-stream vpn-0123456789abcdef0-52.95.10.1")):
        check_stream_option("tunnel-1")
