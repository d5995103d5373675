"""What the sources say about an entity: one normalised record per kind of fact. No I/O here.

`PaperMeta` (arXiv), `RepoMeta` (GitHub), `HubMeta` (the Hugging Face Hub), `TaggedModels`
(the Hub's models tagged with a paper), `ScholarMeta` (Semantic Scholar), `Recommendations`
(the papers Semantic Scholar recommends for a section) and `PageMeta` (a paper's landing
page) are what a `Result` (`models.py`) holds as its `data`, told apart by
their `type`: `EntityData`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from enrich.record import Record


class Author(Record):
    name: str
    affiliations: list[str] = Field(default_factory=list)


class PaperMeta(Record):
    """An arXiv paper, normalised."""

    type: Literal["paper"] = "paper"
    arxiv_id: str
    latest_version: str | None = None
    title: str
    authors: list[Author]
    abstract: str
    published: AwareDatetime
    updated: AwareDatetime
    primary_category: str | None = None
    categories: list[str] = Field(default_factory=list)
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    pdf_url: str | None = None


class RepoMeta(Record):
    """A GitHub repository, normalised."""

    type: Literal["repo"] = "repo"
    full_name: str = Field(description="Canonical owner/name as GitHub spells it now.")
    description: str | None = None
    stars: int
    forks: int | None = None
    watchers: int | None = None
    open_issues: int | None = None
    license_spdx: str | None = None
    license_name: str | None = None
    archived: bool = False
    fork: bool = False
    created_at: AwareDatetime | None = None
    pushed_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    default_branch: str | None = None
    topics: list[str] = Field(default_factory=list)
    homepage: str | None = None
    language: str | None = None
    subpaths: dict[str, bool] = Field(
        default_factory=dict, description="Linked /tree or /blob subpaths and whether they exist."
    )


class TaggedModel(Record):
    """A Hub model tagged with a paper's arXiv id."""

    id: str = Field(description="The model's repo id, e.g. 'TinyLlama/TinyLlama-1.1B'.")
    downloads: int | None = Field(default=None, description="Downloads in the last 30 days.")
    likes: int | None = None


HubKind = Literal["model", "dataset", "space", "collection", "paper", "org"]


class HubMeta(Record):
    """A Hugging Face Hub model, dataset, space, collection, paper page or org, normalised."""

    type: Literal["hub"] = "hub"
    hub_kind: HubKind
    id: str
    title: str | None = None
    downloads: int | None = Field(default=None, description="Downloads in the last 30 days.")
    downloads_all_time: int | None = None
    likes: int | None = None
    upvotes: int | None = None
    last_modified: AwareDatetime | None = None
    pipeline_tag: str | None = None
    library: str | None = None
    license: str | None = None
    gated: bool | str | None = None
    arxiv_ids: list[str] = Field(default_factory=list)
    items: int | None = Field(default=None, description="Items of a collection.")
    github_repo: str | None = Field(default=None, description="A paper page's linked repository.")
    models: int | None = Field(default=None, description="Public models of an org or user.")


class TaggedModels(Record):
    """The Hub's models tagged `arxiv:<id>` (`hf_paper_models:<id>`), most downloaded first."""

    type: Literal["paper_models"] = "paper_models"
    arxiv_id: str
    models: list[TaggedModel] = Field(
        default_factory=list, description="Models tagged arxiv:<id>, most downloaded first."
    )


class ScholarMeta(Record):
    """A paper as Semantic Scholar knows it: citations, venue, and its other identifiers."""

    type: Literal["scholar"] = "scholar"
    paper_id: str = Field(description="Semantic Scholar's paper id.")
    title: str | None = None
    authors: list[Author] = Field(default_factory=list)
    year: int | None = None
    publication_date: date | None = None
    venue: str | None = Field(default=None, description="Where it was published, if anywhere.")
    journal: str | None = Field(default=None, description="Journal name, volume and pages.")
    publication_types: list[str] = Field(default_factory=list)
    arxiv_id: str | None = Field(default=None, description="Its arXiv id, when it has one.")
    doi: str | None = None
    acl_id: str | None = None
    citations: int | None = None
    influential_citations: int | None = None
    url: str | None = None


class PageMeta(Record):
    """A paper as its landing page describes it (PMLR, OpenReview): the Highwire Press
    `citation_*` meta tags that Google Scholar reads."""

    type: Literal["page"] = "page"
    title: str
    authors: list[Author] = Field(default_factory=list)
    year: int | None = None
    publication_date: date | None = Field(
        default=None, description="The page's publication (or online) date, when it gives a day."
    )
    venue: str | None = Field(default=None, description="Conference or journal title.")
    pdf_url: str | None = None
    url: str = Field(description="The landing page.")


class RecommendedPaper(Record):
    """A paper Semantic Scholar recommends: what the recommendations API is asked for."""

    paper_id: str = Field(description="Semantic Scholar's paper id.")
    title: str | None = None
    year: int | None = None
    publication_date: date | None = None
    venue: str | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    acl_id: str | None = None
    citations: int | None = None


class Recommendations(Record):
    """The papers Semantic Scholar recommends for a section's papers (`recommended:<keys>`),
    in the API's order: candidates the list may be missing (`papers.py`)."""

    type: Literal["recommendations"] = "recommendations"
    papers: list[RecommendedPaper] = Field(
        default_factory=list, description="The recommended papers, as the API ordered them."
    )


EntityData = Annotated[
    PaperMeta | RepoMeta | HubMeta | TaggedModels | ScholarMeta | PageMeta | Recommendations,
    Field(discriminator="type"),
]
