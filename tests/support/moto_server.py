"""moto's AWS server on 127.0.0.1 (an ephemeral port) for tests of the real boto3 clients, with fault injection.

The server is moto's own WSGI application (the one `moto_server` and `ThreadedMotoServer` run), served by werkzeug
on 127.0.0.1 only, behind a thin layer that can answer the next calls of one operation with a canned AWS error
(throttling, access denied, a 5xx) and records which operations were called. moto itself enforces no IAM and never
throttles, so this is how the failure paths run against the real client and its retry logic.

Usage::

    with MotoServer() as aws:
        aws.fail("FilterLogEvents", "ThrottlingException", times=2)
        logs = aws.client("logs")          # dummy credentials, endpoint_url = aws.endpoint
        aws.put_events(group, stream, [(ts_ms, message), ...])

`environment()` gives the variables a CLI run needs (AWS_ENDPOINT_URL, dummy keys, no metadata lookups).
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

REGION = "eu-west-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
#: AWS error code -> HTTP status, as the services answer them.
STATUS = {"ThrottlingException": 400, "AccessDeniedException": 400, "ResourceNotFoundException": 400,
          "UnauthorizedOperation": 403, "ServiceUnavailableException": 503, "InternalFailure": 500}


@dataclass
class Fault:
    operation: str
    code: str
    status: int
    message: str


class FaultLayer:
    """WSGI middleware: canned errors for the next calls of an operation; a log of every operation called."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.faults: deque[Fault] = deque()
        self.calls: list[str] = []
        self.lock = threading.Lock()

    @staticmethod
    def operation(environ: dict[str, Any]) -> tuple[str, bool]:
        """(operation name, is a JSON-protocol service) of one request; the body is put back for moto."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            return target.rsplit(".", 1)[-1], True
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        return action, False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        operation, is_json = self.operation(environ)
        with self.lock:
            self.calls.append(operation)
            fault = next((f for f in self.faults if f.operation == operation), None)
            if fault is not None:
                self.faults.remove(fault)
        if fault is None:
            return self.app(environ, start_response)
        if is_json:
            body = json.dumps({"__type": fault.code, "message": fault.message}).encode()
            headers = [("Content-Type", "application/x-amz-json-1.1")]
        else:
            body = (f"<Response><Errors><Error><Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
                    f"</Errors><RequestID>{uuid.uuid4()}</RequestID></Response>").encode()
            headers = [("Content-Type", "text/xml")]
        headers += [("x-amzn-RequestId", str(uuid.uuid4())), ("Content-Length", str(len(body)))]
        start_response(f"{fault.status} Error", headers)
        return [body]


class QuietHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per request would drown test output
        pass


class MotoServer:
    def __init__(self) -> None:
        self.layer = FaultLayer(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, self.layer, threaded=True, request_handler=QuietHandler)
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> MotoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """moto's documented reset (`POST /moto-api/reset`); also forgets faults and calls."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["status"] == "ok"
        self.layer.faults.clear()
        self.layer.calls.clear()

    def fail(self, operation: str, code: str, times: int = 1, message: str = "") -> None:
        """Answer the next `times` calls of `operation` (e.g. FilterLogEvents) with AWS error `code`."""
        text = message or {
            "ThrottlingException": "Rate exceeded",
            "AccessDeniedException": "User: arn:aws:iam::123456789012:user/vpnbot is not authorized to perform: "
                                     f"logs:{operation} because no identity-based policy allows the logs:{operation} "
                                     "action",
            "UnauthorizedOperation": "You are not authorized to perform this operation.",
        }.get(code, code)
        for _ in range(times):
            self.layer.faults.append(Fault(operation, code, STATUS.get(code, 400), text))

    @property
    def calls(self) -> list[str]:
        return list(self.layer.calls)

    def environment(self, region: str = REGION) -> dict[str, str]:
        """What a process needs to reach this server and nothing else (no profile files, no instance metadata)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/nonexistent/vpnbot-test-config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/creds",
        }

    def session(self, region: str = REGION) -> boto3.session.Session:
        return boto3.session.Session(region_name=region, **CREDENTIALS)

    def client(self, service: str, region: str = REGION) -> Any:
        return self.session(region).client(service, endpoint_url=self.endpoint)

    # ------------------------------------------------------------------ seeding

    def put_events(self, group: str, stream: str, events: Iterable[tuple[int, str]], region: str = REGION) -> None:
        """Create the group and stream if needed and put the events (sorted: moto wants chronological batches).
        Events older than 14 days would be silently dropped by moto, so callers rebase fixtures on now."""
        logs = self.client("logs", region)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        batch = [{"timestamp": ts, "message": message} for ts, message in sorted(events)]
        for i in range(0, len(batch), 10_000):
            result = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch[i:i + 10_000])
            assert not result.get("rejectedLogEventsInfo"), result["rejectedLogEventsInfo"]

    def vpn_connection(self, name: str = "", region: str = REGION) -> str:
        """A VPN connection in moto's EC2 (its ids look like real ones: `vpn-` and 17 hex digits), with a Name tag."""
        ec2 = self.client("ec2", region)
        cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.7", BgpAsn=65010)
        vgw = ec2.create_vpn_gateway(Type="ipsec.1")
        tags = [{"ResourceType": "vpn-connection", "Tags": [{"Key": "Name", "Value": name}]}] if name else []
        vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGateway"]["CustomerGatewayId"],
                                        VpnGatewayId=vgw["VpnGateway"]["VpnGatewayId"], TagSpecifications=tags)
        return vpn["VpnConnection"]["VpnConnectionId"]


# ---------------------------------------------------------------------------------------------- fixtures on now


def _shift_time(value: Any, seconds: int) -> Any:
    """One time value of a tunnel log body moved by `seconds`, in its own unit and format."""
    from datetime import UTC, datetime, timedelta

    if isinstance(value, int | float) and not isinstance(value, bool):
        return value + seconds * (1000 if value > 1e11 else 1)
    text = str(value)
    if text.isdigit():
        return str(int(text) + seconds * (1000 if int(text) > 1e11 else 1))
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moved = moment + timedelta(seconds=seconds)
    fraction = "." + f"{moved.microsecond // 1000:03d}" if "." in text else ""
    sep = "T" if "T" in text else " "
    return moved.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + fraction + ("Z" if text.endswith("Z") else "")


TIME_KEYS = ("event_timestamp", "timestamp", "VpnLogCreationTimestamp", "VpnLogCreationTimestampReadable")


def rebase(records: Iterable[Any], end_ms: int) -> list[Any]:
    """Records (diagnostics.aws.parser.rows.LogRecord) moved so the last one is at `end_ms`, by whole seconds, with the
    times inside each message moved alike: moto drops events older than 14 days (docs/sources.md#aws-test-emulator)."""
    records = list(records)
    shift = (end_ms - max(r.timestamp for r in records)) // 1000
    out = []
    for record in records:
        body = json.loads(record.message)
        for key in TIME_KEYS:
            if key in body:
                body[key] = _shift_time(body[key], shift)
        out.append(record._replace(timestamp=record.timestamp + shift * 1000,
                                   message=json.dumps(body, separators=(",", ":"))))
    return out


def seed(aws: MotoServer, group: str, records: Iterable[Any], rename: dict[str, str] | None = None) -> None:
    """Put records into `group`, one stream per record stream (optionally renamed: vpn id -> moto's id)."""
    streams: dict[str, list[tuple[int, str]]] = {}
    for record in records:
        name = record.stream
        for old, new in (rename or {}).items():
            name = name.replace(old, new)
        streams.setdefault(name, []).append((record.timestamp, record.message))
    for name, events in streams.items():
        aws.put_events(group, name, events)
