"""Every emulated Pipedrive route, and every request the connector sends, against Pipedrive's v2 spec.

Requests and responses go over real HTTP and are checked with openapi-core. Where the published
spec disagrees with what the live API sends, the disagreement is named in `live_api_quirks` and
only that field is adjusted before validation — validation itself is never switched off:

* the API sends `null` for an unset field the spec types as a non-nullable value: a deal with no
  organization or person (`org_id`, `person_id`), an open deal's `won_time` / `lost_time`, and
  `next_cursor` on the last page of a list (whose own description says it "will be `null`");
* most operations declare no 4xx responses at all; Pipedrive's errors there carry the one error
  body the spec does declare (`GetConvertResponse`), so error bodies are checked against it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from connectors.pipedrive import PipedriveConnector

HOST = "https://api.pipedrive.com"
SPEC = "pipedrive/v2.yaml"
V2 = "/api/v2"
ERROR_SCHEMA = ("paths", "/deals/{id}/convert/status/{conversion_id}", "get", "responses", "404",
                "content", "application/json", "schema")
NULL_AS_UNSET = {"org_id", "person_id", "won_time", "lost_time", "next_cursor"}


def live_api_quirks(payload: Any) -> bytes:
    """Drop exactly the documented null-for-unset fields; everything else is validated as sent."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if not (v is None and k in NULL_AS_UNSET)}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return json.dumps(walk(payload)).encode()


def check(spec_check, response: httpx.Response, **kw: Any) -> None:
    assert response.status_code < 400, response.text
    spec_check(SPEC, HOST, response, body=live_api_quirks(response.json()), **kw)


def check_error(spec_check, response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    spec_check.schema(SPEC, *ERROR_SCHEMA).validate(body)
    assert body["success"] is False and body["error"]
    return body


@pytest.mark.parametrize("entity", ["deals", "organizations", "persons", "products"])
def test_lists_with_delta_params_match_the_spec(pd, spec_check, entity):
    params = {"updated_since": "2000-01-01T00:00:00Z", "sort_by": "update_time",
              "sort_direction": "asc", "limit": 7}
    first = pd.get(f"{V2}/{entity}", params=params)
    check(spec_check, first)
    cursor = first.json()["additional_data"]["next_cursor"]
    assert cursor
    second = pd.get(f"{V2}/{entity}", params={**params, "cursor": cursor})
    check(spec_check, second)
    last = pd.get(f"{V2}/{entity}", params={"ids": "1,2,3", "limit": 100})
    check(spec_check, last)
    assert last.json()["additional_data"]["next_cursor"] is None


def test_deal_list_filters_match_the_spec(pd, spec_check):
    check(spec_check, pd.get(f"{V2}/deals", params={"status": "won", "sort_by": "add_time",
                                                    "sort_direction": "desc", "limit": 500}))
    check(spec_check, pd.get(f"{V2}/deals", params={"org_id": 1, "updated_until": "2100-01-01T00:00:00Z"}))


@pytest.mark.parametrize("entity", ["deals", "organizations", "persons", "products"])
def test_single_records_match_the_spec(pd, spec_check, entity):
    check(spec_check, pd.get(f"{V2}/{entity}/1"))


def test_deal_products_of_several_deals_match_the_spec(pd, spec_check):
    response = pd.get(f"{V2}/deals/products", params={"deal_ids": ",".join(map(str, range(1, 41))),
                                                      "limit": 20})
    check(spec_check, response)
    cursor = response.json()["additional_data"]["next_cursor"]
    check(spec_check, pd.get(f"{V2}/deals/products", params={
        "deal_ids": ",".join(map(str, range(1, 41))), "limit": 20, "cursor": cursor}))


@pytest.mark.parametrize("path", ["dealFields", "organizationFields", "personFields", "productFields"])
def test_field_lists_match_the_spec(pd, spec_check, path):
    response = pd.get(f"{V2}/{path}")
    check(spec_check, response)
    customs = [f for f in response.json()["data"] if f["is_custom_field"]]
    assert customs and all(len(f["field_code"]) == 40 for f in customs)


def test_patches_match_the_spec(pd, spec_check, pipedrive_sandbox):
    state = pipedrive_sandbox.state
    number = state.custom_key("deals", "ledgerlink_invoice_number")
    due = state.custom_key("deals", "ledgerlink_amount_due")
    check(spec_check, pd.patch(f"{V2}/deals/2", json={
        "title": "Renamed deal", "value": 1234.5, "custom_fields": {number: "INV-0042", due: 99.95}}))
    check(spec_check, pd.patch(f"{V2}/organizations/2", json={
        "name": "Renamed (Pty) Ltd",
        "custom_fields": {state.custom_key("organizations", "ledgerlink_accounting_id"): "c-1"}}))
    check(spec_check, pd.patch(f"{V2}/persons/2", json={"job_title": "Owner"}))


def test_error_bodies_match_the_spec(pd, spec_check, pipedrive_sandbox):
    body = check_error(spec_check, pd.get(f"{V2}/deals", headers={"x-api-token": "wrong"}), 401)
    assert body["error"] == "unauthorized access"
    check_error(spec_check, pd.get(f"{V2}/deals/999999"), 404)
    check_error(spec_check, pd.get(f"{V2}/deals", params={"limit": 501}), 400)
    check_error(spec_check, pd.patch(f"{V2}/deals/1", json={"custom_fields": {"f" * 40: "x"}}), 400)
    pipedrive_sandbox.state.faults.add_rule("rate_limit", f"{V2}/deals")
    check_error(spec_check, pd.get(f"{V2}/deals"), 429)


def test_api_token_in_the_query_is_accepted(pipedrive_sandbox, spec_check):
    with httpx.Client(base_url=pipedrive_sandbox.url) as client:
        response = client.get(f"{V2}/deals/1", params={"api_token": pipedrive_sandbox.token})
    assert response.status_code == 200
    check(spec_check, response, check_request=False)  # the spec declares only the header scheme


class Recorder(httpx.BaseTransport):
    """A real HTTP transport that keeps every exchange, so each can be checked afterwards."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.responses: list[httpx.Response] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.responses.append(response)
        return response

    def close(self) -> None:
        self.inner.close()


def test_every_request_the_connector_sends_matches_the_spec(pipedrive_sandbox, spec_check):
    recorder = Recorder()
    with PipedriveConnector(pipedrive_sandbox.url, pipedrive_sandbox.token, "acme", limits=None,
                            transport=recorder) as crm:
        deals = [r for page in crm.search_modified_since("deals", 0, [], page_size=25) for r in page]
        ids = [d["id"] for d in deals[:30]]
        list(crm.search_modified_since("companies", 0, []))
        list(crm.search_modified_since("contacts", 0, []))
        crm.read_associations("deals", "companies", ids)
        crm.read_associations("deals", "contacts", ids)
        lines = crm.read_associations("deals", "line_items", ids)
        crm.batch_read("line_items", [i for found in lines.values() for i in found], [])
        crm.batch_read("deals", ids, [])
        crm.batch_read("companies", ["1", "2"], [])
        crm.batch_update("deals", {ids[0]: {"ledgerlink_invoice_number": "INV-7", "title": "New",
                                            "ledgerlink_amount_paid": "10.50",
                                            "ledgerlink_paid_date": "2026-03-01"}})
        crm.batch_update("companies", {"3": {"vat_number": "4000000001", "address_locality": "Paarl",
                                             "payment_terms": "30"}})
    sent = {f"{r.request.method} {r.request.url.path}" for r in recorder.responses}
    assert {f"PATCH {V2}/deals/{ids[0]}", f"PATCH {V2}/organizations/3", f"GET {V2}/deals/products",
            f"GET {V2}/products", f"GET {V2}/dealFields"} <= sent
    for response in recorder.responses:
        check(spec_check, response)
