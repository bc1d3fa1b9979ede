"""The Pipedrive connector's committed token-cost table agrees with the official v2 spec."""

from __future__ import annotations

from connectors.pipedrive_budget import TOKEN_COSTS
from connectors.sandbox.pipedrive_limits import load_token_costs


def test_every_cost_the_connector_knows_is_the_x_token_cost_of_the_spec():
    spec = load_token_costs()  # FileNotFoundError naming the path when ../shared/vendor-specs is absent
    assert {op: spec.get(op) for op in TOKEN_COSTS} == TOKEN_COSTS


def test_every_operation_the_connector_calls_has_a_cost():
    import connectors.pipedrive as pipedrive

    for entity in ("deals", "organizations", "persons", "products"):
        assert ("GET", f"/api/v2/{entity}") in TOKEN_COSTS
    assert ("GET", "/api/v2/deals/products") in TOKEN_COSTS
    for entity in pipedrive.ENTITIES.values():
        assert ("PATCH", f"/api/v2/{entity}/{{id}}") in TOKEN_COSTS
    for fields in pipedrive.FIELD_PATHS.values():
        assert ("GET", f"/api/v2/{fields}") in TOKEN_COSTS
