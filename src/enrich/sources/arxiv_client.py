"""The adapter to the `arxiv` package: every way this project bends the library lives here.

The package is the project's arXiv client, used for its query URLs, its request and its Atom
parser and result models (`arxiv.Result`). Its own habits are switched off or worked around:

* `arxiv.Client(page_size=batch, delay_seconds=0, num_retries=0)`. The package's own
  spacing is a `time.sleep` in the thread and its own retries know neither `Retry-After`
  nor the project's retryable set (it retries even a 400). Both are off: the project's
  policy (`enrich.net`) decides what to retry and how long to wait, and its pacer spaces
  every attempt.
* One page per query: the client's one-page fetch (the private `_format_url` and
  `_parse_feed(first_page=True)`), not `Client.results`, which follows `totalResults` into
  further pages on its own (extra, unspaced requests when an entry is dropped by the parser).
* Its `requests.Session` (the private `_session`) is replaced by `_Session`: the package
  sends no timeout, so a server that accepts the connection and never answers would hold a
  worker thread forever; the session sends through `enrich.transport` (a total deadline per
  request, at most the source's answer bytes); it tells the pacer when the answer is in
  (`answered`: reading it is not arXiv's time); and since `arxiv.HTTPError` carries only the
  status, a response hook keeps the last answer, for its headers (`Retry-After` on 429/503)
  and its body.
* The package's parser runs lxml with `recover=True`: a cut or broken document parses as a
  shorter feed. So `get` also says whether the body is well-formed XML (expat), for the
  source to judge.

`tests/sources/test_arxiv_client.py` checks each of these against the installed package:
an upgrade that breaks one fails there, not in a run. `pyproject.toml` bounds the version.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Callable, Mapping
from typing import Any

import arxiv
from requests import RequestException, Response, Session

from enrich.net import http_error
from enrich.transport import Bounds, mount


class _Session(Session):
    """A `requests.Session` with a default timeout and bounds that remembers its last
    response and tells `answered` when it is in (read whole: the package does not stream)."""

    def __init__(self, timeout: float, limits: Bounds, answered: Callable[[], None]) -> None:
        super().__init__()
        mount(self, limits)
        self.timeout = timeout
        self.answered = answered
        self.last: Response | None = None
        self.hooks["response"].append(self._record)

    def request(self, *args: Any, **kwargs: Any) -> Response:
        # The arxiv package calls `session.get(url, headers=...)` without a timeout.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        response = super().request(*args, **kwargs)
        self.answered()
        return response

    def _record(self, response: Response, *args: Any, **kwargs: Any) -> None:
        self.last = response


class ArxivClient:
    """The package's client for one fetch call, set up as the module docstring says."""

    def __init__(
        self,
        endpoint: str,
        batch: int,
        timeout: float,
        limits: Bounds,
        answered: Callable[[], None],
    ) -> None:
        """`batch` ids a query at most; `answered` is called as each answer comes in."""
        self._batch = batch
        self._client = arxiv.Client(page_size=batch, delay_seconds=0, num_retries=0)
        self._client.query_url_format = endpoint.replace("{", "{{").replace("}", "}}") + "?{}"
        self._client._session.close()
        self._session = self._client._session = _Session(timeout, limits, answered)

    def url(self, ids: list[str]) -> str:
        """The `id_list` query of `ids`, one page of up to `batch` entries (the API's default
        is 10)."""
        search = arxiv.Search(id_list=ids, max_results=self._batch)
        return str(self._client._format_url(search, 0, self._batch))

    def get(self, url: str, what: str) -> tuple[Any, bool]:
        """In a worker thread, one request: the parsed feed of `url` (an `arxiv` `ParsedFeed`,
        or None when the package's parser gave up) and whether its body is well-formed XML.
        An error answer raises its `FetchError` (`net.http_error`, its wait from the headers);
        a failed request raises its `requests` exception."""
        self._session.last = None
        try:
            feed = self._client._parse_feed(url, first_page=True)
        except arxiv.HTTPError as exc:
            last = self._session.last
            headers: Mapping[str, str] = last.headers if last is not None else {}
            raise http_error(int(exc.status), headers, what) from None
        except RequestException:
            raise  # some are ValueErrors (InvalidURL): not a parse failure
        except ValueError:  # the package's date parser on a broken entry
            return None, False
        body = self._session.last.content if self._session.last is not None else b""
        return feed, _well_formed(body)

    def close(self) -> None:
        self._session.close()


def _well_formed(body: bytes) -> bool:
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError:
        return False
    return True
