"""Money travels as exact decimals both ways; counters are readable as a plain dict."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connectors.http import VendorHttpClient, dumps_exact, loads_exact, path_template
from connectors.oauth import BearerAuth

from connector_testkit import Step


def test_dumps_exact_writes_decimals_as_exact_json_numbers():
    body = {"UnitAmount": Decimal("0.1"), "Quantity": Decimal("3"),
            "Big": Decimal("12345678901234567890.123456789"), "Tiny": Decimal("1E-7"),
            "Name": 'Ac"me ✓', "Lines": [Decimal("-0.30"), None, True, 7]}
    text = dumps_exact(body)
    assert '"UnitAmount":0.1' in text and '"Big":12345678901234567890.123456789' in text
    assert '"Tiny":0.0000001' in text and '"Lines":[-0.30,null,true,7]' in text
    assert loads_exact(text) == body | {"Name": 'Ac"me ✓'}
    assert json.loads(text)["Name"] == 'Ac"me ✓'


def test_dumps_exact_refuses_floats_and_non_finite_numbers():
    with pytest.raises(TypeError):
        dumps_exact({"amount": 0.1})
    with pytest.raises(ValueError):
        dumps_exact(Decimal("NaN"))


def test_responses_parse_numbers_as_decimal(server):
    server.script("/Invoices", Step(200, '{"Total": 1150.10, "Rate": 0.15, "Count": 3}'))
    with VendorHttpClient("xero", server.url, tenant="t", auth=BearerAuth("x")) as client:
        body = client.get("/Invoices").body
    assert body == {"Total": Decimal("1150.10"), "Rate": Decimal("0.15"), "Count": 3}
    assert isinstance(body["Total"], Decimal) and isinstance(body["Count"], int)


def test_request_body_reaches_the_server_with_exact_digits(server):
    with VendorHttpClient("xero", server.url, tenant="t", auth=BearerAuth("x")) as client:
        client.post("/x", json_body={"UnitAmount": Decimal("1234.5678")}, read=True)
    assert server.calls("/x")[0].body == b'{"UnitAmount":1234.5678}'


def test_stats_snapshot_counts_calls_per_endpoint_template(server):
    server.script("/Invoices", Step(503))
    with VendorHttpClient("xero", server.url, tenant="t", auth=BearerAuth("x"),
                          sleep=lambda s: None) as client:
        client.get("/Invoices")
        client.get("/Invoices/3f2a2d44-61d2-4b43-9c8e-0a4f3a3a9b11")
        client.get("/crm/v3/objects/deals/12345")
    snap = client.stats.snapshot()
    assert snap["calls"] == 4 and snap["retries"] == 1 and snap["server_errors"] == 1
    assert snap["per_endpoint"] == {"GET /Invoices": 2, "GET /Invoices/{id}": 1,
                                    "GET /crm/v3/objects/deals/{id}": 1}
    assert snap["latency_total_s"] > 0
    json.dumps(snap)  # plain data, ready for a Prefect artifact


def test_path_template_hides_record_ids():
    assert path_template("/Contacts/0a1b2c3d-1111-2222-3333-444455556666/History") == \
        "/Contacts/{id}/History"
