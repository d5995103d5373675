"""A loopback HTTP server that speaks arXiv, GitHub (REST + GraphQL) and the Hugging Face Hub.

Used by end-to-end tests (real client libraries, real sockets) and by benchmarks
(`python -m tests.fakeapi --seed-file seeds/slm-survey.md`). See `server.FakeAPI`.
"""

from .fixtures import Author, CollectionItem
from .handler import FAULT_KINDS, RecordedRequest
from .links import Extracted, extract_links
from .server import FakeAPI, PeakFakeAPI

__all__ = [
    "FAULT_KINDS",
    "Author",
    "CollectionItem",
    "Extracted",
    "FakeAPI",
    "PeakFakeAPI",
    "RecordedRequest",
    "extract_links",
]
