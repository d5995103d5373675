"""The fake speaks well enough for the real clients: arxiv.py, PyGithub, huggingface_hub.

Every test goes over a real loopback socket; the recorded-shape comparisons live in
`test_fakeapi_shapes.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import arxiv
import pytest
import requests
from arxiv import _feed
from github import Auth, Github, RateLimitExceededException
from github.GithubException import UnknownObjectException
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils._http import parse_ratelimit_headers
from lxml import etree

from tests.fakeapi import FakeAPI
from tests.fakeapi.graphql import Parser, execute

ATOM = "{http://www.w3.org/2005/Atom}"


# PyGithub throttles itself by default (0.25 s between requests, 1 s between non-GETs, which
# includes every GraphQL POST); off here to keep the suite fast.
UNTHROTTLED: dict[str, Any] = {"seconds_between_requests": None, "seconds_between_writes": None}


@pytest.fixture
def gh(api: FakeAPI) -> Iterator[Github]:
    client = Github(base_url=api.base_url, retry=None, **UNTHROTTLED)
    yield client
    client.close()


@pytest.fixture
def gh_token(api: FakeAPI) -> Iterator[Github]:
    client = Github(base_url=api.base_url, auth=Auth.Token("fake-token"), retry=None, **UNTHROTTLED)
    yield client
    client.close()


@pytest.fixture
def hf(api: FakeAPI) -> HfApi:
    return HfApi(endpoint=api.base_url, token=False)


# --------------------------------------------------------------------------------- arXiv


def _arxiv_client(api: FakeAPI, page_size: int = 100) -> arxiv.Client:
    client = arxiv.Client(page_size=page_size, delay_seconds=0, num_retries=0)
    client.query_url_format = api.base_url + "/api/query?{}"
    return client


def test_arxiv_client_batch_skips_unknown_ids_and_pages(api: FakeAPI) -> None:
    api.add_paper("2306.07629", title="SqueezeLLM", authors=["Sehoon Kim", ("Amir", "UCB")])
    api.add_paper("2402.14905v2", doi="10.1234/x")
    api.add_paper("astro-ph/0601001")
    client = _arxiv_client(api, page_size=2)
    ids = ["2306.07629", "0000.00000", "2402.14905", "astro-ph/0601001"]
    try:
        results = list(client.results(arxiv.Search(id_list=ids)))
    finally:
        client._session.close()
    assert [r.get_short_id() for r in results] == [
        "2306.07629v1",
        "2402.14905v2",
        "astro-ph/0601001v" + str(api.papers["astro-ph/0601001"].version),
    ]
    first = results[0]
    assert first.title == "SqueezeLLM"
    assert [(a.name, a.affiliation) for a in first.authors] == [
        ("Sehoon Kim", []),
        ("Amir", ["UCB"]),
    ]
    assert first.published.year == 2023
    assert first.published.month == 6
    assert first.pdf_url == "https://arxiv.org/pdf/2306.07629v1"
    assert results[1].doi == "10.1234/x"
    starts = [r.query["start"] for r in api.requests]
    assert starts == ["0", "2"]
    assert api.count("arxiv") == 2


def test_arxiv_versions_and_totals(api: FakeAPI) -> None:
    api.add_paper("2104.12255", version=3)
    body = requests.get(
        api.base_url + "/api/query",
        params={"id_list": "2104.12255v1,2104.12255v9,2104.12255", "max_results": "10"},
        timeout=5,
    ).content
    feed = _feed.parse(body)
    assert feed.header.total_results == 2
    assert [r.entry_id for r in feed.results] == [
        "http://arxiv.org/abs/2104.12255v1",
        "http://arxiv.org/abs/2104.12255v3",
    ]


def test_arxiv_malformed_id_is_400_error_feed(api: FakeAPI) -> None:
    response = requests.get(api.base_url + "/api/query", params={"id_list": "abc"}, timeout=5)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    entry = etree.fromstring(response.content).find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}title") == "Error"
    assert entry.findtext(f"{ATOM}summary") == "incorrect id format for abc"
    assert entry.findtext(f"{ATOM}id") == "https://arxiv.org/api/errors#incorrect_id_format_for_abc"
    client = _arxiv_client(api)
    try:
        with pytest.raises(arxiv.HTTPError) as caught:
            list(client.results(arxiv.Search(id_list=["abc"])))
    finally:
        client._session.close()
    assert caught.value.status == 400


# -------------------------------------------------------------------------------- GitHub


def test_pygithub_get_repo_is_case_insensitive(api: FakeAPI, gh: Github) -> None:
    api.add_repo("SqueezeAILab/SqueezeLLM", stars=812, license_spdx="MIT", archived=True)
    api.add_repo("x/unlicensed", license_spdx=None)
    repo = gh.get_repo("squeezeailab/squeezellm")
    assert repo.full_name == "SqueezeAILab/SqueezeLLM"
    assert (repo.stargazers_count, repo.archived, repo.license.spdx_id) == (812, True, "MIT")
    assert repo.etag is not None
    assert repo.etag.startswith('W/"')
    assert gh.get_repo("x/unlicensed").license is None


def test_pygithub_follows_301_of_renamed_repo(api: FakeAPI, gh: Github) -> None:
    """PyGithub 2.10 follows a same-host 301 itself (Requester.__requestRaw), GET only path."""
    moved = api.add_repo("EnricoMi/test")
    api.rename_repo("EnricoMi/test", "EnricoMi/test-renamed")
    repo = gh.get_repo("EnricoMi/test")
    assert (repo.full_name, repo.id) == ("EnricoMi/test-renamed", moved.id)
    assert [(r.path, r.status) for r in api.requests] == [
        ("/repos/EnricoMi/test", 301),
        (f"/repositories/{moved.id}", 200),
    ]
    raw = requests.get(api.base_url + "/repos/enricomi/TEST", allow_redirects=False, timeout=5)
    assert raw.headers["Location"] == f"{api.base_url}/repositories/{moved.id}"
    assert raw.json()["documentation_url"] == "https://docs.github.com/v3/#http-redirects"


def test_pygithub_404_is_unknown_object(api: FakeAPI, gh: Github) -> None:
    with pytest.raises(UnknownObjectException) as caught:
        gh.get_repo("nobody/nothing")
    assert caught.value.data == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
        "status": "404",
    }


@pytest.mark.parametrize("authorized", [False, True])
def test_a_304_is_free_only_to_an_authorized_request(api: FakeAPI, authorized: bool) -> None:
    """GitHub: a 304 does not count against the primary rate limit only "if the request was
    made while correctly authorized with an Authorization header"; anonymous, it costs one."""
    api.add_repo("a/b")
    auth = {"Authorization": "token t"} if authorized else {}
    first = requests.get(api.base_url + "/repos/a/b", headers=auth, timeout=5)
    left = int(first.headers["X-RateLimit-Remaining"])
    assert left == api.rate_limit_remaining(token=authorized) == (4999 if authorized else 59)
    etag = {"If-None-Match": first.headers["ETag"]}
    again = requests.get(api.base_url + "/repos/a/b", headers={**auth, **etag}, timeout=5)
    assert again.status_code == 304
    assert again.content == b""
    after = left if authorized else left - 1
    assert int(again.headers["X-RateLimit-Remaining"]) == after
    assert api.rate_limit_remaining(token=authorized) == after


def test_an_anonymous_conditional_request_on_a_spent_budget_is_refused(api: FakeAPI) -> None:
    api.add_repo("a/b")
    first = requests.get(api.base_url + "/repos/a/b", timeout=5)
    api.set_rate_limit(0, token=False)
    etag = {"If-None-Match": first.headers["ETag"]}
    assert requests.get(api.base_url + "/repos/a/b", headers=etag, timeout=5).status_code == 403


def test_pygithub_update_sends_validators_and_reads_a_304(api: FakeAPI, gh: Github) -> None:
    api.add_repo("a/b")
    repo = gh.get_repo("a/b")
    left = api.rate_limit_remaining(token=False)
    assert repo.update() is False  # PyGithub sends If-None-Match / If-Modified-Since; 304 -> False
    assert api.rate_limit_remaining(token=False) == left - 1  # anonymous: charged


def test_rate_limit_exhausted_gives_403_and_rate_limit_is_free(api: FakeAPI, gh: Github) -> None:
    api.add_repo("a/b")
    api.set_rate_limit(0, reset_epoch=2_000_000_000, token=False)
    with pytest.raises(RateLimitExceededException):
        gh.get_repo("a/b")
    raw = requests.get(api.base_url + "/repos/a/b", timeout=5)
    assert raw.status_code == 403
    assert raw.headers["X-RateLimit-Remaining"] == "0"
    assert raw.headers["X-RateLimit-Reset"] == "2000000000"
    assert raw.json()["message"].startswith("API rate limit exceeded for")
    limits = requests.get(api.base_url + "/rate_limit", timeout=5).json()
    assert limits["resources"]["core"]["remaining"] == 0
    assert limits["rate"]["limit"] == 60
    assert requests.get(api.base_url + "/repos/a/b", headers={"Authorization": "token t"}).ok


def test_rate_limit_refills_after_reset(api: FakeAPI) -> None:
    api.add_repo("a/b")
    api.set_rate_limit(0, reset_epoch=1, token=True)
    response = requests.get(api.base_url + "/repos/a/b", headers={"Authorization": "token t"})
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "5000"
    assert response.headers["X-RateLimit-Remaining"] == "4999"


def test_contents_paths_and_refs(api: FakeAPI, gh: Github) -> None:
    api.add_repo("g/r", default_branch="master", paths=["mobilebert", "moe/moe.py"], refs=["dev"])
    repo = gh.get_repo("g/r")
    assert repo.get_contents("mobilebert") == []  # a directory answers a list (here empty)
    file = repo.get_contents("moe/moe.py", ref="dev")
    assert not isinstance(file, list)
    assert file.type == "file"
    root = repo.get_contents("")
    assert isinstance(root, list)
    assert {c.name for c in root} == {"README.md", "mobilebert", "moe"}
    with pytest.raises(UnknownObjectException):
        repo.get_contents("nope")
    bad_ref = requests.get(api.base_url + "/repos/g/r/contents/mobilebert?ref=zzz", timeout=5)
    assert bad_ref.status_code == 404
    assert "No commit found for the ref zzz" in bad_ref.text


GRAPHQL = """query Batch($o: String!) {
  r0: repository(owner: $o, name: "squeezellm") {
    nameWithOwner stargazerCount forkCount isArchived isFork createdAt pushedAt updatedAt
    url description homepageUrl owner { login } watchers { totalCount }
    issues(states: OPEN) { totalCount } licenseInfo { spdxId name key }
    defaultBranchRef { name } primaryLanguage { name }
    repositoryTopics(first: 1) { nodes { topic { name } } }
  }
  r1: repository(owner: "c", name: "d") { nameWithOwner }
  r2: repository(owner: "EnricoMi", name: "test") { nameWithOwner }
  rateLimit { cost remaining resetAt limit }
}"""


def test_graphql_aliases_missing_and_renamed(api: FakeAPI, gh_token: Github) -> None:
    api.add_repo("SqueezeAILab/SqueezeLLM", stars=5, license_spdx="Apache-2.0", topics=["a", "b"])
    api.add_repo("EnricoMi/test")
    api.rename_repo("EnricoMi/test", "EnricoMi/test-renamed")
    requester = gh_token.requester
    headers, body = requester.requestJsonAndCheck(
        "POST", requester.graphql_url, input={"query": GRAPHQL, "variables": {"o": "SqueezeAILab"}}
    )
    data = body["data"]
    assert data["r0"]["nameWithOwner"] == "SqueezeAILab/SqueezeLLM"
    assert data["r0"]["licenseInfo"] == {
        "spdxId": "Apache-2.0",
        "name": "Apache License 2.0",
        "key": "apache-2.0",
    }
    assert data["r0"]["repositoryTopics"] == {"nodes": [{"topic": {"name": "a"}}]}
    stored = api.github.find("squeezeailab/squeezellm")
    assert stored is not None
    assert data["r0"]["issues"]["totalCount"] == stored.open_issues
    assert data["r1"] is None
    assert data["r2"] == {"nameWithOwner": "EnricoMi/test-renamed"}
    assert data["rateLimit"]["cost"] == 1
    assert data["rateLimit"]["remaining"] == 4999
    assert body["errors"] == [
        {
            "type": "NOT_FOUND",
            "path": ["r1"],
            "locations": [{"line": 9, "column": 3}],
            "message": "Could not resolve to a Repository with the name 'c/d'.",
        }
    ]
    assert headers["x-ratelimit-resource"] == "graphql"
    # graphql_query() raises on a lone NOT_FOUND error even though other aliases have data.
    with pytest.raises(UnknownObjectException):
        requester.graphql_query(GRAPHQL, {"o": "SqueezeAILab"})


def test_graphql_auth_and_validation(api: FakeAPI) -> None:
    query = {"query": '{ repository(owner: "a", name: "b") { bogus } }'}
    anonymous = requests.post(api.base_url + "/graphql", json=query, timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "This endpoint requires you to be authenticated."
    invalid = requests.post(
        api.base_url + "/graphql", json=query, headers={"Authorization": "bearer t"}, timeout=5
    ).json()
    assert "data" not in invalid
    assert invalid["errors"][0]["extensions"]["code"] == "undefinedField"


@pytest.mark.parametrize(
    ("query", "field", "code", "says"),
    [
        ('{ repository(owner: "a") { name } }', "repository", "missingRequiredArguments", "name"),
        ('{ repository(owner: "a", name: "b") { bogus } }', "bogus", "undefinedField", "exist"),
        ('{ repository(owner: "a", name: "b") { name { x } } }', "name", None, "on scalars"),
        ('{ repository(owner: "a", name: "b") { owner } }', "owner", None, "have selections"),
    ],
    ids=["missing-argument", "unknown-field", "selections-on-a-scalar", "no-selections"],
)
def test_graphql_validation_errors(query: str, field: str, code: str | None, says: str) -> None:
    """As GitHub answers an invalid query: no data; each error's path, place and message,
    with a code where GitHub gives one."""
    answer = execute(query, {}, {})
    assert list(answer) == ["errors"]
    (error,) = answer["errors"]
    assert error.get("extensions", {}).get("code") == code
    assert says in error["message"]
    assert error["path"][-1] == field
    assert error["locations"][0]["line"] == 1


@pytest.mark.parametrize(
    ("source", "args"),
    [
        ('(a: 1, b: "x")', {"a": 1, "b": "x"}),
        ("(o: {k: [1, 2], n: {m: null}})", {"o": {"k": [1, 2], "n": {"m": None}}}),
        ("(v: $v, e: {})", {"v": 7, "e": {}}),
    ],
    ids=["scalars", "nested-input-objects", "a-variable-and-an-empty-object"],
)
def test_graphql_arguments_and_input_objects(source: str, args: dict[str, Any]) -> None:
    assert Parser(source, {"v": 7}).arguments() == args


# ----------------------------------------------------------------------------------- Hub


def test_hub_model_info_plain_and_expanded(api: FakeAPI, hf: HfApi) -> None:
    api.add_model(
        "TinyLlama/TinyLlama-1.1B",
        downloads=10,
        downloads_all_time=99,
        likes=3,
        arxiv_ids=["2401.02385"],
        license="apache-2.0",
    )
    plain = hf.model_info("tinyllama/tinyllama-1.1b")
    assert (plain.id, plain.author, plain.downloads, plain.likes) == (
        "TinyLlama/TinyLlama-1.1B",
        "TinyLlama",
        10,
        3,
    )
    assert plain.downloads_all_time is None  # only when expanded, like the Hub
    assert {"arxiv:2401.02385", "license:apache-2.0"} <= set(plain.tags or [])
    assert plain.card_data is not None
    assert plain.card_data.license == "apache-2.0"
    expanded = hf.model_info("TinyLlama/TinyLlama-1.1B", expand=["downloadsAllTime", "likes"])
    assert (expanded.downloads_all_time, expanded.likes, expanded.sha) == (99, 3, None)
    assert api.requests[-1].query["expand"] == "downloadsAllTime,likes"
    with pytest.raises(BadRequestError):
        hf.model_info("TinyLlama/TinyLlama-1.1B", expand=["bogus"])  # type: ignore[list-item]


def test_hub_other_repo_types_and_legacy_ids(api: FakeAPI, hf: HfApi) -> None:
    api.add_model("gpt2")
    api.add_dataset("tatsu-lab/alpaca", downloads=7)
    api.add_space("junyangwang0410/Mobile-Agent", sdk="gradio", likes=4)
    assert hf.model_info("gpt2").author is None
    assert hf.dataset_info("tatsu-lab/alpaca").downloads == 7
    space = hf.space_info("junyangwang0410/Mobile-Agent")
    assert (space.sdk, space.likes, space.runtime.stage if space.runtime else None) == (
        "gradio",
        4,
        "RUNNING",
    )


def test_hub_404_is_repository_not_found(api: FakeAPI, hf: HfApi) -> None:
    with pytest.raises(RepositoryNotFoundError):
        hf.model_info("nobody/nothing")
    raw = requests.get(api.base_url + "/api/datasets/nobody/nothing", timeout=5)
    assert (raw.status_code, raw.headers["X-Error-Code"], raw.json()) == (
        404,
        "RepoNotFound",
        {"error": "Repository not found"},
    )


def test_hub_collection_paper_and_lists(api: FakeAPI, hf: HfApi) -> None:
    api.add_model("MBZUAI/MobiLlama-05B", arxiv_ids=["2402.14905"], downloads=50)
    api.add_model("MBZUAI/MobiLlama-1B", arxiv_ids=["2402.14905"], downloads=500)
    slug = "MBZUAI/mobillama-65dd4182d588c91e8230332e"
    api.add_collection(
        slug, title="MobiLlama", items=[("model", "MBZUAI/MobiLlama-1B"), ("paper", "2402.14905")]
    )
    api.add_paper_page("2402.14905", github_repo="https://github.com/mbzuai-oryx/MobiLlama")
    api.add_org("MBZUAI", models=2)
    collection = hf.get_collection(slug)
    assert collection.title == "MobiLlama"
    assert [(i.item_type, i.item_id) for i in collection.items] == [
        ("model", "MBZUAI/MobiLlama-1B"),
        ("paper", "2402.14905"),
    ]
    paper = hf.paper_info("2402.14905")
    assert paper.github_repo == "https://github.com/mbzuai-oryx/MobiLlama"
    assert paper.authors
    assert paper.published_at is not None
    assert len(list(hf.list_models(author="MBZUAI"))) == 4
    assert list(hf.list_models(author="nobody")) == []
    by_paper = hf.list_models(filter="arxiv:2402.14905", sort="downloads", limit=5)
    assert [m.id for m in by_paper] == ["MBZUAI/MobiLlama-1B", "MBZUAI/MobiLlama-05B"]
    with pytest.raises(HfHubHTTPError):
        hf.paper_info("0000.00000")


def test_hub_ratelimit_headers_parse_and_exhaust() -> None:
    with FakeAPI(hub_limit=2) as small:
        small.add_model("a/b")
        ok = requests.get(small.base_url + "/api/models/a/b", timeout=5)
        info = parse_ratelimit_headers(ok.headers)
        assert info is not None
        assert (info.remaining, info.limit, info.window_seconds) == (1, 2, 300)
        requests.get(small.base_url + "/api/models/a/b", timeout=5)
        with pytest.raises(HfHubHTTPError, match="'api' rate limit"):
            HfApi(endpoint=small.base_url, token=False).model_info("a/b")
