"""GitHub REST JSON bodies: repository, owner, license (keys in GitHub's order).

URL fields (`url`, `*_url`) point at this server (as GitHub Enterprise does for its own host)
so that a client following them never leaves loopback; `html_url` keeps the public
`https://github.com` form.
"""

from __future__ import annotations

import base64
from typing import Any

from .fixtures import Repo
from .wire import iso_z

# (key, name, node number): node_id is base64("07:License<n>"), as GitHub encodes it.
LICENSES: dict[str, tuple[str, str, int]] = {
    "MIT": ("mit", "MIT License", 13),
    "Apache-2.0": ("apache-2.0", "Apache License 2.0", 2),
    "GPL-3.0": ("gpl-3.0", "GNU General Public License v3.0", 9),
    "LGPL-3.0": ("lgpl-3.0", "GNU Lesser General Public License v3.0", 12),
    "AGPL-3.0": ("agpl-3.0", "GNU Affero General Public License v3.0", 1),
    "BSD-2-Clause": ("bsd-2-clause", 'BSD 2-Clause "Simplified" License', 4),
    "BSD-3-Clause": ("bsd-3-clause", 'BSD 3-Clause "New" or "Revised" License', 5),
    "CC0-1.0": ("cc0-1.0", "Creative Commons Zero v1.0 Universal", 6),
    "MPL-2.0": ("mpl-2.0", "Mozilla Public License 2.0", 14),
    "Unlicense": ("unlicense", "The Unlicense", 15),
    "NOASSERTION": ("other", "Other", 0),
}


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}{number}".encode()).decode()


def license_json(spdx: str | None, base: str) -> dict[str, Any] | None:
    if spdx is None:
        return None
    key, name, number = LICENSES.get(spdx, (spdx.lower(), spdx, 0))
    url = None if key == "other" else f"{base}/licenses/{key}"
    return {
        "key": key,
        "name": name,
        "spdx_id": spdx,
        "url": url,
        "node_id": node_id("07:License", number),
    }


def owner_json(repo: Repo, base: str) -> dict[str, Any]:
    login, u = repo.owner, f"{base}/users/{repo.owner}"
    kind = "012:Organization" if repo.owner_type == "Organization" else "04:User"
    return {
        "login": login,
        "id": repo.owner_id,
        "node_id": node_id(kind, repo.owner_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{repo.owner_id}?v=4",
        "gravatar_id": "",
        "url": u,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{u}/followers",
        "following_url": f"{u}/following{{/other_user}}",
        "gists_url": f"{u}/gists{{/gist_id}}",
        "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{u}/subscriptions",
        "organizations_url": f"{u}/orgs",
        "repos_url": f"{u}/repos",
        "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events",
        "type": repo.owner_type,
        "user_view_type": "public",
        "site_admin": False,
    }


_URL_TEMPLATES = (
    "forks",
    "keys{/key_id}",
    "collaborators{/collaborator}",
    "teams",
    "hooks",
    "issues/events{/number}",
    "events",
    "assignees{/user}",
    "branches{/branch}",
    "tags",
    "git/blobs{/sha}",
    "git/tags{/sha}",
    "git/refs{/sha}",
    "git/trees{/sha}",
    "statuses/{sha}",
    "languages",
    "stargazers",
    "contributors",
    "subscribers",
    "subscription",
    "commits{/sha}",
    "git/commits{/sha}",
    "comments{/number}",
    "issues/comments{/number}",
    "contents/{+path}",
    "compare/{base}...{head}",
    "merges",
    "{archive_format}{/ref}",
    "downloads",
    "issues{/number}",
    "pulls{/number}",
    "milestones{/number}",
    "notifications{?since,all,participating}",
    "labels{/name}",
    "releases{/id}",
    "deployments",
)
_URL_NAMES = (
    "forks",
    "keys",
    "collaborators",
    "teams",
    "hooks",
    "issue_events",
    "events",
    "assignees",
    "branches",
    "tags",
    "blobs",
    "git_tags",
    "git_refs",
    "trees",
    "statuses",
    "languages",
    "stargazers",
    "contributors",
    "subscribers",
    "subscription",
    "commits",
    "git_commits",
    "comments",
    "issue_comment",
    "contents",
    "compare",
    "merges",
    "archive",
    "downloads",
    "issues",
    "pulls",
    "milestones",
    "notifications",
    "labels",
    "releases",
    "deployments",
)


def repo_json(repo: Repo, base: str) -> dict[str, Any]:
    """The `GET /repos/{owner}/{repo}` body, keys in GitHub's order."""
    api, html = f"{base}/repos/{repo.full_name}", f"https://github.com/{repo.full_name}"
    owner = owner_json(repo, base)
    body: dict[str, Any] = {
        "id": repo.id,
        "node_id": node_id("010:Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": False,
        "owner": owner,
        "html_url": html,
        "description": repo.description,
        "fork": repo.fork,
        "url": api,
    }
    body.update({f"{n}_url": f"{api}/{t}" for n, t in zip(_URL_NAMES, _URL_TEMPLATES, strict=True)})
    body.update(
        {
            "created_at": iso_z(repo.created_at),
            "updated_at": iso_z(repo.updated_at),
            "pushed_at": iso_z(repo.pushed_at),
            "git_url": f"git://github.com/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": repo.homepage,
            "size": repo.size,
            "stargazers_count": repo.stars,
            "watchers_count": repo.stars,
            "language": repo.language,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": repo.forks,
            "mirror_url": None,
            "archived": repo.archived,
            "disabled": repo.disabled,
            "open_issues_count": repo.open_issues,
            "license": license_json(repo.license_spdx, base),
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "has_pull_requests": True,
            "pull_request_creation_policy": "all",
            "topics": list(repo.topics),
            "visibility": "public",
            "forks": repo.forks,
            "open_issues": repo.open_issues,
            "watchers": repo.stars,
            "default_branch": repo.default_branch,
            "temp_clone_token": None,
            "custom_properties": {},
        }
    )
    if repo.owner_type == "Organization":
        body["organization"] = owner
    body.update({"network_count": repo.forks, "subscribers_count": repo.subscribers})
    return body
