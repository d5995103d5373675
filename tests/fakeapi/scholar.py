"""The Semantic Scholar Graph API's paper batch endpoint, in its recorded shapes.

`POST /graph/v1/paper/batch?fields=a,b` with `{"ids": [...]}` answers a JSON list in the
order of the ids, `null` for an unknown id, each paper carrying `paperId` and the fields
asked for (see `api-samples/semanticscholar`). Ids are `ARXIV:<id>`, `DOI:<doi>` (case
does not matter), `ACL:<id>`, `CorpusId:<n>` or a paper id. More than 500 ids, a body
that is not `{"ids": [...]}` or an unknown field answer 400 with `{"error": ...}`, as the
real API does. Answers carry the API gateway's headers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .fixtures import Facts
from .wire import Reply, Request, compact_json

BATCH_LIMIT = 500
KNOWN_FIELDS = frozenset(
    {
        "paperId",
        "corpusId",
        "externalIds",
        "url",
        "title",
        "abstract",
        "venue",
        "publicationVenue",
        "year",
        "referenceCount",
        "citationCount",
        "influentialCitationCount",
        "isOpenAccess",
        "openAccessPdf",
        "fieldsOfStudy",
        "s2FieldsOfStudy",
        "publicationTypes",
        "publicationDate",
        "journal",
        "citationStyles",
        "authors",
    }
)
_ARXIV_VENUES = (
    *("arXiv.org",) * 9,
    "Neural Information Processing Systems",
    "International Conference on Machine Learning",
    "Annual Meeting of the Association for Computational Linguistics",
)
_TOO_MANY = (
    "Too Many Requests. Please wait and try again or apply for a key for higher rate limits. "
    "https://www.semanticscholar.org/product/api#api-key-form"
)


@dataclass
class ScholarPaper:
    """A paper as the fake Semantic Scholar knows it."""

    paper_id: str
    corpus_id: int
    title: str
    authors: list[str]
    year: int | None
    publication_date: date | None
    venue: str = ""
    venue_type: str | None = None  # publicationVenue.type, e.g. "conference"; None: no venue
    journal: dict[str, str] | None = None
    publication_types: list[str] | None = None
    external: dict[str, Any] = field(default_factory=dict)  # ArXiv, DOI, ACL, DBLP, ...
    citations: int = 0
    influential: int = 0
    references: int = 0

    def lookup_ids(self) -> list[str]:
        """Every id this paper answers to, normalised (see `normalise`)."""
        found = [self.paper_id, f"CORPUSID:{self.corpus_id}"]
        for name, prefix in (("ArXiv", "ARXIV"), ("DOI", "DOI"), ("ACL", "ACL")):
            if self.external.get(name):
                found.append(normalise(f"{prefix}:{self.external[name]}"))
        return found

    def json(self, fields: list[str]) -> dict[str, Any]:
        venue = (
            {"id": Facts("s2-venue", self.venue).hexdigits("id", 8), "name": self.venue}
            | {"type": self.venue_type, "alternate_names": [], "url": None}
            if self.venue_type
            else None
        )
        every: dict[str, Any] = {
            "corpusId": self.corpus_id,
            "externalIds": {**self.external, "CorpusId": self.corpus_id},
            "url": f"https://www.semanticscholar.org/paper/{self.paper_id}",
            "title": self.title,
            "abstract": None,
            "venue": self.venue,
            "publicationVenue": venue,
            "year": self.year,
            "referenceCount": self.references,
            "citationCount": self.citations,
            "influentialCitationCount": self.influential,
            "isOpenAccess": False,
            "openAccessPdf": None,
            "fieldsOfStudy": ["Computer Science"],
            "s2FieldsOfStudy": [{"category": "Computer Science", "source": "s2-fos-model"}],
            "publicationTypes": self.publication_types,
            "publicationDate": self.publication_date.isoformat() if self.publication_date else None,
            "journal": self.journal,
            "citationStyles": {"bibtex": f"@Article{{S2:{self.corpus_id}}}"},
            "authors": [
                {"authorId": str(Facts("s2-author", n).num("id", 10**6, 10**9)), "name": n}
                for n in self.authors
            ],
        }
        return {"paperId": self.paper_id, **{f: every[f] for f in fields if f != "paperId"}}


def normalise(ident: str) -> str:
    """`doi:10.1/AbC` -> `DOI:10.1/abc`: prefixes and DOIs ignore case."""
    prefix, sep, rest = ident.partition(":")
    if not sep:
        return ident
    prefix = prefix.upper()
    return f"{prefix}:{rest.lower() if prefix == 'DOI' else rest}"


def default_paper(ident: str, **fields: Any) -> ScholarPaper:
    """Deterministic facts for a paper known by `ident` (`ARXIV:2305.14314`, `DOI:...`)."""
    facts = Facts("s2", normalise(ident))
    year = fields.pop("year", facts.num("year", 2019, 2025))
    paper = ScholarPaper(
        paper_id=facts.hexdigits("paperId", 40),
        corpus_id=facts.num("corpusId", 10**6, 3 * 10**8),
        title=fields.pop("title", f"Paper {ident.partition(':')[2]}"),
        authors=fields.pop("authors", [f"Author {facts.num('author', 1, 99)}"]),
        year=year,
        publication_date=fields.pop("publication_date", date(year, facts.num("month", 1, 12), 1)),
        citations=fields.pop("citations", facts.num("citations", 0, 5_000)),
        influential=fields.pop("influential", facts.num("influential", 0, 300)),
        references=facts.num("references", 5, 120),
        **fields,
    )
    prefix, _, rest = ident.partition(":")
    if prefix.upper() == "ARXIV" and "venue" not in fields:
        # Most preprints stay preprints (S2's venue "arXiv.org"); some were published since.
        paper.venue = facts.choice("venue", _ARXIV_VENUES)
        paper.venue_type = "journal" if paper.venue == "arXiv.org" else "conference"
        paper.journal = {"name": "ArXiv", "volume": f"abs/{rest}"}
        if paper.venue != "arXiv.org":
            paper.publication_types = ["JournalArticle", "Conference"]
            paper.journal = None
    name = {"ARXIV": "ArXiv", "DOI": "DOI", "ACL": "ACL"}.get(prefix.upper())
    if name and name not in paper.external:
        paper.external[name] = rest
    if name == "ArXiv" and "DOI" not in paper.external:
        paper.external["DOI"] = f"10.48550/arXiv.{rest}"
    return paper


class ScholarAPI:
    """The papers by every id they answer to, and the batch route."""

    def __init__(self) -> None:
        self.papers: dict[str, ScholarPaper] = {}
        # ids whose presence makes the whole batch answer 500, as some ids do on the real
        # API (allenai/s2-folks#38, #103)
        self.poison: set[str] = set()
        # papers every recommendations answer starts with (`recommend.py`)
        self.recommended: list[ScholarPaper] = []

    def add(self, paper: ScholarPaper) -> None:
        for key in paper.lookup_ids():
            self.papers[key] = paper

    def knows(self, ident: str) -> bool:
        return normalise(ident) in self.papers

    def route(self, request: Request) -> Reply:
        if request.path.rstrip("/") != "/graph/v1/paper/batch":
            return error(404, f"Paper with id {request.path.rsplit('/', 1)[-1]} not found")
        asked = read_post(request, "ids", '{"ids": [...]}')
        if isinstance(asked, Reply):
            return asked
        fields, ids = asked
        if len(ids) > BATCH_LIMIT:
            return error(400, f"Cannot lookup more than {BATCH_LIMIT} ids in a single request")
        if self.poison & {normalise(i) for i in ids}:
            return reply(500, {"message": "Internal Server Error"})
        found = [self.papers.get(normalise(i)) for i in ids]
        return reply(200, [p.json(fields) if p else None for p in found])

    def too_many(self) -> Reply:
        return reply(429, {"message": _TOO_MANY, "code": "429"})


def reply(status: int, body: Any) -> Reply:
    payload = json.dumps(body).encode() if status == 200 else compact_json(body)
    digest = Facts("s2-request", payload.decode()[:200]).hexdigits("rid", 32)
    headers = [
        ("Content-Type", "application/json"),
        ("Access-Control-Allow-Origin", "*"),
        ("Via", "1.1 fakeapi.cloudfront.net (CloudFront)"),
        ("X-Cache", "Miss from cloudfront" if status < 400 else "Error from cloudfront"),
        ("x-amzn-Remapped-Server", "gunicorn"),
        ("x-amzn-RequestId", f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-x"),
    ]
    return Reply(status, headers, payload, server="")


def error(status: int, message: str) -> Reply:
    return reply(status, {"error": message})


# Real facts of the seed's papers that are linked by DOI or ACL id only, so that a run
# against the fake finds what a run against the real API finds: their arXiv ids and years.
KNOWN: dict[str, dict[str, Any]] = {
    "DOI:10.5555/3666122.3666563": {
        "title": "QLoRA: Efficient Finetuning of Quantized LLMs",
        "authors": ["Tim Dettmers", "Artidoro Pagnoni", "Ari Holtzman", "Luke Zettlemoyer"],
        "year": 2023,
        "publication_date": date(2023, 5, 23),
        "venue": "Neural Information Processing Systems",
        "venue_type": "conference",
        "external": {"ArXiv": "2305.14314", "DBLP": "conf/nips/DettmersPHZ23"},
    },
    "DOI:10.5555/3666122.3667691": {
        "title": "Memory-Efficient Fine-Tuning of Compressed Large Language Models via "
        "sub-4-bit Integer Quantization",
        "authors": ["Jeonghoon Kim", "J. H. Lee", "Sungdong Kim", "Joonsuk Park", "Dongsoo Lee"],
        "year": 2023,
        "publication_date": date(2023, 5, 23),
        "venue": "Neural Information Processing Systems",
        "venue_type": "conference",
        "external": {"ArXiv": "2305.14152"},
    },
    # The other two papers of the seed linked by DOI: no arXiv version; their years.
    "DOI:10.1145/3477495.3531986": {
        "title": "H-ERNIE: A Multi-Granularity Pre-Trained Language Model for Web Search",
        "year": 2022,
        "publication_date": date(2022, 7, 6),
        "venue": "Annual International ACM SIGIR Conference on Research and Development in "
        "Information Retrieval",
        "venue_type": "conference",
    },
    "DOI:10.1145/3649217.3653554": {
        "year": 2024,
        "publication_date": date(2024, 7, 3),
        "venue": "Annual Conference on Innovation and Technology in Computer Science Education",
        "venue_type": "conference",
    },
    "ACL:2023.findings-emnlp.1033": {
        "title": "Test-Time Self-Adaptive Small Language Models for Question Answering",
        "authors": ["Soyeong Jeong", "Jinheon Baek", "Sukmin Cho", "Sung Ju Hwang", "Jong C. Park"],
        "year": 2023,
        "publication_date": date(2023, 10, 20),
        "venue": "Conference on Empirical Methods in Natural Language Processing",
        "venue_type": "conference",
        "external": {"ArXiv": "2310.13307", "DOI": "10.18653/v1/2023.findings-emnlp.1033"},
    },
}


def read_post(request: Request, key: str, shape: str) -> tuple[list[str], list[str]] | Reply:
    """A POST to the API, as both its endpoints read one: the fields asked for and the ids of
    the body's `key`; or the error the API answers (405, an unknown field, a body that is
    not JSON or not `shape`)."""
    if request.method != "POST":
        return error(405, "Method Not Allowed")
    fields = [f for f in (request.arg("fields") or "paperId").split(",") if f]
    unknown = sorted(set(fields) - KNOWN_FIELDS)
    if unknown:
        return error(400, f"Unrecognized or unsupported fields: [{', '.join(unknown)}]")
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return error(400, "Unable to parse request body")
    ids = body.get(key) if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return error(400, f"Body must be {shape}")
    return fields, ids
