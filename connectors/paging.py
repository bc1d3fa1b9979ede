"""Splitting work to fit vendor limits: items per batch, characters per URL.

Vendors cap batch sizes (HubSpot 100 inputs, Xero ~50 elements) and URLs (a Xero `where` clause
listing references rides in the query string), so every connector needs the same two splitters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items, in order."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def chunked_by_length(items: Sequence[T], render: Callable[[T], str], *, max_chars: int,
                      max_items: int, separator: str = "") -> Iterator[list[T]]:
    """Consecutive lists whose rendered, joined text stays within `max_chars` and `max_items`.

    One item longer than `max_chars` on its own still goes out alone: the vendor, not this
    function, decides whether it is too long.
    """
    chunk: list[T] = []
    length = 0
    for item in items:
        size = len(render(item)) + (len(separator) if chunk else 0)
        if chunk and (length + size > max_chars or len(chunk) == max_items):
            yield chunk
            chunk, length = [], 0
            size = len(render(item))
        chunk.append(item)
        length += size
    if chunk:
        yield chunk
