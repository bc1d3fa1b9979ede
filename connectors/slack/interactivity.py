"""The endpoint Slack calls when finance clicks Approve or Reject, or submits a reject reason.

Slack gives an interaction 3 seconds to be acknowledged, and recording a decision (resuming a
Prefect flow, writing the audit log) may take longer. So every request is verified (signature,
timestamp, replay) and answered at once; the decision runs afterwards as a Starlette background
task, and only when it was not accepted does the clicker hear back, privately, through the
payload's `response_url`. Nothing from an exception ever reaches Slack: the log keeps the detail
(without the payload's user data) and the user reads one line.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors.slack.messages import (APPROVE_ACTION_ID, REASON_ACTION_ID, REASON_BLOCK_ID,
                                       REJECT_ACTION_ID, REJECT_CALLBACK_ID, reject_reason_modal)
from connectors.slack.signature import ReplayGuard, SlackSignatureError, signature_headers, verify
from connectors.tls import verified_context

log = logging.getLogger(__name__)

Decision = Literal["approve", "reject"]
SOMETHING_WENT_WRONG = "something went wrong; the request is still pending"
SLACK_RESPONSE_URLS = ("https://hooks.slack.com/",)
_MAX_BODY = 256 * 1024
_RESPONSE_URL_TTL = 30 * 60      # Slack's own lifetime for a response_url
_UNAUTHORISED = {
    "missing": "missing Slack signature headers",
    "malformed": "malformed Slack signature headers",
    "stale": "stale request timestamp",
    "forged": "invalid request signature",
    "replayed": "request already received",
}


@dataclass(frozen=True)
class DecisionOutcome:
    """What became of a decision; `message` is shown to the clicker when not accepted
    (e.g. "not authorised", "already decided by <@U1> at 2026-11-22 10:15 SAST")."""

    accepted: bool
    message: str


class DecisionHandler(Protocol):
    """What the flow integration provides. Both methods run outside the request (threadpool)."""

    def decide(self, request_id: str, decision: Decision, user_id: str,
               reason: str | None) -> DecisionOutcome: ...

    def open_reject_modal(self, trigger_id: str, request_id: str) -> None: ...


def open_reject_reason_modal(client: Any, trigger_id: str, request_id: str) -> None:
    """A ready `open_reject_modal` body for a `slack_sdk.WebClient` (trigger ids live 3 s)."""
    client.views_open(trigger_id=trigger_id, view=reject_reason_modal(request_id))


def interactivity_app(signing_secret: str, handler: DecisionHandler, *,
                      replay_guard: ReplayGuard | None = None,
                      response_url_prefixes: Sequence[str] = SLACK_RESPONSE_URLS,
                      response_timeout: float = 10.0) -> Starlette:
    """A Starlette app serving `POST /slack/interactivity`.

    `response_url_prefixes` limits where replies are posted (Slack's hooks host by default; tests
    add the fake's address), so even a payload that got through cannot aim us at another host.
    """
    guard = replay_guard or ReplayGuard()
    replies = _ResponseUrls()
    prefixes = tuple(response_url_prefixes)

    def tell_user(response_url: str | None, text: str) -> None:
        if not response_url or not response_url.startswith(prefixes):
            log.warning("no usable response_url; a message to the user was dropped")
            return
        try:
            httpx.post(response_url, timeout=response_timeout, verify=verified_context(), json={
                "response_type": "ephemeral", "replace_original": False, "text": text})
        except httpx.HTTPError as error:
            log.warning("could not post to response_url: %s", type(error).__name__)

    def run_decision(request_id: str, decision: Decision, user_id: str, reason: str | None,
                     response_url: str | None) -> None:
        try:
            outcome = handler.decide(request_id, decision, user_id, reason)
        except Exception:
            log.exception("decision handler failed for request %s (%s)", request_id, decision)
            tell_user(response_url, SOMETHING_WENT_WRONG)
            return
        if not outcome.accepted:
            tell_user(response_url, outcome.message)

    def run_open_modal(trigger_id: str, request_id: str, response_url: str | None) -> None:
        try:
            handler.open_reject_modal(trigger_id, request_id)
        except Exception:
            log.exception("opening the reject modal failed for request %s", request_id)
            tell_user(response_url, SOMETHING_WENT_WRONG)

    async def interactivity(request: Request) -> Response:
        raw_body = await request.body()
        if len(raw_body) > _MAX_BODY:
            return PlainTextResponse("request too large", status_code=413)
        try:
            verify(signing_secret, request.headers, raw_body)
            timestamp, signature = signature_headers(request.headers)
            guard.check(timestamp or "", signature or "")
        except SlackSignatureError as refused:
            log.warning("refused a Slack interactivity request: %s", refused.reason)
            return PlainTextResponse(_UNAUTHORISED[refused.reason], status_code=401)
        payload = _payload(raw_body)
        if payload is None:
            return PlainTextResponse("bad payload", status_code=400)
        kind = payload.get("type")
        if kind == "block_actions":
            return _block_actions(payload)
        if kind == "view_submission":
            return _view_submission(payload)
        return Response(status_code=200)

    def _block_actions(payload: dict[str, Any]) -> Response:
        user_id = _user_id(payload)
        response_url = payload.get("response_url")
        for action in payload.get("actions") or []:
            request_id = action.get("value")
            if not request_id or not user_id:
                continue
            if action.get("action_id") == APPROVE_ACTION_ID:
                return Response(status_code=200, background=BackgroundTask(
                    run_decision, request_id, "approve", user_id, None, response_url))
            if action.get("action_id") == REJECT_ACTION_ID:
                replies.remember(request_id, user_id, response_url)
                return Response(status_code=200, background=BackgroundTask(
                    run_open_modal, payload.get("trigger_id", ""), request_id, response_url))
        return Response(status_code=200)

    def _view_submission(payload: dict[str, Any]) -> Response:
        view = payload.get("view") or {}
        if view.get("callback_id") != REJECT_CALLBACK_ID:
            return Response(status_code=200)
        request_id, user_id = view.get("private_metadata"), _user_id(payload)
        value = (((view.get("state") or {}).get("values") or {}).get(REASON_BLOCK_ID) or {}).get(
            REASON_ACTION_ID) or {}
        reason = (value.get("value") or "").strip()
        if not reason:
            return JSONResponse({"response_action": "errors",
                                 "errors": {REASON_BLOCK_ID: "Please give a reason."}})
        if not request_id or not user_id:
            return Response(status_code=200)
        return Response(status_code=200, background=BackgroundTask(
            run_decision, request_id, "reject", user_id, reason,
            replies.recall(request_id, user_id)))

    return Starlette(routes=[Route("/slack/interactivity", interactivity, methods=["POST"])])


def _payload(raw_body: bytes) -> dict[str, Any] | None:
    try:
        form = parse_qs(raw_body.decode("utf-8"), strict_parsing=False)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, KeyError, IndexError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _user_id(payload: dict[str, Any]) -> str | None:
    user = payload.get("user")
    return user.get("id") if isinstance(user, dict) else None


class _ResponseUrls:
    """The Reject click's response_url, kept for the modal's submission (which has none).

    In memory and per process: behind several workers, a refusal after a modal may go unsaid
    (logged), while the decision itself is unaffected.
    """

    def __init__(self, max_entries: int = 1000) -> None:
        self._lock = threading.Lock()
        self._urls: dict[tuple[str, str], tuple[float, str]] = {}
        self._max = max_entries

    def remember(self, request_id: str, user_id: str, url: str | None) -> None:
        if not url:
            return
        with self._lock:
            self._urls.pop((request_id, user_id), None)
            self._urls[(request_id, user_id)] = (time.monotonic() + _RESPONSE_URL_TTL, url)
            while len(self._urls) > self._max:
                self._urls.pop(next(iter(self._urls)))

    def recall(self, request_id: str, user_id: str) -> str | None:
        with self._lock:
            expires, url = self._urls.get((request_id, user_id), (0.0, ""))
        return url if expires > time.monotonic() else None
