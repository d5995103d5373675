"""`enrich.errors`: the tree its docstring draws is the class tree, and every class is used."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from enrich import errors

CLASSES = {
    name: cls
    for name, cls in vars(errors).items()
    if inspect.isclass(cls) and issubclass(cls, Exception) and cls.__module__ == errors.__name__
}


def drawn() -> dict[str, str | None]:
    """Each class the docstring's tree names -> its parent there (None for the root)."""
    lines = (errors.__doc__ or "").split("\n\n")[1].splitlines()  # the indented block
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in lines:
        match = re.search(r"[A-Z]\w+", line)
        assert match is not None, line
        depth = match.start()
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match[0]] = stack[-1][1] if stack else None
        stack.append((depth, match[0]))
    return parents


def test_the_docstring_tree_is_the_class_tree() -> None:
    tree = drawn()
    assert set(tree) == set(CLASSES)
    for name, parent in tree.items():
        base = CLASSES[name].__bases__[0]
        assert (None if base is Exception else base.__name__) == parent, name


def test_every_error_class_is_used_outside_its_module() -> None:
    package = Path(errors.__file__).parent
    text = "".join(
        p.read_text(encoding="utf-8") for p in package.rglob("*.py") if p.name != "errors.py"
    )
    assert [name for name in CLASSES if not re.search(rf"\b{name}\b", text)] == []
