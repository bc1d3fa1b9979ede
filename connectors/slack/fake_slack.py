"""A local stand-in for the Slack Web API and for Slack's side of interactivity.

Tests and the demo talk to it with the real `slack_sdk.WebClient(token=..., base_url=fake.base_url)`
over loopback, so what is exercised is the same HTTP a workspace would see: bearer auth, form or
JSON bodies, Slack-shaped answers (`{"ok": false, "error": ...}` with status 200). Every call is
recorded; `response_url(request_id)` gives a URL on the fake that records what the app replies.
`sign_request` and the payload builders produce requests exactly as Slack signs and sends them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors.loopback import LoopbackServer

BOT_TOKEN = "xoxb-ledgerlink-fake"
TEAM_ID = "T0FAKE0001"
BOT_USER_ID = "U0FAKEBOT"


def serve(app: Any, name: str = "slack") -> LoopbackServer:
    """Serve any ASGI app (e.g. `interactivity_app(...)`) on loopback until `.stop()`."""
    return LoopbackServer(app, name).start()


# -- the fake -----------------------------------------------------------------------------------
@dataclass
class FakeSlack:
    """Recorded state of the fake workspace; start it with `start_fake_slack()`."""

    token: str = BOT_TOKEN
    _calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False)
    _responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _ts: Any = field(default_factory=lambda: itertools.count(1), repr=False)
    usergroups: dict[str, list[str]] = field(default_factory=dict)  # user group id -> member user ids
    _server: LoopbackServer | None = field(default=None, repr=False)

    @property
    def root_url(self) -> str:
        assert self._server is not None, "the fake is not running"
        return self._server.url

    @property
    def base_url(self) -> str:
        """What `WebClient(base_url=...)` takes."""
        return f"{self.root_url}/api/"

    def response_url(self, request_id: str) -> str:
        """A response_url for a payload; what is posted to it is kept under `request_id`."""
        return f"{self.root_url}/response/{quote(request_id, safe='')}"

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as it stands now (after any chat.update), or None."""
        with self._changed:
            found = self._messages.get((_channel_id(channel), ts))
            return dict(found) if found else None

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The arguments of every call of a Web API method (e.g. "views.open"), oldest first."""
        with self._changed:
            return [dict(args) for name, args in self._calls if name == method]

    def responses(self, request_id: str) -> list[dict[str, Any]]:
        with self._changed:
            return list(self._responses.get(request_id, []))

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.calls(method)) >= count, timeout)
        return self.calls(method)

    def wait_for_responses(self, request_id: str, count: int = 1,
                           timeout: float = 5.0) -> list[dict[str, Any]]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.responses(request_id)) >= count, timeout)
        return self.responses(request_id)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    # -- request handling (runs on the server thread) -------------------------------------------
    def _record(self, method: str, args: dict[str, Any]) -> None:
        with self._changed:
            self._calls.append((method, args))
            self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _api(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://ledgerlink-fake.slack.com/", "team": "ledgerlink",
                    "user": "ledgerlink", "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                    "bot_id": "B0FAKEBOT"}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            channel = args.get("channel")
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if not (args.get("text") or args.get("blocks")):
                return {"ok": False, "error": "no_text"}
            channel = _channel_id(channel)
            if method == "chat.postEphemeral":
                if not args.get("user"):
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "message_ts": self._next_ts()}
            if method == "chat.update":
                ts = args.get("ts")
                if (channel, ts) not in self._messages:
                    return {"ok": False, "error": "message_not_found"}
            else:
                ts = self._next_ts()
            message = {"type": "message", "ts": ts, "text": args.get("text", ""),
                       "blocks": _decoded(args.get("blocks")) or [], "bot_id": "B0FAKEBOT"}
            self._messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "usergroups.users.list":
            group = args.get("usergroup")
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(self.usergroups[group])}
        if method == "views.open":
            view = _decoded(args.get("view"))
            if not args.get("trigger_id"):
                return {"ok": False, "error": "invalid_trigger_id"}
            if not isinstance(view, dict) or view.get("type") != "modal":
                return {"ok": False, "error": "invalid_arguments"}
            return {"ok": True, "view": {"id": f"V{next(self._ts):09d}", "team_id": TEAM_ID,
                                         **view}}
        return {"ok": False, "error": "unknown_method"}

    async def _handle_api(self, request: Request) -> Response:
        method = request.path_params["method"]
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer xoxb-") or auth.removeprefix("Bearer ") != self.token:
            return JSONResponse({"ok": False, "error": "not_authed" if not auth
                                 else "invalid_auth"})
        args: dict[str, Any] = dict(request.query_params)
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                args.update(json.loads(body or b"{}"))
            except ValueError:
                return JSONResponse({"ok": False, "error": "invalid_json"})
        elif body:
            args.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()})
        self._record(method, args)
        return JSONResponse(self._api(method, args))

    async def _handle_response_url(self, request: Request) -> Response:
        try:
            posted = json.loads(await request.body())
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        with self._changed:
            self._responses.setdefault(request.path_params["request_id"], []).append(posted)
            self._changed.notify_all()
        return PlainTextResponse("ok")

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/{method}", self._handle_api, methods=["GET", "POST"]),
            Route("/response/{request_id:path}", self._handle_response_url, methods=["POST"]),
        ])


def start_fake_slack(token: str = BOT_TOKEN) -> FakeSlack:
    """Start the fake on 127.0.0.1 and a free port; call `.stop()` when done."""
    fake = FakeSlack(token=token)
    fake._server = LoopbackServer(fake.app(), "fake-slack").start()
    return fake


def _channel_id(channel: str) -> str:
    """Slack answers with channel ids; a name such as "#finance" gets a stable fake id."""
    if channel[:1] in ("C", "D", "G") and channel.isalnum():
        return channel
    return "C" + hashlib.sha256(channel.encode()).hexdigest()[:9].upper()


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# -- what Slack sends to the app ----------------------------------------------------------------
def sign_request(signing_secret: str, body: bytes,
                 timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack would send with `body` (v0 signature), at `timestamp` or now."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature or "",
            "Content-Type": "application/x-www-form-urlencoded"}


def interaction_body(payload: dict[str, Any]) -> bytes:
    """A payload form-encoded the way Slack posts interactions (`payload=<json>`)."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_actions_payload(action_id: str, request_id: str, user_id: str, response_url: str,
                          trigger_id: str = "13345224609.738474920.8088930838d88f008e0") -> dict:
    """A `block_actions` payload for a click on one of the approval buttons."""
    return {
        "type": "block_actions", "team": {"id": TEAM_ID}, "trigger_id": trigger_id,
        "user": {"id": user_id, "team_id": TEAM_ID}, "api_app_id": "A0FAKEAPP",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": "C0FINANCE"},
        "channel": {"id": "C0FINANCE"}, "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "approval_actions",
                     "value": request_id, "action_ts": f"{time.time():.6f}"}],
    }


def view_submission_payload(request_id: str, user_id: str, reason: str,
                            callback_id: str = "reject_reason") -> dict:
    """A `view_submission` payload for the reject-reason modal with `reason` typed in."""
    return {
        "type": "view_submission", "team": {"id": TEAM_ID},
        "user": {"id": user_id, "team_id": TEAM_ID}, "api_app_id": "A0FAKEAPP",
        "view": {"id": "V0FAKEVIEW", "type": "modal", "callback_id": callback_id,
                 "private_metadata": request_id,
                 "state": {"values": {"reason": {"reason": {"type": "plain_text_input",
                                                            "value": reason}}}}},
    }
