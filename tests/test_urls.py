"""`enrich.urls.identify`: every URL shape the seeds and the corpus use, with real examples.

Examples come from `seeds/slm-survey.md` and `../shared/corpus/*.md` (see SOURCES.md there);
the old-style arXiv ids are the textbook ones, since no list in the corpus links them.
"""

from __future__ import annotations

import pytest

from enrich.models import Kind
from enrich.urls import (
    UnsupportedURL,
    identify,
    in_page,
    malformed,
    normalise_url,
    parse_arxiv_id,
)

# --------------------------------------------------------------------------- arXiv

ARXIV = [
    # (url, key, version)
    ("https://arxiv.org/abs/2306.07629", "2306.07629", None),  # seed, SqueezeLLM
    ("https://arxiv.org/pdf/2604.05015", "2604.05015", None),  # BradyFU, pdf without .pdf
    ("https://arxiv.org/pdf/1706.03762.pdf", "1706.03762", None),  # Hannibal046
    ("https://arxiv.org/pdf/2308.10253v1.pdf", "2308.10253", "v1"),  # BradyFU L642
    ("https://arxiv.org/html/2404.14619v2", "2404.14619", "v2"),  # eugeneyan L60
    ("http://arxiv.org/abs/2402.10631", "2402.10631", None),  # pprp, no TLS
    ("https://export.arxiv.org/pdf/2504.17376", "2504.17376", None),
    ("https://www.arxiv.org/abs/2407.14679", "2407.14679", None),
    ("https://www.arxiv.org/pdf/2408.04840", "2408.04840", None),
    ("https://arxiv.org/abs/2306.17256v4", "2306.17256", "v4"),  # seed, PromptRec
    ("https://arxiv.org/abs/1905.01969", "1905.01969", None),  # seed, 4-digit number
    ("https://arxiv.org/abs/0704.0001", "0704.0001", None),  # the first new-style id
    ("https://arxiv.org/abs/hep-th/9901001", "hep-th/9901001", None),
    ("https://arxiv.org/abs/astro-ph/0601001", "astro-ph/0601001", None),
    ("https://arxiv.org/abs/quant-ph/0201082v1", "quant-ph/0201082", "v1"),
    ("https://arxiv.org/abs/math.GT/0309136", "math.GT/0309136", None),
    ("https://arxiv.org/pdf/hep-th/9901001v2.pdf", "hep-th/9901001", "v2"),
    ("https://arxiv.org/ftp/arxiv/papers/2403/2403.20041.pdf", "2403.20041", None),  # xlite L500
    ("https://arxiv.org/abs/2410.18311#", "2410.18311", None),  # horseee L190, trailing #
    ("https://arxiv.org/abs/2306.07629/", "2306.07629", None),
    ("https://arxiv.org/abs/2306.07629?utm_source=chatgpt.com", "2306.07629", None),  # mlabonne
    ("https://ARXIV.ORG/abs/2306.07629", "2306.07629", None),
]


@pytest.mark.parametrize(("url", "key", "version"), ARXIV)
def test_arxiv_key_is_the_versionless_id_and_the_version_is_kept(
    url: str, key: str, version: str | None
) -> None:
    found = identify(url)
    assert (found.kind, found.key, found.version, found.subpath) == (
        Kind.ARXIV,
        key,
        version,
        None,
    )
    assert found.ref == f"arxiv:{key}"


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/list/cs.CL/recent",
        "https://arxiv.org/abs/",
        "https://arxiv.org/",
        "https://arxiv.org/abs/not-an-id",
        # venue pages without a paper
        "https://openreview.net/group?id=ICLR.cc/2024/Conference",
        "https://openreview.net/forum",
        "https://proceedings.mlr.press/v235/",
        "https://doi.org/",
    ],
)
def test_pages_that_are_not_papers_are_generic(url: str) -> None:
    assert identify(url).kind is Kind.URL


@pytest.mark.parametrize(
    ("text", "key", "version"),
    [
        ("2306.17256v4", "2306.17256", "v4"),
        ("2306.07629", "2306.07629", None),
        (" hep-th/9901001 ", "hep-th/9901001", None),
        ("math.GT/0309136v2", "math.GT/0309136", "v2"),
    ],
)
def test_parse_arxiv_id(text: str, key: str, version: str | None) -> None:
    found = parse_arxiv_id(text)
    assert found is not None
    assert (found.kind, found.key, found.version) == (Kind.ARXIV, key, version)


@pytest.mark.parametrize("text", ["", "2306", "arXiv:2306.07629", "2306.07629.pdf", "abc"])
def test_parse_arxiv_id_rejects_non_ids(text: str) -> None:
    assert parse_arxiv_id(text) is None


# --------------------------------------------------------------------------- GitHub

GITHUB_REPOS = [
    # (url, display, subpath)
    ("https://github.com/SqueezeAILab/SqueezeLLM", "SqueezeAILab/SqueezeLLM", None),
    (
        "https://github.com/google-research/google-research/tree/master/mobilebert",
        "google-research/google-research",
        "tree/master/mobilebert",
    ),
    (
        "https://github.com/microsoft/unilm/tree/master/adalm",
        "microsoft/unilm",
        "tree/master/adalm",
    ),
    (
        "https://github.com/hpcaitech/Open-Sora/blob/main/docs/zh_CN/README.md",  # xlite L82
        "hpcaitech/Open-Sora",
        "blob/main/docs/zh_CN/README.md",
    ),
    (
        "https://github.com/huawei-noah/Efficient-Computing/tree/master/GPT4Image/",  # BradyFU L589
        "huawei-noah/Efficient-Computing",
        "tree/master/GPT4Image",
    ),
    ("https://github.com/SqueezeAILab/SqueezeLLM/", "SqueezeAILab/SqueezeLLM", None),
    ("https://github.com/SqueezeAILab/SqueezeLLM.git", "SqueezeAILab/SqueezeLLM", None),
    ("https://github.com/tonyzhao-jt/LLM-PQ?tab=readme-ov-file", "tonyzhao-jt/LLM-PQ", None),
    ("https://github.com/HYPJUDY/Sparkles#sparkleseval", "HYPJUDY/Sparkles", None),  # BradyFU L557
    ("https://www.github.com/mit-han-lab/llm-awq", "mit-han-lab/llm-awq", None),
    ("http://github.com/mit-han-lab/llm-awq", "mit-han-lab/llm-awq", None),
]


@pytest.mark.parametrize(("url", "display", "subpath"), GITHUB_REPOS)
def test_github_repo_key_is_lowercased_owner_repo(
    url: str, display: str, subpath: str | None
) -> None:
    found = identify(url)
    assert found.kind is Kind.GITHUB_REPO
    assert found.key == display.lower()
    assert found.subpath == subpath
    assert found.version is None


@pytest.mark.parametrize(
    ("url", "key", "display"),
    [
        ("https://github.com/NexaAI", "nexaai", "NexaAI"),  # NexaAI README
        ("https://github.com/timdettmers", "timdettmers", "timdettmers"),
        ("https://github.com/SUSTechBruce/", "sustechbruce", "SUSTechBruce"),
        ("https://github.com/orgs/X-PLUG", "x-plug", "X-PLUG"),
        ("https://github.com/orgs/X-PLUG/repositories", "x-plug", "X-PLUG"),
        ("https://github.com/users/timdettmers", "timdettmers", "timdettmers"),
    ],
)
def test_github_user_and_org_pages(url: str, key: str, display: str) -> None:
    found = identify(url)
    assert (found.kind, found.key, found.subpath) == (Kind.GITHUB_USER, key, None)
    assert key == display.lower()


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/topics/llm",
        "https://github.com/features/copilot",
        "https://github.com/trending",
        "https://github.com/orgs",
        "https://github.com/",
        "https://github.com",
        "https://github.com/user-attachments/assets/3c1e4f55-8a2b-4b1f-9e0d-0c8d1b2a7f6e",
        "https://github.com/user-attachments/files/17283911/report.pdf",
    ],
)
def test_github_site_pages_are_generic_urls(url: str) -> None:
    found = identify(url)
    assert found.kind is Kind.URL
    assert found.key == normalise_url(url)


def test_github_repo_case_variants_share_one_key() -> None:
    a = identify("https://github.com/SqueezeAILab/SqueezeLLM")
    b = identify("https://github.com/squeezeailab/squeezellm/tree/main")
    assert a.ref == b.ref == "github_repo:squeezeailab/squeezellm"
    assert a == b
    assert hash(a) == hash(b)
    assert (a.subpath, b.subpath) == (None, "tree/main")


# --------------------------------------------------------------------------- Hugging Face

HUB = [
    # (url, kind, key, subpath)
    (
        "https://huggingface.co/bit-dny/MindLLM-1b3-chat-zh-v2.0",
        Kind.HF_MODEL,
        "bit-dny/MindLLM-1b3-chat-zh-v2.0",
        None,
    ),
    (
        "https://huggingface.co/BlinkDL/rwkv-6-world/tree/main",
        Kind.HF_MODEL,
        "BlinkDL/rwkv-6-world",
        "tree/main",
    ),
    (
        "https://huggingface.co/togethercomputer/RedPajama-INCITE-Instruct-7B-v0.1/blob/"
        "157bf3174feebb67f37e131ea68f84dee007c687/config.json#L13",  # eugeneyan L23
        Kind.HF_MODEL,
        "togethercomputer/RedPajama-INCITE-Instruct-7B-v0.1",
        "blob/157bf3174feebb67f37e131ea68f84dee007c687/config.json",
    ),
    ("https://huggingface.co/google/flan-ul2#tldr", Kind.HF_MODEL, "google/flan-ul2", None),
    (
        "https://huggingface.co/datasets/databricks/databricks-dolly-15k",
        Kind.HF_DATASET,
        "databricks/databricks-dolly-15k",
        None,
    ),
    (
        "https://huggingface.co/datasets/chendelong/PF-1M/tree/main",
        Kind.HF_DATASET,
        "chendelong/PF-1M",
        "tree/main",
    ),
    (
        "https://huggingface.co/spaces/junyangwang0410/Mobile-Agent",
        Kind.HF_SPACE,
        "junyangwang0410/Mobile-Agent",
        None,
    ),
    (
        "https://huggingface.co/collections/MBZUAI/mobillama-65dd4182d588c91e8230332e",
        Kind.HF_COLLECTION,
        "MBZUAI/mobillama-65dd4182d588c91e8230332e",
        None,
    ),
    ("https://huggingface.co/timdettmers", Kind.HF_ORG, "timdettmers", None),
    ("https://huggingface.co/codellama", Kind.HF_ORG, "codellama", None),
    (
        "https://huggingface.co/docs/transformers/en/model_doc/mobilebert",
        Kind.HF_DOCS,
        "transformers/en/model_doc/mobilebert",
        None,
    ),
    (
        "https://hf.co/bit-dny/MindLLM-1b3-chat-zh-v2.0",
        Kind.HF_MODEL,
        "bit-dny/MindLLM-1b3-chat-zh-v2.0",
        None,
    ),
    ("https://hf.co/datasets/laion/OIG", Kind.HF_DATASET, "laion/OIG", None),
    ("https://huggingface.co/datasets/squad/viewer", Kind.HF_DATASET, "squad", "viewer"),
    (
        "https://huggingface.co/datasets/openai/gsm8k/viewer/main/train",
        Kind.HF_DATASET,
        "openai/gsm8k",
        "viewer/main/train",
    ),
    (
        "https://huggingface.co/datasets/glue/blame/main/x.py",
        Kind.HF_DATASET,
        "glue",
        "blame/main/x.py",
    ),
    ("https://huggingface.co/gpt2/discussions/3", Kind.HF_MODEL, "gpt2", "discussions/3"),
    ("https://huggingface.co//datasets//squad", Kind.HF_DATASET, "squad", None),
    (
        "https://huggingface.co/transformers/model_doc/bert.html",
        Kind.HF_DOCS,
        "transformers/model_doc/bert.html",
        None,
    ),
    ("https://huggingface.co/blog/smollm", Kind.HF_DOCS, "blog/smollm", None),
    (
        "https://huggingface.co/learn/nlp-course/chapter1/1",
        Kind.HF_DOCS,
        "learn/nlp-course/chapter1/1",
        None,
    ),
    ("https://huggingface.co/course/chapter1", Kind.HF_DOCS, "course/chapter1", None),
    ("https://huggingface.co/docs", Kind.HF_DOCS, "docs", None),
]


@pytest.mark.parametrize(("url", "kind", "key", "subpath"), HUB)
def test_hugging_face(url: str, kind: Kind, key: str, subpath: str | None) -> None:
    found = identify(url)
    assert (found.kind, found.key, found.subpath, found.version) == (kind, key, subpath, None)


@pytest.mark.parametrize(
    ("url", "key", "version"),
    [
        ("https://huggingface.co/papers/2402.14905", "2402.14905", None),  # seed, MobileLLM
        ("https://huggingface.co/papers/2305.07759", "2305.07759", None),  # seed, TinyStory
        ("https://hf.co/papers/2402.14905v2", "2402.14905", "v2"),
    ],
)
def test_hugging_face_paper_page_is_keyed_by_its_arxiv_id(
    url: str, key: str, version: str | None
) -> None:
    found = identify(url)
    assert (found.kind, found.key, found.version) == (Kind.HF_PAPER, key, version)


@pytest.mark.parametrize(
    "url",
    [
        "https://huggingface.co/",
        "https://huggingface.co/models",
        "https://huggingface.co/papers",
        "https://huggingface.co/papers/not-an-id",
        "https://huggingface.co/spaces",
        "https://huggingface.co/collections/MBZUAI",
    ],
)
def test_hugging_face_site_pages_are_generic_urls(url: str) -> None:
    assert identify(url).kind is Kind.URL


# --------------------------------------------------------------------------- DOI, venues

VENUES = [
    # (url, kind, key)
    ("https://doi.org/10.1016/j.aiopen.2023.08.012", Kind.DOI, "10.1016/j.aiopen.2023.08.012"),
    ("https://dx.doi.org/10.1145/3649217.3653554", Kind.DOI, "10.1145/3649217.3653554"),
    ("https://dl.acm.org/doi/10.5555/3666122.3667691", Kind.DOI, "10.5555/3666122.3667691"),
    ("https://dl.acm.org/doi/abs/10.5555/3666122.3666563", Kind.DOI, "10.5555/3666122.3666563"),
    ("https://dl.acm.org/doi/pdf/10.1145/3582016.3582018", Kind.DOI, "10.1145/3582016.3582018"),
    ("https://aclanthology.org/2023.findings-emnlp.1033/", Kind.ACL, "2023.findings-emnlp.1033"),
    ("https://aclanthology.org/2023.findings-emnlp.1033", Kind.ACL, "2023.findings-emnlp.1033"),
    ("https://aclanthology.org/2023.tacl-1.75/", Kind.ACL, "2023.tacl-1.75"),
    ("https://aclanthology.org/2022.acl-long.331.pdf", Kind.ACL, "2022.acl-long.331"),
    ("https://aclanthology.org/N19-1423.pdf", Kind.ACL, "N19-1423"),  # Hannibal046 L45
    ("https://www.aclweb.org/anthology/N19-1423/", Kind.ACL, "N19-1423"),
    ("https://proceedings.mlr.press/v235/guo24g.html", Kind.PMLR, "v235/guo24g"),
    ("https://proceedings.mlr.press/v235/guo24g.pdf", Kind.PMLR, "v235/guo24g"),
    ("https://proceedings.mlr.press/v162/shen22f/shen22f.pdf", Kind.PMLR, "v162/shen22f"),
    ("https://openreview.net/forum?id=tEYskw1VY2", Kind.OPENREVIEW, "tEYskw1VY2"),
    ("https://openreview.net/forum?id=tEYskw1VY2#discussion", Kind.OPENREVIEW, "tEYskw1VY2"),
    ("https://openreview.net/pdf?id=bsCCJHbO8A", Kind.OPENREVIEW, "bsCCJHbO8A"),
    ("https://openreview.net/forum?id=bsCCJHbO8A&noteId=x1", Kind.OPENREVIEW, "bsCCJHbO8A"),
]


@pytest.mark.parametrize(("url", "kind", "key"), VENUES)
def test_doi_and_venue_pages(url: str, kind: Kind, key: str) -> None:
    found = identify(url)
    assert (found.kind, found.key, found.subpath, found.version) == (kind, key, None, None)


def test_doi_key_is_lowercased() -> None:
    found = identify("https://doi.org/10.48550/arXiv.2305.18403")
    assert (found.kind, found.key) == (Kind.DOI, "10.48550/arxiv.2305.18403")


def test_acl_versioned_pdf_keeps_the_version() -> None:
    found = identify("https://aclanthology.org/P19-1001v2.pdf")
    assert (found.kind, found.key, found.version) == (Kind.ACL, "P19-1001", "v2")


@pytest.mark.parametrize(
    "url",
    [
        "https://aclanthology.org/events/acl-2023/",
        "https://aclanthology.org/volumes/2023.findings-emnlp/",
        "https://aclanthology.org/people/j/jacob-devlin/",
        "https://aclanthology.org/",
    ],
)
def test_acl_pages_that_are_not_papers_are_generic(url: str) -> None:
    """Regression: `_acl` took the last path segment of *any* Anthology URL as a paper id, so
    an event, volume or author page became an `acl` paper keyed `acl-2023` or `jacob-devlin`."""
    assert identify(url).kind is Kind.URL


# --------------------------------------------------------------------------- generic URLs


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (
            "https://crfm.stanford.edu/2023/03/13/alpaca.html",
            "https://crfm.stanford.edu/2023/03/13/alpaca.html",
        ),
        (
            "https://anonymous.4open.science/r/I-LLM-F242/README.md",
            "https://anonymous.4open.science/r/I-LLM-F242/README.md",
        ),
        (
            "https://anonymous.4open.science/r/FIHA-45BB/",
            "https://anonymous.4open.science/r/FIHA-45BB",
        ),
        (
            "HTTPS://CRFM.Stanford.EDU/helm/latest/?groups=1#top",
            "https://crfm.stanford.edu/helm/latest?groups=1",
        ),
        ("http://103.170.5.190:7860", "http://103.170.5.190:7860"),  # BradyFU L221
    ],
)
def test_generic_url_is_keyed_by_its_normalised_form(url: str, key: str) -> None:
    found = identify(url)
    assert (found.kind, found.key, found.version, found.subpath) == (Kind.URL, key, None, None)


def test_surrounding_whitespace_is_ignored() -> None:
    assert identify("  https://github.com/a/b\t").ref == "github_repo:a/b"


# --------------------------------------------------------------------------- unsupported


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "scheme 'javascript:'"),
        ("JavaScript:alert(1)", "scheme 'javascript:'"),
        ("mailto:someone@example.com", "scheme 'mailto:'"),
        ("ftp://ftp.example.com/paper.pdf", "scheme 'ftp:'"),
        ("data:text/html,<b>x</b>", "scheme 'data:'"),
        ("URL", "no scheme"),  # FairyFali L107, the `[Paper](URL)` placeholder
        ("figures/sparsegpt.png", "no scheme"),
        ("#table-of-contents", "no scheme"),
        ("//github.com/a/b", "no scheme"),
        ("www.github.com/a/b", "no scheme"),
        ("", "no scheme"),
        ("http://", "has no host"),
        ("https:///path/only", "has no host"),
        ("http:/github.com/a/b", "has no host"),
    ],
)
def test_unsupported_urls_raise_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(UnsupportedURL, match=reason):
        identify(url)


def test_unsupported_url_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="only http"):
        identify("mailto:x@y.z")


def test_long_unsupported_url_is_shortened_in_the_message() -> None:
    with pytest.raises(UnsupportedURL) as caught:
        identify("javascript:" + "a" * 500)
    assert "…" in str(caught.value)
    assert len(str(caught.value)) < 200


# --------------------------------------------------------------------------- broken and in-page


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://arxiv.org/abs//2306.08707", "2306.08707"),
        ("https://arxiv.org//abs/2306.08707v3", "2306.08707"),
        ("https://arxiv.org/pdf//2306.08707.pdf", "2306.08707"),
        ("https://arxiv.org/abs///hep-th/9901001", "hep-th/9901001"),
    ],
)
def test_empty_path_segments_are_ignored(url: str, key: str) -> None:
    found = identify(url)
    assert (found.kind, found.key) == (Kind.ARXIV, key)


@pytest.mark.parametrize(
    ("url", "bad"),
    [
        ("https://arxiv.org/abs/203.05527", "203.05527"),
        ("https://arxiv.org/abs/2306.085", "2306.085"),
        ("https://arxiv.org/pdf/2306-08707.pdf", "2306-08707"),
        ("https://www.arxiv.org/html/x/", "x"),
    ],
)
def test_a_mistyped_arxiv_id_is_a_generic_url_that_malformed_explains(url: str, bad: str) -> None:
    assert identify(url).kind is Kind.URL
    assert malformed(url) == f"malformed arXiv id '{bad}' in link '{url}'"


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/abs/2306.08707",  # a paper
        "https://arxiv.org/list/cs.CL/recent",  # an arXiv page that is no paper link
        "https://arxiv.org/",
        "https://example.org/abs/203.05527",  # another host
        "https://github.com/org/repo",
    ],
)
def test_other_urls_are_not_malformed(url: str) -> None:
    assert malformed(url) is None


@pytest.mark.parametrize(
    ("url", "anchor"),
    [
        ("#links", True),
        ("./#links", True),
        (" #x ", True),
        ("#", True),
        ("../#links", False),
        ("README.md#links", False),
        ("https://github.com/a/b#readme", False),
    ],
)
def test_in_page_anchors(url: str, anchor: bool) -> None:
    assert in_page(url) is anchor
