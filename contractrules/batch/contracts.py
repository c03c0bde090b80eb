"""Reading a batch's contracts: the files of a directory, their ids, fast validated loads.

The parent only needs each contract's ``id`` to match events and to order the output:
:func:`quick_id` reads just the top of the file (libyaml events, stopping at ``id``).
The full, validated load happens in the worker (:func:`load_contract`): libyaml (or
json) and one validation for a valid file, the canonical
:func:`contractrules.model.read_contract` for anything unusual, so the located errors
are exactly those of ``contractrules check``.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from contractrules.batch.io import relocated, usage
from contractrules.errors import ContractError, InputError
from contractrules.limits import MAX_CONTRACT_BYTES, MAX_DEPTH, depth_of
from contractrules.model import Contract, parse_contract, read_contract
from contractrules.model.lines import yaml_problem

CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")


def contract_files(directory: str | Path, outside: list[Path] | None = None) -> list[Path]:
    """The contract files directly in ``directory``, sorted by name.

    A symbolic link is followed only to a file inside ``directory``; links that lead
    out of it are not read (appended to ``outside``, to be reported)."""
    root = Path(directory)
    if not root.is_dir():
        raise usage("--contracts", f"{directory} is not a directory")
    return inside_files(root, CONTRACT_SUFFIXES, outside)


def inside_files(root: Path, suffixes: tuple[str, ...], outside: list[Path] | None = None) -> list[Path]:
    """Files directly in ``root`` with one of ``suffixes`` (not hidden), sorted; links
    leading outside ``root`` go to ``outside`` instead."""
    real_root = root.resolve()
    found = []
    for p in sorted(root.iterdir()):
        if p.suffix.lower() not in suffixes or p.name.startswith("."):
            continue
        if p.is_symlink() and real_root not in p.resolve().parents:
            if outside is not None:
                outside.append(p)
            continue
        if p.is_file():
            found.append(p)
    return found


_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"


def _scalar_text(event: yaml.ScalarEvent) -> str | None:
    """The scalar's text if YAML reads it as a string, else None."""
    tag = event.tag if event.tag not in (None, "!") else _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    return event.value if tag == _STR else None


def _yaml_id(data: bytes) -> str | None:
    """The top-level ``id`` of a YAML mapping, reading only as far as that key."""
    depth, is_key, want = 0, True, False
    for ev in yaml.parse(data, Loader=yaml.CSafeLoader):
        if isinstance(ev, yaml.CollectionStartEvent):
            if (depth == 0 and not isinstance(ev, yaml.MappingStartEvent)) or (depth == 1 and want):
                return None
            depth += 1
        elif isinstance(ev, yaml.CollectionEndEvent):
            depth -= 1
            if depth <= 0:
                return None
            if depth == 1:
                is_key = not is_key
        elif depth == 1 and isinstance(ev, (yaml.ScalarEvent, yaml.AliasEvent)):
            if want:
                return _scalar_text(ev) if isinstance(ev, yaml.ScalarEvent) else None
            if is_key and isinstance(ev, yaml.ScalarEvent) and _scalar_text(ev) == "id":
                want = True
            is_key = not is_key
    return None


def quick_id(path: Path) -> str | None:
    """The contract id a file declares, or None if it cannot be read that simply.

    Only a plan: the worker validates the whole file and checks the id again.
    """
    try:
        with path.open("rb") as f:
            data = f.read(MAX_CONTRACT_BYTES + 1)
        if len(data) > MAX_CONTRACT_BYTES:
            return None  # the full load reports the size
        if path.suffix.lower() == ".json":
            doc = json.loads(data)
            cid = doc.get("id") if isinstance(doc, dict) else None
            return cid if isinstance(cid, str) else None
        return _yaml_id(data)
    except (OSError, ValueError, RecursionError, yaml.YAMLError):
        return None


class _Unusual(Exception):
    """Something the fast path leaves to the canonical loader (a repeated key, a merge
    key, an explicit tag, a set...)."""


_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_SCALARS = {
    tag: yaml.constructor.SafeConstructor.yaml_constructors[tag]
    for tag in (
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
    )
}


def _build(node: yaml.Node | None, loader: yaml.CSafeLoader) -> object:
    """The Python value of a composed node, as SafeLoader builds it, without its generators.

    An empty document (no node) is left to the canonical loader too."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            return node.value
        construct = _SCALARS.get(node.tag)
        if construct is None:
            raise _Unusual()
        return construct(loader, node)
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        mapping: dict = {}
        for key_node, value_node in node.value:
            key = _build(key_node, loader)
            if key in mapping:
                raise _Unusual()
            mapping[key] = _build(value_node, loader)
        return mapping
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_build(item, loader) for item in node.value]
    raise _Unusual()


def _fast_yaml(text: str) -> object:
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None or yaml_problem(node) is not None:  # alias bombs, deep nesting
            raise _Unusual()
        return _build(node, loader)
    finally:
        loader.dispose()


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    if len({k for k, _ in pairs}) != len(pairs):
        raise _Unusual()
    return dict(pairs)


def load_contract(path: str | Path, display: str | None = None) -> Contract:
    """Load and validate a contract file, fast when it is valid.

    A valid file is composed by libyaml (or parsed by json), built and validated once;
    anything unusual (a syntax error, a repeated or merge key, a tag, an invalid field,
    an impossible date) goes through :func:`contractrules.model.read_contract`, whose
    ContractError locates every issue. The result is the same either way; only the
    time differs (~0.2 ms instead of ~2 ms).
    """
    path = Path(path)
    display = display or str(path)
    try:
        if path.suffix.lower() not in CONTRACT_SUFFIXES:
            raise _Unusual()
        if path.stat().st_size > MAX_CONTRACT_BYTES:
            raise _Unusual()
        text = path.read_bytes().decode("utf-8-sig")  # what read_contract accepts, no more
        if path.suffix.lower() == ".json":
            data = json.loads(text, object_pairs_hook=_no_duplicates)
            if depth_of(data) > MAX_DEPTH:
                raise _Unusual()
        else:
            data = _fast_yaml(text)
        return parse_contract(data, display)
    except (OSError, ValueError, TypeError, RecursionError, yaml.YAMLError, _Unusual, ContractError):
        pass
    try:
        return read_contract(path).contract
    except InputError as exc:
        raise ContractError(relocated(exc.issues, str(path), display)) from None
