"""Copies of a contract's working state (:class:`~contractrules.ledger.Run`).

A checkpoint is the working state at a point in event time. Copies share what never
changes during an evaluation — the compiled document, the event index and the event
records (immutable) — and copy everything else, so that delivering more messages to a
copy, or finishing it for an answer, leaves the original untouched.

The copy is a pickle round trip (pickle copies dates, decimals and dataclasses in C,
several times faster than ``copy.deepcopy``, and keeps the object graph: an obligation
listed in two places stays one object). The shared attributes of the Run are detached
while pickling and put back after; event records go by reference through the pickler's
dispatch table (a call for records only, not one per object). :func:`freeze` gives the
bytes (a checkpoint at rest, smaller than live objects); :func:`thaw` a working Run.

Those bytes name event records by their address in this process: they never leave it.
A checkpoint kept outside the process (the store's ``cr_checkpoints``) is a
:class:`SavedCheckpoint` (:func:`persist`, :func:`restore`): event records by event id,
a header saying which events it was taken from (:func:`event_digests`, a running
SHA-256 of the events in event order) and from which contract (:func:`contract_digest`)
and format (:func:`format_tag`: :data:`FORMAT` and the package version), and an
HMAC-SHA256 seal. :func:`restore` gives None — never a wrong state — unless all of them
match; it unpickles only classes and functions of the ledger, the models and the
clauses (and dates, decimals, plain containers), nothing else (docs/semantics.md,
Decision 107).
"""

from __future__ import annotations

import copyreg
import hashlib
import hmac
import io
import json
import pickle
import struct
import weakref
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from contractrules.ledger import Run
from contractrules.model import EventRecord
from contractrules.stamps import skip_stamps, stamps_issued

#: Run attributes that are the same objects in every copy.
SHARED_ATTRIBUTES = ("doc", "params", "by_id", "records")

# Records posted to live contracts, by id(), while alive: a frozen checkpoint names them.
_RECORDS: weakref.WeakValueDictionary[int, EventRecord] = weakref.WeakValueDictionary()


def _record(key: int) -> EventRecord:
    return _RECORDS[key]


def _reduce_record(rec: EventRecord) -> tuple[Any, tuple[Any, ...]]:
    key = id(rec)
    if _RECORDS.get(key) is rec:
        return _record, (key,)
    return EventRecord, (rec.event, rec.file, rec.line, rec.seq, rec.local_date)  # a held copy: by value


_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[EventRecord] = _reduce_record


class Shared:
    """What copies share: the Run's shared attributes (:data:`SHARED_ATTRIBUTES`) and the
    event records registered with :meth:`add` (they must outlive every frozen state)."""

    def __init__(self, run: Run | None = None) -> None:
        self.attributes: dict[str, Any] = {}
        self.records: list[EventRecord] = []
        if run is not None:
            self.attributes = {name: getattr(run, name) for name in SHARED_ATTRIBUTES}

    def add(self, rec: EventRecord) -> None:
        self.records.append(rec)
        _RECORDS[id(rec)] = rec


def freeze(run: Run, shared: Shared) -> bytes:
    """``run``'s working state as bytes (shared objects by reference)."""
    return _pickled(run, shared, _DISPATCH)


def _pickled(run: Run, shared: Shared, dispatch: dict[Any, Any]) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = dispatch
    for name in shared.attributes:
        setattr(run, name, None)
    try:
        pickler.dump(run)
    finally:
        for name, value in shared.attributes.items():
            setattr(run, name, value)
    return buf.getvalue()


def thaw(data: bytes, shared: Shared) -> Run:
    """A new, independent Run from :func:`freeze`'s bytes."""
    run: Run = pickle.loads(data)
    for name, value in shared.attributes.items():
        setattr(run, name, value)
    return run


def copy_run(run: Run, shared: Shared) -> Run:
    """An independent copy of ``run`` (shared objects shared)."""
    return thaw(freeze(run, shared), shared)


# -- checkpoints kept outside the process -------------------------------------------

#: The layout of a saved checkpoint; a new one whenever the pickled state or the header
#: changes meaning. Saved checkpoints of another layout or package version are ignored.
FORMAT = 2  # 2: working objects carry stamps (ledger.py), the header the stamp counter
_MAGIC = b"CRCK"
_SEAL = hashlib.sha256().digest_size
#: The seal's key when none is configured: the seal then only detects damage.
PUBLIC_KEY = b"contractrules checkpoint"

# What a saved state may name: the classes and functions a Run holds, nothing else.
_PACKAGES = tuple(
    f"contractrules.{name}" for name in ("ledger", "model", "compiler", "dates", "money", "interest", "statutory")
)
_OTHERS = {
    "builtins": {"set", "frozenset", "bytearray", "complex", "slice", "range"},
    "copyreg": {"_reconstructor", "__newobj__", "__newobj_ex__"},
    "collections": {"OrderedDict", "defaultdict", "deque", "Counter"},
    "datetime": {"date", "datetime", "time", "timedelta", "timezone"},
    "decimal": {"Decimal"},
    "zoneinfo": {"ZoneInfo._unpickle"},
}


def format_tag() -> str:
    """``<FORMAT>/<package version>``: a saved checkpoint is used by the same only."""
    from contractrules import __version__

    return f"{FORMAT}/{__version__}"


@dataclass(frozen=True)
class SavedCheckpoint:
    """A checkpoint that may leave the process: the state after the first ``position``
    events (in event order) whose identities hash to ``digest``; ``data`` is the sealed
    blob (header, compressed pickle, HMAC) that :func:`restore` checks again."""

    position: int
    digest: str
    format: str
    data: bytes


class Header(NamedTuple):
    """What a saved state claims (sealed with it): ``position`` events delivered (and the
    clock up to the last of them), their ``digest``, and the ``contract`` digest."""

    position: int
    digest: str
    contract: str


def contract_digest(contract: Any) -> str:
    """SHA-256 of a contract model's JSON: a state is only valid for the contract it came from."""
    return hashlib.sha256(contract.model_dump_json().encode()).hexdigest()


def record_digest(rec: EventRecord) -> bytes:
    """An event's identity: its content (id included) and its contract-local date."""
    return hashlib.sha256(f"{rec.local_date.isoformat()}|{rec.event.model_dump_json()}".encode()).digest()


def event_digests(
    records: Sequence[EventRecord], positions: Iterable[int], cache: dict[str, tuple[EventRecord, bytes]] | None = None
) -> dict[int, str]:
    """The digest of ``records[:p]`` for each ``p`` of ``positions`` (one pass; ``cache``:
    each record's :func:`record_digest` by event id, kept between calls)."""
    wanted = sorted({p for p in positions if 0 <= p <= len(records)})
    out: dict[int, str] = {}
    running = hashlib.sha256(b"contractrules events")
    at = 0
    for p in wanted:
        for rec in records[at:p]:
            hit = cache.get(rec.event.id) if cache is not None else None
            if hit is None or hit[0] is not rec:
                hit = (rec, record_digest(rec))
                if cache is not None:
                    cache[rec.event.id] = hit
            running.update(hit[1])
        at = p
        out[p] = running.hexdigest()
    return out


def _header(header: Header) -> dict[str, Any]:
    return {"format": format_tag(), **header._asdict()}


def _split(data: bytes) -> tuple[bytes, bytes, dict[str, Any]] | None:
    """(sealed body, seal, header) of a saved blob, the seal not checked yet; None if malformed."""
    body, seal = data[:-_SEAL], data[-_SEAL:]
    if len(data) < len(_MAGIC) + 4 + _SEAL or not body.startswith(_MAGIC):
        return None
    (size,) = struct.unpack(">I", body[4:8])
    try:
        head = json.loads(body[8 : 8 + size])
    except ValueError:
        return None
    return (body, seal, head) if isinstance(head, dict) else None


def persist(
    run: Run, shared: Shared, known: Mapping[str, EventRecord], header: Header, key: bytes = b""
) -> SavedCheckpoint:
    """``run``'s state as a :class:`SavedCheckpoint` claiming ``header``; ``known``: the
    records by event id (they go by id)."""

    def reduce(rec: EventRecord) -> tuple[Any, tuple[Any, ...]]:
        if known.get(rec.event.id) is rec:
            return _saved_record, (rec.event.id,)
        return EventRecord, (rec.event, rec.file, rec.line, rec.seq, rec.local_date)  # a held copy: by value

    dispatch = copyreg.dispatch_table.copy()
    dispatch[EventRecord] = reduce
    # every stamp in the state is below the counter: a process loading it skips past it
    head = json.dumps({**_header(header), "stamps": stamps_issued()}, sort_keys=True).encode()
    body = _MAGIC + struct.pack(">I", len(head)) + head + zlib.compress(_pickled(run, shared, dispatch), 1)
    seal = hmac.new(key or PUBLIC_KEY, body, hashlib.sha256).digest()
    return SavedCheckpoint(header.position, header.digest, format_tag(), body + seal)


def _saved_record(event_id: str) -> EventRecord:
    raise pickle.UnpicklingError("event records are restored by restore() only")


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, known: Mapping[str, EventRecord]) -> None:
        super().__init__(io.BytesIO(data))
        self.known = known

    def record(self, event_id: str) -> EventRecord:
        try:
            return self.known[event_id]
        except KeyError:
            raise pickle.UnpicklingError(f"no event {event_id!r}") from None

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_saved_record":
            return self.record
        if name in _OTHERS.get(module, ()):
            return super().find_class(module, name)
        if (module in _PACKAGES or module.startswith(tuple(p + "." for p in _PACKAGES))) and "." not in name:
            found = super().find_class(module, name)
            if getattr(found, "__module__", None) == module:  # defined there, not imported
                return found
        raise pickle.UnpicklingError(f"a saved checkpoint may not name {module}.{name}")


def restore(
    saved: SavedCheckpoint,
    shared: Shared,
    known: Mapping[str, EventRecord],
    header: Header,
    key: bytes = b"",
) -> Run | None:
    """The Run saved in ``saved`` if its seal, its format and ``header`` (what the caller
    has now: position, events' digest, contract digest) all match; else None."""
    parts = _split(saved.data)
    if parts is None:
        return None
    body, seal, head = parts
    if not hmac.compare_digest(seal, hmac.new(key or PUBLIC_KEY, body, hashlib.sha256).digest()):
        return None
    stamps = head.pop("stamps", None)
    if head != _header(header) or not isinstance(stamps, int):
        return None
    size = struct.unpack(">I", body[4:8])[0]
    try:
        run: Run = _Unpickler(zlib.decompress(body[8 + size :]), known).load()
    except Exception:  # a state this code cannot read is not used (a replay answers)
        return None
    if not isinstance(run, Run):
        return None
    skip_stamps(stamps)
    for name, value in shared.attributes.items():
        setattr(run, name, value)
    return run
