"""The one reader of events as JSON: JSON Lines files, single lines, JSON arrays.

Every event object passes the same gate (:func:`parse_line` / :func:`refusal`):

- at most :data:`~contractrules.limits.MAX_EVENT_BYTES` bytes a line (or array element);
- UTF-8, well-formed JSON, numbers Python can hold;
- nested at most :data:`~contractrules.limits.MAX_DEPTH` levels;
- no key given twice in one object (SPEC §5 v2; JSON parsers would keep the last);
- no lone surrogate (``"\\ud800"``) in a key or a string: it is not text and cannot
  be written back out.

:func:`read_jsonl` streams a file line by line (memory per line, not per file) and
yields ``(line number, object)`` for good lines; problems go to a list of
:class:`~contractrules.errors.Issue` as they are met.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from contractrules import limits
from contractrules.errors import Issue


class LineProblem(ValueError):
    """A line or element refused by the gate: ``field`` (may be empty) and ``message``."""

    def __init__(self, field: str, message: str, end: int | None = None):
        self.field = field
        self.end = end  # where the refused value ends, when it could be parsed
        super().__init__(message)


class _Repeated(dict):
    """A JSON object in which a key was given twice (the first repeated key is kept)."""

    repeated: str = ""


def _pairs(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = _Repeated(obj)
    for key, _ in pairs:
        if key in seen:
            marked.repeated = key
            break
        seen.add(key)
    return marked


DECODER = json.JSONDecoder(object_pairs_hook=_pairs)


class _RepeatedKey(Exception):
    pass


def _plain_pairs(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _RepeatedKey()
    return obj


#: For lines that cannot break the gate but by a repeated key (see :func:`parse_line`).
_PLAIN_DECODER = json.JSONDecoder(object_pairs_hook=_plain_pairs)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _join(path: str, key: object) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))


def _passes(item: dict | list, depth: int) -> bool:
    """True if the container ``item`` at nesting ``depth`` certainly passes the gate: the
    common case (plain dicts, lists and ASCII text), checked without building field paths.
    False sends it to the full walk of :func:`refusal`, which finds out why."""
    if depth > limits.MAX_DEPTH:
        return False
    values: Iterable[object] = item
    if isinstance(item, dict):
        for key in item:
            if type(key) is not str or (not key.isascii() and _SURROGATE.search(key)):
                return False
        values = item.values()
    for value in values:
        if isinstance(value, str):
            if type(value) is not str or (not value.isascii() and _SURROGATE.search(value)):
                return False
        elif isinstance(value, (dict, list)):
            if type(value) not in (dict, list) or not _passes(value, depth + 1):  # a subclass: a repeated key
                return False
    return True


def refusal(obj: object) -> tuple[str, str] | None:
    """``(field, message)`` if a parsed event breaks the gate, else None (iterative walk)."""
    if isinstance(obj, (dict, list)) and type(obj) in (dict, list) and _passes(obj, 1):
        return None
    return _walk_refusal(obj)


def _walk_refusal(obj: object) -> tuple[str, str] | None:
    """:func:`refusal` by the full walk, building each value's field path."""
    stack: list[tuple[object, int, str]] = [(obj, 0, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return path, "contains a lone surrogate (not valid Unicode text)"
            continue
        if not isinstance(item, (dict, list)):
            continue
        depth += 1
        if depth > limits.MAX_DEPTH:
            return path, limits.depth_message()
        if isinstance(item, _Repeated):
            return _join(path, item.repeated), "given twice in one object; remove one"
        if isinstance(item, dict):
            for key, value in item.items():
                if _SURROGATE.search(key):
                    return path, "a key contains a lone surrogate (not valid Unicode text)"
                stack.append((value, depth, _join(path, key)))
        else:
            stack.extend((value, depth, _join(path, i)) for i, value in enumerate(item))
    return None


def too_long(size: int) -> LineProblem:
    return LineProblem("", f"{size:,} bytes for one event; the limit is {limits.MAX_EVENT_BYTES:,} bytes")


def decode(text: str, start: int = 0) -> tuple[object, int]:
    """One JSON value from ``text`` at ``start`` (``raw_decode``), with the gate's messages."""
    try:
        value, end = DECODER.raw_decode(text, start)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise LineProblem("", limits.depth_message()) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise LineProblem("", f"not a usable JSON value: {str(exc)[: limits.EXCERPT]}") from None
    problem = refusal(value)
    if problem is not None:
        raise LineProblem(*problem, end=end)
    return value, end


def parse_line(raw: bytes | str, first: bool = False) -> object:
    """One line of JSON Lines as an object; LineProblem (or JSONDecodeError) if refused."""
    if len(raw) > limits.MAX_EVENT_BYTES:
        raise too_long(len(raw))
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LineProblem("", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    else:
        text = raw
    if first and text.startswith("\ufeff"):
        text = text[1:]
    start = len(text) - len(text.lstrip())
    # The usual line cannot break the gate: no escape (so no lone surrogate unless the text
    # has one itself), too few brackets to nest too deep. A repeated key is found while
    # decoding; that line, and anything unusual, takes the full way for its message.
    if "\\u" not in text and text.count("{") + text.count("[") <= limits.MAX_DEPTH and not _SURROGATE.search(text):
        try:
            value, end = _PLAIN_DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            raise
        except (_RepeatedKey, ValueError):
            value, end = decode(text, start)
    else:
        value, end = decode(text, start)
    if text[end:].strip():
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def line_issue(file: str, number: int, exc: Exception) -> Issue:
    """The Issue for a refused line (LineProblem or JSONDecodeError)."""
    if isinstance(exc, json.JSONDecodeError):
        return Issue(file, number, "", f"malformed JSON: {exc.msg} (column {exc.colno})")
    return Issue(file, number, getattr(exc, "field", ""), str(exc))


def raw_lines(f) -> Iterator[tuple[int, bytes | None, int]]:
    """``(number, raw, size)`` per line; ``raw`` is None for a line over the limit
    (read past in chunks, never held whole)."""
    number = 0
    while True:
        raw = f.readline(limits.MAX_EVENT_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limits.MAX_EVENT_BYTES and not raw.endswith(b"\n"):
            size = len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = f.readline(1 << 20)
                size += len(raw)
            yield number, None, size
            continue
        yield number, raw, len(raw)


def read_jsonl(path: Path, file: str, problems: list[Issue]) -> Iterator[tuple[int, object]]:
    """Stream a JSON Lines file: ``(line, object)`` per good line; refused lines become
    Issues appended to ``problems``. Blank lines are skipped."""
    with path.open("rb") as f:
        for number, raw, size in raw_lines(f):
            if raw is None:
                problems.append(line_issue(file, number, too_long(size)))
                continue
            if not raw.strip():
                continue
            try:
                yield number, parse_line(raw, first=number == 1)
            except (LineProblem, json.JSONDecodeError) as exc:
                problems.append(line_issue(file, number, exc))
