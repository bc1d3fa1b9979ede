"""Human review end to end: HubSpot + Xero sandboxes, a real Prefect server, the fake Slack Web API
(slack_sdk over HTTP) and real signed interactivity requests against the `ledgerlink slack serve` app.

Approval runs are started from the tenant's `review-approval` deployment, as `deployments/serve.py`
makes it. Where a worker would run them in a subprocess, `approvals.execute` runs the same flow run
in-process through Prefect's engine (`prefect.flow_engine.run_flow`): a suspend ends the call, so
the test sees that a waiting approval holds nothing.
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text

pytestmark = pytest.mark.heavy  # a long file: started first (tests/conftest.py)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the `slack` fixture's signing secret (tests/flows/conftest.py)
FINANCE, LEAD, SALES = "U0FINANCE1", "U0LEAD0001", "U0SALES001"  # its finance user, lead-group member, and nobody


@pytest.fixture
def approvals(spine, slack):
    """The `ledgerlink slack serve` app for the demo tenant, on loopback, talking to the fake Slack."""
    from connectors.slack.fake_slack import serve
    from connectors.slack.interactivity import interactivity_app
    from ledgerlink.tenants import load_tenants, tenants_path
    from tasks.decisions import SlackDecisions

    store = spine.store()
    tenant = load_tenants(tenants_path())["demo"]
    app = serve(interactivity_app(SECRET, SlackDecisions(tenant, store), response_url_prefixes=(slack.root_url,)))
    yield Approvals(spine, slack, app.url, store)
    app.stop()
    store.dispose()


@pytest.fixture
def approval_deployment(prefect_server):
    """The tenant's approval deployment on the test server (removed after, so other tests run ad hoc)."""
    from prefect.client.orchestration import get_client

    from deployments.serve import approval_deployments

    [deployment, _] = approval_deployments("demo")
    deployment_id = deployment.apply()
    yield deployment_id
    with get_client(sync_client=True) as client:
        client.delete_deployment(deployment_id)


class Approvals:
    def __init__(self, spine, fake, app_url: str, store):
        self.spine, self.fake, self.url, self.store = spine, fake, app_url, store
        self._clicks = 0

    def requests(self, status: str | None = None):
        return self.store.approvals.list("demo", status=status)

    def request_for(self, deal_id: str):
        return self.request_for_record("won-deal-to-invoice", deal_id)

    def request_for_record(self, handoff: str, record_id: str):
        return self.store.approvals.latest_for("demo", handoff, [record_id])[record_id]

    def execute(self, flow_run_id: str) -> str:
        """Run a scheduled approval run in this process, as a worker's subprocess would; its state after."""
        from prefect.client.orchestration import get_client
        from prefect.exceptions import Pause
        from prefect.flow_engine import run_flow

        from flows.review_approval import review_approval

        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(flow_run_id))
            try:
                run_flow(review_approval, flow_run=run, parameters=run.parameters)
            except Pause:
                pass
            return client.read_flow_run(UUID(flow_run_id)).state.name

    def state(self, flow_run_id: str):
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            return client.read_flow_run(UUID(flow_run_id)).state

    def click(self, request_id: str, user: str, action: str = "approve", *, secret: str = SECRET,
              age: int = 0, body: bytes | None = None, headers: dict | None = None):
        """A signed Slack click; returns (response, body, headers, the response_url key)."""
        from connectors.slack.fake_slack import block_actions_payload, interaction_body, sign_request

        self._clicks += 1
        key = f"click-{self._clicks}"
        body = body or interaction_body(block_actions_payload(action, request_id, user, self.fake.response_url(key)))
        headers = headers or sign_request(secret, body, timestamp=int(time.time()) - age)
        response = httpx.post(f"{self.url}/slack/interactivity", content=body, headers=headers, timeout=10)
        return response, body, headers, key

    def reply(self, key: str) -> str:
        [answer] = self.fake.wait_for_responses(key, timeout=15)
        return answer["text"]

    def decided_message(self, request) -> dict:
        return self.fake.message(request.slack_channel, request.slack_ts)


def _discounted_deals(spine, count: int) -> dict[str, Decimal]:
    chosen = sorted(spine.eligible_deals(), key=int)[:count]
    return {deal_id: spine.give_discount(deal_id, "25") for deal_id in chosen}


def _buttons(message: dict) -> list[str]:
    return [element["action_id"] for block in message["blocks"] if block["type"] == "actions"
            for element in block["elements"]]


def test_a_25_percent_discount_waits_for_finance_and_an_approve_click_creates_the_invoice_once(
        spine, approvals, approval_deployment):
    [(deal_id, expected_total)] = _discounted_deals(spine, 1).items()

    report = spine.run()

    others = set(spine.eligible_deals()) - {deal_id}
    assert {c["deal"] for c in report["created"]} == others  # the rest of the batch moved on
    assert f"DEAL-{deal_id}" not in spine.invoices_by_reference()
    request = approvals.request_for(deal_id)
    assert (request.status, request.rules, request.approvers) == ("pending", ["large_discount"], ["finance"])
    assert approvals.state(request.flow_run_id).is_scheduled()

    assert approvals.execute(request.flow_run_id) == "Suspended"  # waiting holds no process
    [posted] = approvals.fake.calls("chat.postMessage")
    assert posted["channel"] == "#finance-approvals"
    request = approvals.request_for(deal_id)
    message = approvals.decided_message(request)
    assert _buttons(message) == ["approve", "reject"]
    shown = json.dumps(message["blocks"])
    assert "more than 20 %" in shown and "less 25 %" in shown and f"ZAR {expected_total:,.2f}" in shown

    response, body, headers, _ = approvals.click(request.id, FINANCE)
    assert response.status_code == 200 and response.elapsed.total_seconds() < 3
    approvals.fake.wait_for_calls("chat.update", 1, timeout=15)
    request = approvals.request_for(deal_id)
    assert (request.status, request.decided_by, request.decided_via) == ("approved", f"slack:{FINANCE}", "slack")
    assert _buttons(approvals.decided_message(request)) == []
    assert approvals.state(request.flow_run_id).is_scheduled()  # resumed: a worker picks it up again

    replayed = httpx.post(f"{approvals.url}/slack/interactivity", content=body, headers=headers, timeout=10)
    assert replayed.status_code == 401
    _, _, _, key = approvals.click(request.id, FINANCE)
    assert approvals.reply(key).startswith(f"Already approved by <@{FINANCE}> at ")

    assert approvals.execute(request.flow_run_id) == "Completed"
    [invoice] = spine.invoices_by_reference()[f"DEAL-{deal_id}"]
    assert Decimal(str(invoice["Total"])) == expected_total
    assert any(Decimal(str(line.get("DiscountRate") or 0)) == 25 for line in invoice["LineItems"])
    request = approvals.request_for(deal_id)
    assert request.applied_at is not None and request.outcome == f"invoice {invoice['InvoiceNumber']}"
    [created] = approvals.store.audit.search("demo", deal_id=deal_id, action="invoice.created")
    assert created.after["approved_by"] == f"slack:{FINANCE}"
    assert spine.deal(deal_id)["ledgerlink_review_status"] == "approved"
    assert spine.deal(deal_id)["ledgerlink_invoice_number"] == invoice["InvoiceNumber"]
    assert invoice["InvoiceNumber"] in json.dumps(approvals.decided_message(request)["blocks"])

    again = spine.run()  # the next scheduled run: nothing twice
    assert again["created"] == [] and len(spine.invoices_by_reference()[f"DEAL-{deal_id}"]) == 1


def test_forged_stale_and_unauthorised_clicks_move_nothing(spine, approvals, approval_deployment):
    [deal_id] = _discounted_deals(spine, 1)
    spine.run()
    request = approvals.request_for(deal_id)
    approvals.execute(request.flow_run_id)

    forged, *_ = approvals.click(request.id, FINANCE, secret="not-the-signing-secret")
    stale, *_ = approvals.click(request.id, FINANCE, age=6 * 60)
    assert (forged.status_code, stale.status_code) == (401, 401)
    assert "stale" in stale.text
    response, _, _, key = approvals.click(request.id, SALES)
    assert response.status_code == 200
    assert "not authorised" in approvals.reply(key)
    _, _, _, key = approvals.click(request.id, LEAD)  # a lead may decide only once it is escalated
    assert "not authorised" in approvals.reply(key)

    request = approvals.request_for(deal_id)
    assert request.status == "pending" and approvals.state(request.flow_run_id).is_paused()
    assert approvals.fake.calls("chat.update") == []
    assert f"DEAL-{deal_id}" not in spine.invoices_by_reference()


@pytest.mark.parametrize("spine", [240], indirect=True)
def test_fifty_pending_approvals_hold_no_process_and_decide_from_the_prefect_ui(spine, approvals, approval_deployment):
    from prefect.flow_runs import resume_flow_run

    from flows.approval_deadlines import approval_deadlines

    discounted = _discounted_deals(spine, 50)

    report = spine.run()

    assert {c["deal"] for c in report["created"]} == set(spine.eligible_deals()) - set(discounted)
    pending = approvals.requests("pending")
    assert len(pending) == 50 and report["counts"]["approval_runs_deployed"] == 50
    threads = threading.active_count()
    for request in pending:
        assert approvals.execute(request.flow_run_id) == "Suspended"
    assert threading.active_count() == threads  # nothing left running for them: no process, no thread
    assert len(approvals.fake.calls("chat.postMessage")) == 50

    by_deal = {r.record_id: r for r in approvals.requests("pending")}
    approve_id, reject_id, late_id, remind_id, escalate_id = sorted(by_deal, key=int)[:5]

    # Prefect UI form (resume_flow_run with the typed input): approve with a corrected discount
    resume_flow_run(UUID(by_deal[approve_id].flow_run_id), run_input={
        "decision": "approve", "approver": "Thandi (ops)", "comment": "agreed 10 % with the customer",
        "corrected_discount_percent": "10"})
    assert approvals.execute(by_deal[approve_id].flow_run_id) == "Completed"
    [invoice] = spine.invoices_by_reference()[f"DEAL-{approve_id}"]
    assert {Decimal(str(line.get("DiscountRate") or 0)) for line in invoice["LineItems"]} == {Decimal(10)}
    [decided] = approvals.store.audit.search("demo", deal_id=approve_id, action="approval.approved")
    assert decided.actor == "prefect:Thandi (ops)" and decided.after["via"] == "prefect"

    # a rejection without a reason is not used: the run waits again; with one, the deal is closed
    resume_flow_run(UUID(by_deal[reject_id].flow_run_id), run_input={"decision": "reject", "approver": "Thandi"})
    assert approvals.execute(by_deal[reject_id].flow_run_id) == "Suspended"
    resume_flow_run(UUID(by_deal[reject_id].flow_run_id), run_input={
        "decision": "reject", "approver": "Thandi", "comment": "customer never agreed to 25 %"})
    assert approvals.execute(by_deal[reject_id].flow_run_id) == "Completed"
    assert approvals.request_for(reject_id).status == "rejected"
    assert f"DEAL-{reject_id}" not in spine.invoices_by_reference()
    assert "customer never agreed" in spine.deal(reject_id)["ledgerlink_review_note"]

    # deadlines: a reminder after 4 h, escalation after 24 h, the exception queue after 72 h
    with approvals.store.engine.begin() as connection:
        for deal_id, hours in ((remind_id, 5), (escalate_id, 25), (late_id, 73)):
            connection.execute(text("UPDATE approval_request SET created_at = :at WHERE id = :id"), {
                "at": by_deal[deal_id].created_at.replace(tzinfo=None) - _hours(hours), "id": by_deal[deal_id].id})
    summary = approval_deadlines(tenant="demo")
    assert summary["won-deal-to-invoice"] == {"reminded": 1, "escalated": 1, "timed_out": 1}
    [item] = [i for i in approvals.store.exceptions.list("demo", "won-deal-to-invoice")
              if i.reason_code == "approval_timed_out"]
    assert (item.record_id, item.reason_code, item.owner) == (late_id, "approval_timed_out", "finance")
    assert approvals.state(by_deal[late_id].flow_run_id).is_cancelled()
    [escalation] = [c for c in approvals.fake.calls("chat.postMessage") if c["channel"] == "#finance-leads"]
    assert "<!subteam^S0FINLEADS>" in json.dumps(escalation)
    _, _, _, key = approvals.click(by_deal[late_id].id, FINANCE)
    assert "timed out at" in approvals.reply(key)
    response, _, _, key = approvals.click(by_deal[escalate_id].id, LEAD)  # escalated: the lead may decide
    approvals.fake.wait_for_calls("chat.update", 4, timeout=15)
    assert approvals.request_for(escalate_id).decided_by == f"slack:{LEAD}"
    assert len(approvals.requests("pending")) == 50 - 4  # the reminded one still waits


def test_without_a_deployment_an_ad_hoc_approval_run_pauses_in_process(spine, approvals):
    from prefect.flow_runs import resume_flow_run

    from tasks.approval_runs import wait_for_local_approvals

    [deal_id] = _discounted_deals(spine, 1)
    report = spine.run()
    assert report["counts"]["approval_runs_local"] == 1
    deadline = time.monotonic() + 30
    while not (approvals.request_for(deal_id).flow_run_id
               and approvals.state(approvals.request_for(deal_id).flow_run_id).is_paused()):
        assert time.monotonic() < deadline, "the local approval run never paused"
        time.sleep(0.2)
    resume_flow_run(UUID(approvals.request_for(deal_id).flow_run_id),
                    run_input={"decision": "approve", "approver": "Sipho"})
    deadline = time.monotonic() + 60
    while approvals.request_for(deal_id).applied_at is None:
        assert time.monotonic() < deadline, "the resumed approval run never created the invoice"
        time.sleep(0.2)
    assert len(spine.invoices_by_reference()[f"DEAL-{deal_id}"]) == 1
    # the thread ends once Prefect has flushed the run's logs and events (slow after a busy session)
    assert wait_for_local_approvals(timeout=120) == 0


def test_a_customer_merge_waits_for_finance_then_the_chosen_contact_is_used_and_the_deal_invoiced(
        spine, approvals, approval_deployment):
    from prefect.flow_runs import resume_flow_run

    deal_id = sorted(spine.eligible_deals(), key=int)[0]
    [(company_id, _)] = spine.hubspot.associations.targets("deals", int(deal_id), "companies")
    vat = spine.hubspot.companies.get(company_id).props["vat_number"]
    one, two = (spine.books.add_contact(name, TaxNumber=vat) for name in ("Duplicate One", "Duplicate Two"))

    spine.run()

    request = approvals.store.approvals.latest_for("demo", "contact-to-accounting-contact",
                                                   [str(company_id)])[str(company_id)]
    assert (request.status, request.rules, request.record_type) == ("pending", ["customer_merge"], "company")
    assert {one["ContactID"], two["ContactID"]} <= {c["id"] for c in request.context["candidates"]}
    [waiting] = [i for i in approvals.store.exceptions.list("demo") if i.record_id == deal_id]
    assert waiting.reason_code == "customer_merge_review"
    assert approvals.execute(request.flow_run_id) == "Suspended"
    _, _, _, key = approvals.click(request.id, FINANCE)  # Slack cannot say which of two contacts
    assert "choose one in the Prefect run's form" in approvals.reply(key)

    resume_flow_run(UUID(request.flow_run_id), run_input={
        "decision": "approve", "approver": "Naledi", "accounting_contact_id": two["ContactID"]})
    assert approvals.execute(request.flow_run_id) == "Completed"
    link = approvals.store.links.for_crm_ids("demo", "customer", [str(company_id)])[str(company_id)]
    assert link.accounting_id == two["ContactID"]
    assert approvals.request_for_record("contact-to-accounting-contact", str(company_id)).outcome == \
        f"linked to the existing contact {two['ContactID']}"

    report = spine.run()  # the deal that waited for its customer moves now
    assert deal_id in {c["deal"] for c in report["created"]}
    [invoice] = spine.invoices_by_reference()[f"DEAL-{deal_id}"]
    assert invoice["_contact_id"] == two["ContactID"]  # the sandbox's stored form of the invoice's Contact


def _hours(hours: int):
    from datetime import timedelta

    return timedelta(hours=hours)
