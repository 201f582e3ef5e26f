"""Files that are not exports (Network Watcher's VPN troubleshoot output, IKE messages without times, on-premises
device logs) are recognised for what they are: given as an export they are refused in one line that says what they
are and what to export instead, and their lines are explained without a timeline. Fixtures are public samples
(tests/fixtures/real/foreign/README.md)."""

from __future__ import annotations

import zipfile

import pytest
from support.fixture_logs import RULE_FIXTURES

from diagnostics.aws.exports import read_aws_export
from diagnostics.azure.exchange import explain_exchange
from diagnostics.azure.exports import ExportError, read_azure_export
from diagnostics.azure.policy import policy_from_config
from diagnostics.devices import differing, explain_device_lines
from diagnostics.foreign import Kind, looks_like_log_lines, recognise
from diagnostics.model import Cause, Confidence
from diagnostics.pasted import header_for_rows, numbered

FOREIGN = RULE_FIXTURES.parent / "real" / "foreign"
KINDS = {
    "IKElogs.txt": Kind.NW_IKE_LOGS,
    "IKEErrors.txt": Kind.NW_IKE_ERRORS,
    "Scrubbed-wfpdiag.txt": Kind.NW_WFPDIAG,
    "ConnectionStats.txt": Kind.NW_STATS,
    "ike-exchange-psk.txt": Kind.IKE_MESSAGES,
    "ike-exchange-dh-group.txt": Kind.IKE_MESSAGES,
    "strongswan-child-sa-pfs.log": Kind.STRONGSWAN,
    "libreswan-ikev2-no-proposal.log": Kind.LIBRESWAN,
    "cisco-asa-phase1-dh-group.log": Kind.CISCO,
    "fortigate-phase2-proposal.log": Kind.FORTINET,
}


def text_of(name: str) -> str:
    return (FOREIGN / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_public_sample_is_recognised_for_what_it_is(name):
    found = recognise(text_of(name))
    assert found is not None and found.kind is KINDS[name]


@pytest.mark.parametrize("export", ["maintenance_failover.csv", "remote_initiated.json", "dpd_timeout_no_reason.jsonl",
                                    "psk_mismatch.csv"])
def test_real_exports_are_never_taken_for_foreign_files(export):
    assert recognise((RULE_FIXTURES / export).read_text(encoding="utf-8")) is None


def test_aws_filter_log_events_output_is_never_taken_for_a_foreign_file():
    assert recognise((RULE_FIXTURES.parent / "aws" / "dpd_timeout.json").read_text(encoding="utf-8")) is None


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_foreign_file_given_as_azure_export_is_refused_saying_what_it_is_and_what_to_export(name):
    with pytest.raises(ExportError) as refused:
        read_azure_export(FOREIGN / name)
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith(f"{name}: this is ")
    assert "AzureDiagnostics" in line and "Export" in line  # what to export instead
    assert f"vpnbot explain {name}" in line
    if recognise(text_of(name)).device:
        assert "on-premises device" in line
    elif name != "ike-exchange-psk.txt" and name != "ike-exchange-dh-group.txt":
        assert "Network Watcher" in line


@pytest.mark.parametrize("name", ["IKElogs.txt", "strongswan-child-sa-pfs.log", "fortigate-phase2-proposal.log"])
def test_a_foreign_file_given_as_aws_export_is_refused_with_the_aws_export_to_make(name):
    with pytest.raises(ExportError) as refused:
        read_aws_export(FOREIGN / name)
    line = str(refused.value)
    assert line.startswith(f"{name}: this is ") and "aws logs filter-log-events" in line
    assert f"vpnbot explain {name}" in line


def test_a_pasted_phase_2_exchange_proposing_des_md5_is_a_proposal_mismatch_naming_des_and_md5():
    analysis = explain_exchange(numbered(text_of("IKElogs.txt")))
    main = analysis.primary
    assert main is not None and main.cause is Cause.IKE_PROPOSAL_MISMATCH and main.confidence is Confidence.HIGH
    assert "DES/MD5 for phase 2" in main.explanation and "default policy does not accept it" in main.explanation
    assert "DES and MD5 are too weak" in main.advice  # never advise lowering Azure to them
    assert [line.number for line in main.lines] == [4, 5, 6]


def test_a_dh_group_14_proposal_is_explained_against_the_default_policys_group_2():
    main = explain_exchange(numbered(text_of("ike-exchange-dh-group.txt"))).primary
    assert main is not None and main.cause is Cause.IKE_PROPOSAL_MISMATCH
    assert "DH group 14" in main.explanation and "DH group 2" in main.explanation


def test_a_custom_policy_from_the_configuration_is_what_the_proposal_is_compared_with():
    policy = policy_from_config({"ipsec_policy": {"ike_encryption": "AES256", "ike_integrity": "SHA256",
                                                  "dh_group": "DHGroup14"}})
    analysis = explain_exchange(numbered(text_of("ike-exchange-dh-group.txt")), policy)
    # group 14 is what the custom policy asks for: the proposal matches, the mismatch is not explained by it
    assert analysis.primary is not None and "DH group 14 for phase 1" not in analysis.primary.explanation


@pytest.mark.parametrize("name", ["IKEErrors.txt", "Scrubbed-wfpdiag.txt", "ike-exchange-psk.txt"])
def test_an_authentication_failure_in_any_network_watcher_shape_is_a_psk_mismatch(name):
    main = explain_exchange(numbered(text_of(name))).primary
    assert main is not None and main.cause is Cause.PSK_MISMATCH


def test_the_wfpdiag_failure_point_says_which_side_refused_the_key():
    main = explain_exchange(numbered(text_of("Scrubbed-wfpdiag.txt"))).primary
    assert main is not None and "failure point is Remote" in main.explanation
    assert "13801" in main.explanation


def test_sa_init_sent_again_and_again_without_answer_is_an_unreachable_peer():
    lines = numbered("\n".join(
        f"SESSION_ID :{{{i}aaa1cd0-77ec-40e6-b0d6-7ef40b2372a5}} Remote 198.51.100.148:500: Local 203.0.113.235:500: "
        f"[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0xCBF23563716{i}FA00 and rCookie 0x0"
        for i in range(3)))
    main = explain_exchange(lines).primary
    assert main is not None and main.cause is Cause.PEER_UNREACHABLE and len(main.lines) == 3


def test_an_exchange_that_succeeded_has_no_finding_and_says_so():
    lines = numbered("SESSION_ID :{3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5} Remote 198.51.100.148:500: Local "
                     "203.0.113.235:500: [RECEIVED][SA_INIT] Received IKE SA Init response message with iCookie "
                     "0xCBF235637168FA00 rCookie 0x69284B72D78CBC71")
    analysis = explain_exchange(lines)
    assert analysis.findings == [] and analysis.notes[0].startswith("No failure in these lines")


def test_a_strongswan_child_sa_refused_for_want_of_pfs_names_the_group_the_device_requires():
    analysis = explain_device_lines(numbered(text_of("strongswan-child-sa-pfs.log")), "strongSwan")
    main = analysis.primary
    assert main is not None and main.cause is Cause.IKE_PROPOSAL_MISMATCH and main.confidence is Confidence.HIGH
    assert "the device refused what the peer" in main.explanation
    assert "the peer offers none, the device requires MODP_2048 (group 14)" in main.explanation
    assert "disable PFS on the device" in main.advice


def test_an_asa_phase_1_attribute_mismatch_names_the_dh_group_on_each_side():
    main = explain_device_lines(numbered(text_of("cisco-asa-phase1-dh-group.log")), "Cisco").primary
    assert main is not None and main.title == "IKE proposal mismatch (DH group)"
    assert "received Group 2 and is configured for Group 14" in main.explanation


def test_a_libreswan_initiator_told_no_proposal_chosen_was_refused_by_the_peer_not_unreachable():
    analysis = explain_device_lines(numbered(text_of("libreswan-ikev2-no-proposal.log")), "Libreswan")
    assert [f.cause for f in analysis.findings] == [Cause.IKE_PROPOSAL_MISMATCH]
    assert "the peer (the cloud gateway) refused what the device proposed" in analysis.findings[0].explanation


def test_a_fortigate_phase_2_error_is_a_proposal_mismatch_in_phase_2_refused_by_the_device():
    main = explain_device_lines(numbered(text_of("fortigate-phase2-proposal.log")), "FortiGate").primary
    assert main is not None and main.cause is Cause.IKE_PROPOSAL_MISMATCH
    assert "in phase 2" in main.explanation and "the device refused" in main.explanation


def test_proposal_parts_differ_only_where_the_two_sides_share_no_value():
    assert differing(["IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_1024"],
                     ["IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"]) == [
        ("dh", {"MODP_1024"}, {"MODP_2048"})]
    assert differing(["ESP:AES_GCM_16_256/NO_EXT_SEQ"], ["ESP:AES_GCM_16_256/NO_EXT_SEQ"]) == []


@pytest.mark.parametrize("text", [
    "why did paris drop at 14:02",
    "status paris",
    "is 203.0.113.10 up? it says TunnelDisconnected in the portal",
    "time, place, and cause of the paris drop?\nthanks",
])
def test_a_question_is_not_taken_for_log_lines(text):
    assert not looks_like_log_lines(text)


@pytest.mark.parametrize("name", ["IKElogs.txt", "ike-exchange-psk.txt", "strongswan-child-sa-pfs.log"])
def test_log_lines_pasted_in_a_message_are_taken_for_log_lines(name):
    assert looks_like_log_lines(text_of(name))


def test_export_rows_pasted_in_a_message_are_taken_for_log_lines():
    rows = (RULE_FIXTURES / "maintenance_failover.csv").read_text(encoding="utf-8").splitlines()[:4]
    assert looks_like_log_lines("\n".join(rows))


@pytest.mark.parametrize(("name", "rows"), [("jpaztech-gateway-tunnel.csv", 3), ("ms-ike-query.csv", 2),
                                           ("excel-day-first.csv", 2)])
def test_an_export_header_pasted_with_rows_under_it_is_log_lines_whatever_its_columns(name, rows):
    """A projection of a published query names no tunnel log category: its header row says it is an export."""
    lines = (FOREIGN.parent / "azure" / name).read_text(encoding="utf-8-sig").splitlines()[:rows]
    assert looks_like_log_lines("\n".join(lines))
    assert not looks_like_log_lines(lines[0])  # a header alone is not rows to explain


@pytest.mark.parametrize("reader", [read_azure_export, read_aws_export])
def test_network_watchers_zip_given_as_an_export_is_refused_saying_to_unzip_it_or_explain_it(reader, tmp_path):
    path = tmp_path / "troubleshoot.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("IKElogs.txt", text_of("IKElogs.txt"))
    with pytest.raises(ExportError) as refused:
        reader(path)
    line = str(refused.value)
    assert "\n" not in line and line.endswith(
        "troubleshoot.zip: a zip archive, not a log export; unzip it and give the export inside (a Network Watcher "
        "VPN troubleshoot zip: `vpnbot explain troubleshoot.zip` explains its IKElogs.txt)")


@pytest.mark.parametrize(("lines", "vendor", "cause", "refused_by"), [
    # Cisco, "IPsec Troubleshooting: Understanding and Using debug Commands" (document 5409): the IOS message of a
    # pre-shared key mismatch, and the debug of a refused ISAKMP transform.
    ("Dec  7 09:12:01.123: %CRYPTO-6-IKMP_MODE_FAILURE: Processing of Main mode failed with peer at 203.0.113.10\n"
     "Dec  7 09:12:01.123: %CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from 203.0.113.10 failed its sanity check or is "
     "malformed", "Cisco", Cause.PSK_MISMATCH, "the device refused"),
    ("00:27:07: ISAKMP (0:2): Checking ISAKMP transform 1 against priority 10 policy\n"
     "00:27:07: ISAKMP:      encryption DES-CBC\n"
     "00:27:07: ISAKMP (0:2): atts are not acceptable. Next payload is 0\n"
     "00:27:07: ISAKMP (0:2): no offers accepted!", "Cisco", Cause.IKE_PROPOSAL_MISMATCH, "the device refused"),
    # ASA 750003 (Cisco ASA syslog guide: "IKEv2 Negotiation aborted due to ERROR: error").
    ("Dec 07 2026 09:12:01: %ASA-4-750003: Local:198.51.100.20:500 Remote:203.0.113.10:500 Username:203.0.113.10 "
     "IKEv2 Negotiation aborted due to ERROR: Failed to authenticate the IKE SA", "Cisco", Cause.PSK_MISMATCH, ""),
    # Libreswan's IKEv1 main mode with a wrong secret says so itself.
    ('Feb  9 23:08:00 fw1 pluto[812]: "azure" #3: probable authentication failure (mismatch of preshared secrets?): '
     "malformed payload in packet\n"
     'Feb  9 23:08:10 fw1 pluto[812]: "azure" #3: probable authentication failure (mismatch of preshared secrets?): '
     "malformed payload in packet", "Libreswan", Cause.PSK_MISMATCH, ""),
])
def test_more_device_phrasings_of_a_wrong_key_or_a_refused_proposal_get_their_cause(lines, vendor, cause, refused_by):
    found = recognise(lines)
    assert found is not None and found.device == vendor
    main = explain_device_lines(numbered(lines), vendor).primary
    assert main is not None and main.cause is cause
    assert refused_by in main.explanation



@pytest.mark.parametrize(("text", "header"), [
    ("2026-11-21T14:02:03.123Z\tSESSION_ID :{…} Remote 198.51.100.148:500: …\n", "TimeGenerated\tColumn1"),
    ('"2026-11-21T14:02:03Z",TunnelDisconnected,"a, b",203.0.113.10\n', "TimeGenerated,Column1,Column2,Column3"),
    ("11/21/2026, 2:02:03.000 PM\tIKEDiagnosticLog\tSESSION_ID :{…}\n",
     "TimeGenerated [Local Time]\tColumn1\tColumn2"),  # the grid shows times without their zone
    ("1795264320;TunnelConnected\n", "TimeGenerated;Column1"),
    ("TimeGenerated,Message\n2026-11-21T14:02:03Z,x\n", None),  # it has its header
    ("2026-11-21 14:02:05Z vpn-0123456789abcdef0 52.95.10.1 AWS tunnel DPD timed out, after 3\n", None),
])
def test_rows_copied_without_their_header_get_one_naming_the_time_column(text, header):
    assert header_for_rows(text) == header


@pytest.mark.parametrize(("text", "rows"), [
    ("2026-11-21T14:02:03Z\tSESSION_ID :{…}\n2026-11-21T14:02:04Z\tSESSION_ID :{…}", True),
    ("2026-11-21 14:02, why did paris drop?", False),
    ("2026-11-21T14:02:03Z SESSION_ID :{26097afb-e960-4f7c-87db-65ab85bdb299} Remote 198.51.100.148:500: Local "
     "203.0.113.235:500: [SEND][NOTIFY] Sending Notify Message - Policy Mismatch\n"
     "2026-11-21T14:02:04Z SESSION_ID :{26097afb-e960-4f7c-87db-65ab85bdb299} Remote 198.51.100.148:500: Local "
     "203.0.113.235:500: [LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status Policy match error", True),
])
def test_rows_without_header_in_a_message_are_log_lines_but_a_question_starting_with_a_time_is_not(text, rows):
    assert looks_like_log_lines(text) is rows
