"""Turning pydantic's error list into :class:`~contractrules.errors.Issue` objects.

Each pydantic error has a ``loc`` tuple and a ``type``; we turn the loc into a field path
(``terms.billing.anchor_day``), find its line, and write the message in the user's words
("required", "unknown field (did you mean 'billing'?)", "must be 1..31, got 32").
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from contractrules.errors import Issue
from contractrules.model.types import FieldProblems, describe_value, format_path

LineLookup = Callable[[tuple], "int | None"]


def suggestion(word: object, candidates: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unwrap(tp: Any) -> Any:
    """The model/list type under Annotated, Optional and list[...] layers (one level)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if _is_model(a) or typing.get_origin(a) in (list, typing.Annotated)]
            if len(models) != 1:
                return None
            tp = models[0]
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def fields_at(model: type[BaseModel], path: tuple) -> list[str]:
    """Field names of the model found by following ``path`` from ``model``."""
    tp: Any = model
    for part in path:
        tp = _unwrap(tp)
        if isinstance(part, int):
            if typing.get_origin(tp) is not list:
                return []
            tp = typing.get_args(tp)[0]
        elif _is_model(tp) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if _is_model(tp) else []


def _bound(ctx: dict, key: str) -> Any:
    return ctx.get(key) if ctx else None


def message_for(error: dict, model: type[BaseModel] | None) -> str:
    """A user-facing message for one pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    loc = tuple(error.get("loc", ()))
    got = describe_value(value)
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        hint = suggestion(loc[-1] if loc else None, fields_at(model, loc[:-1]) if model else [])
        return f"unknown field{hint}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
        return f"must be {expected}, got {got}{suggestion(value, options)}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error.get("msg", "")))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {got}"
    if kind in ("string_type", "string_unicode"):
        return f"must be text, got {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of fields, got {got}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {got}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind == "greater_than_equal":
        return f"must be >= {_bound(ctx, 'ge')}, got {got}"
    if kind == "less_than_equal":
        return f"must be <= {_bound(ctx, 'le')}, got {got}"
    if kind == "greater_than":
        return f"must be > {_bound(ctx, 'gt')}, got {got}"
    return str(error.get("msg", kind))


def issues_from(
    errors: Sequence[Mapping[str, Any]],
    *,
    file: str,
    lines: LineLookup,
    model: type[BaseModel] | None,
    drop: int = 0,
    event_id: str | None = None,
) -> list[Issue]:
    """One Issue per pydantic error dict (``exc.errors()``; a FieldProblems error gives one per problem).

    ``drop`` leading loc items are removed first (the union tag of an event); ``lines``
    maps the remaining path to a line; ``model`` is the model the path starts from.
    """
    out: list[Issue] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))[drop:]
        error = {**error, "loc": loc}
        problems = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
        if isinstance(problems, FieldProblems):
            for sub, message in problems.problems:
                path = loc + tuple(sub)
                out.append(Issue(file, lines(path), format_path(path), message, event_id))
            continue
        out.append(Issue(file, lines(loc), format_path(loc), message_for(error, model), event_id))
    return out
