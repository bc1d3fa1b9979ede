"""Vendor connectors: one module per vendor over one shared HTTP layer.

`connectors.http` holds everything HTTP-generic (retries, rate limits, auth, typed errors,
counters); `hubspot` and `xero` only know their vendor's paths, shapes and paging. Connectors
return raw vendor records or `ledgerlink.model` types and never import Prefect, so flows can run
them in any worker and tests can run them against the emulators in `connectors.sandbox`.

Names are exported lazily, so importing `connectors.sandbox` does not pull in the HTTP stack.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "connectors.errors": ["BadResponse", "Forbidden", "NetworkError", "NotFound", "RateLimited",
                          "ResultCapExceeded", "ServerError", "Unauthorized", "UncertainWrite",
                          "ValidationRejected", "VendorError"],
    "connectors.http": ["HttpStats", "RetryPolicy", "VendorHttpClient", "redact"],
    "connectors.hubspot": ["HubSpotConnector"],
    "connectors.oauth": ["InMemoryTokenStore", "JsonFileTokenStore", "TokenSet", "TokenStore"],
    "connectors.ratelimit": ["HUBSPOT_LIMITS", "XERO_LIMITS", "RateLimits", "Window",
                             "hubspot_limits"],
    "connectors.xero": ["XeroConnector", "parse_xero_date"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'connectors' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
