"""Reading documents while keeping line numbers, so every error can name its line.

- :func:`read_yaml` parses YAML once through PyYAML's composer and returns the data,
  a line map ``{key path: line}`` (1-based; a key's own line, a list item's first line)
  and the keys that appear twice in one mapping (PyYAML would silently keep the last).
- :func:`json_line_map` does the same for JSON by composing it as YAML (JSON is YAML for
  our purposes); it returns an empty map if PyYAML cannot read that JSON.
- :func:`json_array_items` splits a JSON array into ``(line, element)`` pairs.
- :func:`line_for` finds the line of a path, falling back to its nearest ancestor (a
  missing key is reported at the mapping that lacks it).

Parse failures raise :class:`DocumentSyntaxError` with the parser's line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from contractrules import limits
from contractrules.errors import InputError, Issue

LineMap = dict[tuple, int]


class DocumentSyntaxError(Exception):
    """The document is not well-formed YAML/JSON. ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None):
        self.line = line
        super().__init__(message)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves impossible dates (``2025-13-01``) as strings.

    PyYAML raises a bare ValueError without a line for those; as strings they reach the
    model, which reports "must be a date" at the right line.
    """

    def construct_yaml_timestamp(self, node):  # noqa: D102 - PyYAML hook
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


@dataclass
class Duplicate:
    """A key given twice in one mapping."""

    path: tuple
    line: int
    first_line: int


@dataclass
class LineIndex:
    """Line numbers of a composed document."""

    lines: LineMap = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)


def _index(node: yaml.Node, path: tuple, index: LineIndex, seen: set[int]) -> None:
    index.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:  # an alias to an anchored node already walked
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        own: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            sub = path + (key,)
            line = key_node.start_mark.line + 1
            if key in own:
                index.duplicates.append(Duplicate(sub, line, own[key]))
                continue
            own[key] = line
            index.lines[sub] = line
            _index(value_node, sub, index, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, path + (i,), index, seen)


def _mark_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return None if mark is None else mark.line + 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_TOO_DEEP = limits.depth_message
_TOO_MANY_ALIASES = f"more than {limits.MAX_YAML_ALIASES} aliases (*name) in one document (the limit)"
_TOO_LARGE = f"aliases expand to more than {limits.MAX_YAML_NODES:,} extra values (the limit)"
_RECURSIVE = "a recursive alias (an anchor used inside its own value)"
_NESTING_WALKED = 4 * limits.MAX_DEPTH  # deeper than this, the iterative walk takes over


class _Deeper(Exception):
    pass


def yaml_problem(root: yaml.Node) -> str | None:
    """Why a composed document is refused before any data is built, or None.

    Aliases share nodes, so composing is cheap; building (and validating) data expands
    them. Refused: more than :data:`~contractrules.limits.MAX_YAML_ALIASES` aliases,
    aliases that would add more than :data:`~contractrules.limits.MAX_YAML_NODES`
    values, a recursive alias, nesting deeper than :data:`~contractrules.limits.MAX_DEPTH`.
    One walk over the distinct nodes: recursive (quick) while the nesting is moderate,
    else :func:`_walk_problem`; both visit in the same order and say the same.
    """
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    visiting: set[int] = set()
    counts = [0, 0]  # aliases, distinct nodes

    def visit(node: yaml.Node, level: int) -> str | None:
        key = id(node)
        if key in sizes:
            counts[0] += 1
            return _TOO_MANY_ALIASES if counts[0] > limits.MAX_YAML_ALIASES else None
        if key in visiting:
            return _RECURSIVE
        if level > _NESTING_WALKED:
            raise _Deeper()
        visiting.add(key)
        counts[1] += 1
        if isinstance(node, yaml.ScalarNode):
            sizes[key], depths[key] = 1, 0
        else:
            kids = _children(node)
            for kid in reversed(kids):
                problem = visit(kid, level + 1)
                if problem is not None:
                    return problem
            sizes[key] = 1 + sum([sizes[id(k)] for k in kids])
            depths[key] = 1 + max([depths[id(k)] for k in kids], default=0)
        visiting.discard(key)
        if depths[key] > limits.MAX_DEPTH:
            return _TOO_DEEP()
        if sizes[key] - counts[1] > limits.MAX_YAML_NODES:
            return _TOO_LARGE
        return None

    try:
        return visit(root, 0)
    except _Deeper:
        return _walk_problem(root)


def _walk_problem(root: yaml.Node) -> str | None:
    """:func:`yaml_problem` for any nesting: one iterative walk over the distinct nodes."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    visiting: set[int] = set()
    aliases = distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            sizes[key] = 1 + sum(sizes[id(k)] for k in kids)
            is_collection = isinstance(node, yaml.CollectionNode)
            depths[key] = (1 + max((depths[id(k)] for k in kids), default=0)) if is_collection else 0
            visiting.discard(key)
            if depths[key] > limits.MAX_DEPTH:
                return limits.depth_message()
            if sizes[key] - distinct > limits.MAX_YAML_NODES:
                return f"aliases expand to more than {limits.MAX_YAML_NODES:,} extra values (the limit)"
            continue
        if key in sizes:
            aliases += 1
            if aliases > limits.MAX_YAML_ALIASES:
                return f"more than {limits.MAX_YAML_ALIASES} aliases (*name) in one document (the limit)"
            continue
        if key in visiting:
            return "a recursive alias (an anchor used inside its own value)"
        visiting.add(key)
        distinct += 1
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node))
    return None


def read_yaml(text: str) -> tuple[object, LineIndex]:
    """Parse ``text`` as YAML: (data, line index). Raises DocumentSyntaxError.

    Alias bombs and deep nesting are refused before any data is built (:func:`yaml_problem`).
    """
    loader = None
    try:
        loader = _Loader(text)  # the reader refuses control characters here already
        node = loader.get_single_node()
        if node is not None:
            problem = yaml_problem(node)
            if problem is not None:
                raise DocumentSyntaxError(problem, node.start_mark.line + 1)
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise DocumentSyntaxError(f"invalid YAML: {(problem.splitlines() or [''])[0][:200]}", _mark_line(exc)) from None
    except RecursionError:
        raise DocumentSyntaxError(limits.depth_message(), None) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise DocumentSyntaxError(f"invalid YAML: {str(exc)[: limits.EXCERPT]}", None) from None
    finally:
        if loader is not None:
            loader.dispose()
    index = LineIndex()
    if node is not None:
        _index(node, (), index, set())
    return data, index


def read_json(text: str) -> object:
    """Parse ``text`` as JSON. Raises DocumentSyntaxError with the line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentSyntaxError(f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except RecursionError:
        raise DocumentSyntaxError(limits.depth_message(), None) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise DocumentSyntaxError(f"invalid JSON: {str(exc)[: limits.EXCERPT]}", None) from None
    if limits.depth_of(data) > limits.MAX_DEPTH:
        raise DocumentSyntaxError(limits.depth_message(), None)
    return data


def json_line_map(text: str) -> LineIndex:
    """Line numbers for a JSON document (composed as YAML); empty if that fails."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return LineIndex()
    index = LineIndex()
    if node is not None:
        _index(node, (), index, set())
    return index


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def json_array_items(
    text: str, file: str = "<events>", problems: list[Issue] | None = None
) -> list[tuple[int, object]]:
    """The elements of a top-level JSON array, each with the line it starts on.

    Each element passes the event gate of :mod:`contractrules.model.jsonl` (size, depth,
    repeated keys, lone surrogates); a refused one becomes an Issue in ``problems``
    (raised as DocumentSyntaxError when no list is given)."""
    from contractrules.model.jsonl import LineProblem, decode, line_issue, too_long

    counted = [0, 1]  # position counted up to, line there: positions only grow

    def line_of(pos: int) -> int:
        if pos >= counted[0]:
            counted[1] += text.count("\n", counted[0], pos)
            counted[0] = pos
            return counted[1]
        return text.count("\n", 0, pos) + 1

    def fail(message: str, pos: int) -> DocumentSyntaxError:
        return DocumentSyntaxError(f"invalid JSON: {message}", line_of(pos))

    pos = _skip_ws(text, 0)
    if pos < len(text) and text[pos] == "\ufeff":
        pos = _skip_ws(text, pos + 1)
    if pos >= len(text) or text[pos] != "[":
        raise fail("expected a JSON array of events ('[')", pos)
    pos = _skip_ws(text, pos + 1)
    items: list[tuple[int, object]] = []
    if pos < len(text) and text[pos] == "]":
        pos += 1
    else:
        while True:
            try:
                value, end = decode(text, pos)
                if end - pos > limits.MAX_EVENT_BYTES:
                    big = too_long(end - pos)
                    big.end = end
                    raise big
            except json.JSONDecodeError as exc:
                raise DocumentSyntaxError(f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
            except LineProblem as exc:
                if problems is None or exc.end is None:
                    raise DocumentSyntaxError(str(exc), line_of(pos)) from None
                problems.append(line_issue(file, line_of(pos), exc))
                end = exc.end
            else:
                items.append((line_of(pos), value))
            pos = _skip_ws(text, end)
            if pos < len(text) and text[pos] == ",":
                pos = _skip_ws(text, pos + 1)
                continue
            if pos < len(text) and text[pos] == "]":
                pos += 1
                break
            raise fail("expected ',' or ']' after an array element", pos)
    if _skip_ws(text, pos) != len(text):
        raise fail("extra data after the array", _skip_ws(text, pos))
    return items


def line_for(lines: LineMap, path: tuple) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]


def read_text(path: Path, file: str, error: type[InputError], max_bytes: int | None = None) -> str:
    """A file's text (UTF-8, BOM ignored); an unreadable file raises ``error`` with one issue.

    With ``max_bytes``, a larger file is refused without reading it all."""
    try:
        if max_bytes is None:
            return path.read_text(encoding="utf-8-sig")
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = path.stat().st_size
            raise error([Issue(file, None, "", f"{size:,} bytes; the limit for this file is {max_bytes:,} bytes")])
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error([Issue(file, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise error([Issue(file, None, "", f"cannot read file: {exc.strerror or exc}")]) from None
