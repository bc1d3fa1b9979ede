"""One TLS context for every vendor client in the process.

httpx builds a fresh `ssl.SSLContext` for each client and loads the whole CA bundle into it
(~45 ms of CPU each time). A run opens a CRM client, an accounting client and a token client, and
an approval run does the same again, so that cost was paid hundreds of times in a busy worker.
An `SSLContext` is safe to share between clients and threads; verification stays exactly httpx's
default (certifi's bundle, hostname checks on).
"""

from __future__ import annotations

import ssl
from functools import lru_cache

import httpx


@lru_cache(maxsize=1)
def verified_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
