"""JSON parsing with bounded nesting: the one parser for JSON and JSONL input.

``json.loads`` recurses once per level, so a file of 100,000 ``[`` raises
RecursionError (and, deep inside other code, can take the whole batch with it).
:func:`loads` turns every way a text can fail to be acceptable JSON into one
:class:`JSONRefused` with a one-line reason: syntax errors, nesting deeper than
``max_depth`` (checked without recursion after parsing, and caught as
RecursionError while parsing), and numbers too long for Python to convert.
"""

from __future__ import annotations

import json
from typing import Any

# Article records are flat; a few levels allow {"articles": [{"authors": [...]}]} and similar.
MAX_DEPTH = 32


class JSONRefused(ValueError):
    """The text is not JSON factdesk accepts; ``str(exc)`` is a one-line reason."""


def loads(text: str, *, max_depth: int | None = MAX_DEPTH) -> Any:
    """Parse ``text``; raise JSONRefused for invalid, too deeply nested or unconvertible input.

    ``max_depth=None`` checks no depth after parsing (a collection whose records are
    checked one by one); the parser's own recursion limit is still caught.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONRefused(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise JSONRefused(f"JSON nested too deeply (more than {max_depth or 'a few hundred'} levels)") from None
    except ValueError as exc:  # e.g. an integer with more digits than int() accepts
        reason = " ".join(str(exc).split())[:120]
        raise JSONRefused(f"invalid JSON: {reason}") from None
    if max_depth is not None:
        check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise JSONRefused when ``value`` nests lists/objects more than ``max_depth`` levels deep."""
    if nesting_depth(value, stop_after=max_depth) > max_depth:
        raise JSONRefused(f"JSON nested too deeply (more than {max_depth} levels)")


def nesting_depth(value: Any, *, stop_after: int) -> int:
    """Levels of lists/objects in ``value`` (a scalar is 0), counting no further than ``stop_after + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > stop_after:
            return deepest
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest
