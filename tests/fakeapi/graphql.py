"""A small GraphQL parser + executor for the part of GitHub's schema the project queries.

Enough of the language for batched lookups: operations with variables, aliases, arguments,
nested selections, inline fragments and named fragments. Errors follow GitHub's shapes:
a missing repository gives `data.<alias> = null` plus a `NOT_FOUND` error with `path` and
`locations`; an unknown field fails validation (`undefinedField`) and returns no `data`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r'(?P<skip>[\s,\ufeff]+|#[^\n]*)|(?P<block>"""(?:[^"\\]|\\.|"(?!""))*""")'
    r'|(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
    r"|(?P<spread>\.\.\.)|(?P<var>\$[_A-Za-z]\w*)|(?P<name>[_A-Za-z]\w*)|(?P<punct>[!{}()\[\]:=@|&])"
)


class GraphQLSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line, self.column = line, column


@dataclass
class Token:
    kind: str
    text: str
    line: int
    column: int


@dataclass
class Field:
    key: str  # alias or name: the key in the response
    name: str
    args: dict[str, Any]
    selections: list[Field | Fragment]
    line: int
    column: int


@dataclass
class Fragment:
    """An inline fragment, or a named spread (resolved to its definition when executing)."""

    type_condition: str | None
    selections: list[Field | Fragment] = field(default_factory=list)
    spread: str | None = None


def tokenize(source: str) -> list[Token]:
    tokens, pos, line, line_start = [], 0, 1, 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise GraphQLSyntaxError(
                f"Unexpected character {source[pos]!r}", line, pos - line_start + 1
            )
        kind = m.lastgroup or ""
        if kind != "skip":
            tokens.append(Token(kind, m.group(), line, pos - line_start + 1))
        newlines = m.group().count("\n")
        if newlines:
            line += newlines
            line_start = m.start() + m.group().rindex("\n") + 1
        pos = m.end()
    return tokens


class Parser:
    def __init__(self, source: str, variables: dict[str, Any]) -> None:
        self.tokens = tokenize(source)
        self.pos = 0
        self.variables = dict(variables)
        self.fragments: dict[str, Fragment] = {}

    def peek(self, text: str | None = None) -> Token | None:
        tok = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        return tok if tok is not None and (text is None or tok.text == text) else None

    def take(self, text: str | None = None, kind: str | None = None) -> Token:
        tok = self.peek()
        if tok is None or (text and tok.text != text) or (kind and tok.kind != kind):
            where = (tok.line, tok.column) if tok else (0, 0)
            got = tok.text if tok else "end of file"
            raise GraphQLSyntaxError(f'Parse error on "{got}" at {list(where)}', *where)
        self.pos += 1
        return tok

    def document(self) -> list[Field | Fragment]:
        operation: list[Field | Fragment] | None = None
        while self.peek():
            if self.peek("fragment"):
                self.take()
                name = self.take(kind="name").text
                self.take("on")
                cond = self.take(kind="name").text
                self.fragments[name] = Fragment(cond, self.selection_set())
                continue
            if self.peek("query"):
                self.take()
                if (tok := self.peek()) is not None and tok.kind == "name":
                    self.take()
                if self.peek("("):
                    self.variable_definitions()
            selections = self.selection_set()
            operation = operation if operation is not None else selections
        if operation is None:
            raise GraphQLSyntaxError("No operation given", 1, 1)
        return operation

    def variable_definitions(self) -> None:
        self.take("(")
        while not self.peek(")"):
            name = self.take(kind="var").text[1:]
            self.take(":")
            while (tok := self.peek()) is not None and (
                tok.text in ("[", "]", "!") or tok.kind == "name"
            ):
                self.take()
            if self.peek("="):
                self.take()
                self.variables.setdefault(name, self.value())
        self.take(")")

    def selection_set(self) -> list[Field | Fragment]:
        self.take("{")
        out: list[Field | Fragment] = []
        while not self.peek("}"):
            out.append(self.selection())
        self.take("}")
        return out

    def selection(self) -> Field | Fragment:
        if self.peek("..."):
            self.take()
            if self.peek("on"):
                self.take()
                return Fragment(self.take(kind="name").text, self.selection_set())
            if self.peek("{"):
                return Fragment(None, self.selection_set())
            return Fragment(None, spread=self.take(kind="name").text)
        first = self.take(kind="name")
        key, name = first.text, first.text
        if self.peek(":"):
            self.take()
            name = self.take(kind="name").text
        args = self.arguments() if self.peek("(") else {}
        while self.peek("@"):  # directives are accepted and ignored
            self.take()
            self.take(kind="name")
            if self.peek("("):
                self.arguments()
        selections = self.selection_set() if self.peek("{") else []
        return Field(key, name, args, selections, first.line, first.column)

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        return self.pairs(")")

    def pairs(self, close: str) -> dict[str, Any]:
        """`name: value` pairs up to `close` (an argument list's, an input object's), taken."""
        found: dict[str, Any] = {}
        while not self.peek(close):
            name = self.take(kind="name").text
            self.take(":")
            found[name] = self.value()
        self.take(close)
        return found

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "var":
            return self.variables.get(tok.text[1:])
        if tok.kind == "string":
            return json.loads(tok.text)
        if tok.kind == "block":
            return tok.text[3:-3]
        if tok.kind == "number":
            return json.loads(tok.text)
        if tok.text == "[":
            items = []
            while not self.peek("]"):
                items.append(self.value())
            self.take("]")
            return items
        if tok.text == "{":
            return self.pairs("}")
        return {"true": True, "false": False, "null": None}.get(tok.text, tok.text)


# ----------------------------------------------------------------------- schema + execute

S = "String"  # any scalar
Counted = {"totalCount": S}
SCHEMA: dict[str, dict[str, str]] = {
    "Query": {"repository": "Repository", "rateLimit": "RateLimit", "viewer": "User"},
    "Repository": {
        "id": S,
        "databaseId": S,
        "name": S,
        "nameWithOwner": S,
        "owner": "RepositoryOwner",
        "url": S,
        "description": S,
        "homepageUrl": S,
        "stargazerCount": S,
        "forkCount": S,
        "watchers": "Connection",
        "stargazers": "Connection",
        "forks": "Connection",
        "issues": "Connection",
        "pullRequests": "Connection",
        "licenseInfo": "License",
        "isArchived": S,
        "isFork": S,
        "isDisabled": S,
        "isPrivate": S,
        "isTemplate": S,
        "isMirror": S,
        "isEmpty": S,
        "isLocked": S,
        "visibility": S,
        "createdAt": S,
        "pushedAt": S,
        "updatedAt": S,
        "archivedAt": S,
        "diskUsage": S,
        "defaultBranchRef": "Ref",
        "repositoryTopics": "RepositoryTopicConnection",
        "primaryLanguage": "Language",
        "object": "GitObject",
    },
    "RepositoryOwner": {"login": S, "id": S, "url": S, "avatarUrl": S},
    "User": {"login": S, "id": S, "url": S},
    "Connection": Counted,
    "License": {"spdxId": S, "name": S, "key": S, "url": S, "nickname": S, "id": S},
    "Ref": {"name": S, "prefix": S, "id": S},
    "RepositoryTopicConnection": {**Counted, "nodes": "RepositoryTopic"},
    "RepositoryTopic": {"topic": "Topic", "url": S},
    "Topic": {"name": S},
    "Language": {"name": S, "color": S, "id": S},
    "GitObject": {"oid": S, "id": S, "abbreviatedOid": S},
    "Tree": {"oid": S, "id": S, "abbreviatedOid": S, "entries": "TreeEntry"},
    "TreeEntry": {"name": S, "type": S, "path": S},
    "Blob": {"oid": S, "id": S, "abbreviatedOid": S, "byteSize": S, "isBinary": S, "text": S},
    "RateLimit": {"cost": S, "limit": S, "remaining": S, "resetAt": S, "used": S, "nodeCount": S},
}
REQUIRED = {("Query", "repository"): ("owner", "name"), ("Repository", "object"): ("expression",)}
_ABSTRACT = {"GitObject": ("Tree", "Blob", "Commit"), "RepositoryOwner": ("User", "Organization")}


@dataclass
class Context:
    fragments: dict[str, Fragment]
    errors: list[dict[str, Any]] = field(default_factory=list)


def _location(f: Field) -> list[dict[str, int]]:
    return [{"line": f.line, "column": f.column}]


def _flatten(selections: list[Field | Fragment], ctx: Context, typename: str | None) -> list[Field]:
    out: list[Field] = []
    for sel in selections:
        if isinstance(sel, Field):
            out.append(sel)
            continue
        frag = ctx.fragments.get(sel.spread, sel) if sel.spread else sel
        if (
            typename is None
            or frag.type_condition in (None, typename)
            or (frag.type_condition in _ABSTRACT and typename in _ABSTRACT[frag.type_condition])
        ):
            out.extend(_flatten(frag.selections, ctx, typename))
    return out


def validate(
    selections: list[Field | Fragment], type_name: str, path: list[str], ctx: Context
) -> None:
    """Collect GitHub-style validation errors (no execution)."""
    for sel in selections:
        if isinstance(sel, Fragment):
            frag = ctx.fragments.get(sel.spread or "", sel)
            cond = frag.type_condition if frag.type_condition in SCHEMA else type_name
            validate(frag.selections, cond or type_name, path, ctx)
            continue
        if sel.name == "__typename":
            continue
        child = SCHEMA.get(type_name, {}).get(sel.name)
        where = [*path, sel.key]
        problem = _problem(sel, type_name, child)
        if problem is not None:
            message, extensions = problem
            error: dict[str, Any] = {"path": where}
            if extensions:
                error["extensions"] = extensions
            ctx.errors.append({**error, "locations": _location(sel), "message": message})
        elif child is not None and child != S:
            validate(sel.selections, child, where, ctx)


def _problem(sel: Field, type_name: str, child: str | None) -> tuple[str, dict[str, str]] | None:
    """What GitHub says of `sel` on `type_name` (the message, and the extensions it gives
    where it gives some), or None for a valid field."""
    missing = [a for a in REQUIRED.get((type_name, sel.name), ()) if a not in sel.args]
    if child is not None and missing:
        listed = ", ".join(missing)
        return f"Field '{sel.name}' is missing required arguments: {listed}", {
            "code": "missingRequiredArguments",
            "className": "Field",
            "name": sel.name,
            "arguments": listed,
        }
    if child is None:
        return f"Field '{sel.name}' doesn't exist on type '{type_name}'", {
            "code": "undefinedField",
            "typeName": type_name,
            "fieldName": sel.name,
        }
    if child == S and sel.selections:
        return (
            f"Selections can't be made on scalars (field '{sel.name}' returns "
            f"{child} but has selections)"
        ), {}
    if child != S and not sel.selections:
        return (
            f"Field must have selections (field '{sel.name}' returns {child} but "
            f"has no selections. Did you mean '{sel.name} {{ ... }}'?)"
        ), {}
    return None


Value = Any  # a dict (object; may hold callables taking args), list, scalar or None


def select(obj: Value, f: Field, ctx: Context) -> Any:
    if callable(obj):
        obj = obj(f.args)
    if isinstance(obj, list):
        return [select(item, f, ctx) for item in obj]
    if not isinstance(obj, dict) or not f.selections:
        return obj
    typename = obj.get("__typename")
    out: dict[str, Any] = {}
    for sub in _flatten(f.selections, ctx, typename):
        out[sub.key] = typename if sub.name == "__typename" else select(obj.get(sub.name), sub, ctx)
    return out


RootResolver = Callable[[Field, Context], Any]


def execute(
    query: str, variables: dict[str, Any], roots: dict[str, RootResolver]
) -> dict[str, Any]:
    """Run `query`; `roots` maps a Query field name to a resolver returning a Value."""
    try:
        parser = Parser(query, variables or {})
        operation = parser.document()
    except GraphQLSyntaxError as err:
        loc = [{"line": err.line, "column": err.column}]
        return {"errors": [{"message": str(err), "locations": loc}]}
    ctx = Context(parser.fragments)
    validate(operation, "Query", ["query"], ctx)
    if ctx.errors:
        return {"errors": ctx.errors}
    data: dict[str, Any] = {}
    for f in _flatten(operation, ctx, "Query"):
        data[f.key] = "Query" if f.name == "__typename" else select(roots[f.name](f, ctx), f, ctx)
    return {"data": data, "errors": ctx.errors} if ctx.errors else {"data": data}
