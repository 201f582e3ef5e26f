"""Negotiation reconstruction over a day of a tunnel that fails every few seconds.

    .venv/bin/python benchmarks/bench_negotiations.py [--rows 1000000]

Generates IKEDiagnosticLog messages in the grammar of docs/sources.md#azure-ike-log: Azure re-initiating every ~6 s
("Azure keeps retrying every few seconds"), each negotiation failing the same way (a PSK mismatch: 7 rows; a DH-group
mismatch started by the device: 4 rows; the device not answering: 1 row), then times NegotiationTracker over the
messages (generation not timed) and prints rows/s and peak RSS. Targets: >= 300,000 rows/s and < 500 MB.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time

from diagnostics.azure.negotiation import NegotiationTracker

PSK = [
    "[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0x{c:016X} and rCookie 0x0",
    "[SEND]Sending Ike payload for tunnel Id 0x3: Auth:PreShared Key- Policy1:Cipher=AES-CBC-256 Integrity=SHA1 "
    "DhGroup=DhGroup2 Policy2:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2",
    "[RECEIVED] Receiving MM Packet for tunnel Id 0x3 iCookie 0x{c:016X} and rCookie 0x69284B72D78CBC71: "
    "Receiving MM Nonce",
    "[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2",
    "[SEND][SA_AUTH] Sending SA AUTH message for tunnelId 0x3 and tsId 0x37",
    "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are unacceptable",
    "[RECEIVED][NOTIFY] Received Notify Message - Authentication failed",
]
POLICY = [
    "[RECEIVED][SA_INIT] Received SA INIT iCookie 0x{c:016X} rCookie 0x0",
    "[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup14",
    "[LOCAL_MSG][SA_INIT] Received SA INIT iCookie 0x{c:016X} and Generated new rCookie 0x70C9D10B840827BC",
    "[SEND][NOTIFY] Sending Notify Message - Policy Mismatch",
]
SILENT = ["[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0x{c:016X} and rCookie 0x0"]


CHUNK = 20_000  # the bot streams query results in batches of this size (diagnostics/local_workspace.py)


def messages(rows: int, template: list[str], first: int = 0) -> list[tuple[float, str]]:
    """`rows` rows starting with negotiation number `first`."""
    out: list[tuple[float, str]] = []
    negotiation = first
    while len(out) < rows:
        envelope = (f"SESSION_ID :{{{negotiation:08x}-77ec-40e6-b0d6-7ef40b2372a5}} Remote 203.0.113.10:500: "
                    f"Local 192.0.2.10:500: ")
        start = 1_795_000_000.0 + negotiation * 6.0
        cookie = 0xCBF2356371000000 + negotiation
        out += [(start + i * 0.05, envelope + row.format(c=cookie)) for i, row in enumerate(template)]
        negotiation += 1
    return out[:rows]


def run(rows: int, name: str, template: list[str]) -> str:
    """Rows are made a batch at a time, as the bot receives them, and only the tracker's time is counted
    (holding a million pre-made strings would measure memory layout, not the tracker)."""
    tracker = NegotiationTracker()
    seconds, done = 0.0, 0
    per_chunk = max(1, CHUNK // len(template)) * len(template)
    while done < rows:
        batch = messages(min(per_chunk, rows - done), template, first=done // len(template))
        gc.disable()  # as the bot feeds rows
        t = time.perf_counter()
        tracker.add_rows(batch)  # a batch per call, as the bot feeds it (diagnostics/azure/outage.py)
        seconds += time.perf_counter() - t
        gc.enable()
        done += len(batch)
    summary = tracker.summary()
    group, count = summary.groups_between(float("-inf"), float("inf"))[0]
    return (f"{name:<22} {rows:>10,} {summary.negotiations:>12,} {seconds:>8.2f} {rows / seconds:>12,.0f}   "
            f"{count:,} × {group.outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"bench_negotiations: NegotiationTracker over {args.rows:,} IKE rows of one failing tunnel\n")
    head = f"{'scenario':<22} {'rows':>10} {'negotiations':>12} {'s':>8} {'rows/s':>12}   same failure"
    print(head)
    print("-" * len(head))
    for name, template in (("psk mismatch", PSK), ("dh group mismatch", POLICY), ("peer not answering", SILENT)):
        print(run(args.rows, name, template))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.0f} MB; "
          "targets: >= 300,000 rows/s, < 500 MB")


if __name__ == "__main__":
    main()
