"""The errors `enrich` raises. The library raises; only the CLI turns them into messages.

    EnrichError                 anything this package raises on purpose
    ├── InputError              a seed, path or option the user gave cannot be used   (exit 2)
    │   └── SeedError           a seed file is unreadable, binary or not UTF-8         (exit 2)
    ├── OutputError             the output folder or the cache cannot be written       (exit 2)
    └── FetchError              one request failed after the retry policy gave up
        ├── TransientError      worth retrying: 429, 5xx, 408, timeouts, resets
        │   ├── Unreachable     could not connect at all (counted by the circuit breaker)
        │   └── TimedOut        no answer in time (counted by the circuit breaker)
        └── PermanentError      not worth retrying: other 4xx, malformed answers

A run that finds its cache or output folder locked by another run waits for it, and says so:
that is not an error. Fetch errors never escape a source: each becomes the status of the
items it concerns (`error`, or `stale` when a last known value exists). Their messages never
contain tokens.
"""

from __future__ import annotations


class EnrichError(Exception):
    """Base class of every error raised on purpose by `enrich`."""


class InputError(EnrichError):
    """Something the user gave (a path, an option, a seed) cannot be used."""


class SeedError(InputError):
    """A seed file that cannot be read as UTF-8 markdown. `str()` starts with `file:line`."""


class OutputError(EnrichError):
    """The output folder or a file in it cannot be written, or the cache could not be used
    (a full disk: raised once the outputs are written from what was fetched)."""


class FetchError(EnrichError):
    """A request failed. `status` is the HTTP status when there was an answer."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TransientError(FetchError):
    """A failure worth retrying (429, 5xx, 408, timeouts, connection resets)."""


class Unreachable(TransientError):
    """The host could not be reached at all (refused, no route, DNS)."""


class TimedOut(TransientError):
    """The host took longer than the timeout to answer."""


class PermanentError(FetchError):
    """A failure that retrying will not fix (other 4xx, a malformed answer)."""
