"""The contract's timeline as SVG shapes (coordinates computed here, drawn by a template).

Lanes: the contract (billing cycles, notice, end), invoices (open until due, grace,
late, payments, credit notes, disputes, the day the penalty became enforceable) and
requests (in scope with their deadline, out of scope, change orders, verbal ones
hollow). Every shape has a ``title`` naming its date and event id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from contractrules.documents.i18n import Lang

WIDTH, LEFT, RIGHT, TOP, ROW = 720, 78, 10, 30, 24
ONE = timedelta(days=1)


@dataclass
class Shape:
    kind: str  # bar | mark | tick | line
    cls: str
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    title: str = ""
    label: str = ""

    @property
    def right(self) -> bool:
        """Label to the left of the shape (it would run off the right edge)."""
        return self.x > WIDTH - 110


@dataclass
class Timeline:
    width: int
    height: int
    lanes: list[tuple[str, float, float]] = field(default_factory=list)  # label, y, height
    months: list[tuple[float, str]] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def build(L: Lang, contract, answer, invoices, scope) -> Timeline:
    _ = L.gettext
    event_word = _("event")
    records = answer.detail.get("records", {})
    seen = sorted(r.local_date for r in records.values() if r.local_date <= answer.as_of)
    first = min([contract.start, *seen[:1]])
    marks = [answer.as_of] + [i.penalty.enforceable_from for i in invoices if i.penalty and i.penalty.enforceable_from]
    last = max(marks) + timedelta(days=3)
    span = max((last - first).days, 1)
    plot = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return round(LEFT + (min(max(day, first), last) - first).days * plot / span, 1)

    def bar(cls, a: date, b: date, y, title, h=10.0):
        t.shapes.append(Shape("bar", cls, x(a), y - h / 2, max(x(b + ONE) - x(a), 1.5), h, title))

    taken: dict[float, list[tuple[float, float]]] = {}  # per row: x ranges already labelled

    def mark(cls, day: date, y, title, label=""):
        shape = Shape("mark", cls, x(day), y, title=title, label=label)
        if label:  # a label that would overlap another on its row is left to the tooltip
            width = 5.6 * len(label) + 8
            span = (shape.x - width, shape.x) if shape.right else (shape.x, shape.x + width)
            if any(a < span[1] and span[0] < b for a, b in taken.get(y, [])):
                shape.label = ""
            else:
                taken.setdefault(y, []).append(span)
        t.shapes.append(shape)

    t = Timeline(WIDTH, 0)
    y = TOP
    # -- contract
    lane_y = y
    end = answer.state.effective_end
    bar(
        "contract",
        contract.start,
        min(end or answer.as_of, answer.as_of) if end else answer.as_of,
        y + 11,
        _("Contract %(id)s from %(start)s") % {"id": contract.id, "start": L.date(contract.start)},
        h=6,
    )
    for ob in answer.obligations:
        if ob.kind == "billing":
            start = date.fromisoformat(ob.id.split(":", 1)[1])
            t.shapes.append(
                Shape(
                    "tick",
                    "cycle",
                    x(start),
                    y + 4,
                    h=14,
                    title=_("Billing cycle from %(day)s") % {"day": L.date(start)},
                )
            )
    notice = answer.state.notice
    if notice is not None:
        mark(
            "notice",
            notice.given_on,
            y + 11,
            _("Termination notice given on %(day)s") % {"day": L.date(notice.given_on)},
            _("notice"),
        )
    if end is not None and end <= last:
        same = notice is not None and notice.given_on == end
        mark(
            "end",
            end,
            y + 11,
            _("Contract ends on %(day)s") % {"day": L.date(end)},
            _("notice / end") if same else _("end"),
        )
        if same:
            t.shapes[-2].label = ""
    t.lanes.append((_("Contract"), lane_y, 2 * ROW - 6))
    y += 2 * ROW
    # -- invoices, on alternating rows
    lane_y = y
    for n, inv in enumerate(invoices):
        row = y + 11 + (n % 2) * ROW
        bar(
            "invoice",
            inv.issued_on,
            inv.due or inv.issued_on,
            row,
            _("Invoice %(id)s issued %(issued)s, due %(due)s (event %(event)s)")
            % {"id": inv.id, "issued": L.date(inv.issued_on), "due": L.date(inv.due), "event": inv.event},
        )
        if inv.late_from is not None:
            paid = next((ln.on for ln in inv.lines if ln.credit and ln.balance == 0), None)
            stop = paid if paid is not None else answer.as_of
            pen = inv.penalty
            red_from = inv.late_from
            if pen is not None and pen.enforceable_from is not None and pen.enforceable_from > inv.late_from:
                grace_end = min(pen.enforceable_from - ONE, stop)
                bar(
                    "grace",
                    inv.late_from,
                    grace_end,
                    row,
                    _("Grace: the penalty on %(id)s cannot be charged before %(day)s")
                    % {"id": inv.id, "day": L.date(pen.enforceable_from)},
                )
                red_from = grace_end + ONE
            if red_from <= stop:
                bar(
                    "late",
                    red_from,
                    stop,
                    row,
                    _("Invoice %(id)s late from %(day)s") % {"id": inv.id, "day": L.date(inv.late_from)},
                )
            if pen is not None and pen.enforceable_from is not None:
                mark(
                    "enforce",
                    pen.enforceable_from,
                    row,
                    _("Penalty on %(id)s enforceable from %(day)s")
                    % {"id": inv.id, "day": L.date(pen.enforceable_from)},
                    _("enforceable %(day)s") % {"day": L.short(pen.enforceable_from)},
                )
        for ln in inv.lines[1:]:
            mark(
                "pay" if ln.kind == "payment" else "credit",
                ln.on,
                row,
                f"{ln.text}: {ln.on.isoformat()} ({event_word} {ln.event})",
            )
    for rec in sorted(records.values(), key=lambda r: (r.local_date, r.event.id)):
        e = rec.event
        if rec.local_date > answer.as_of:
            continue
        if e.type == "dispute_opened":
            closed = next(
                (
                    r.local_date
                    for r in records.values()
                    if r.event.type == "dispute_resolved"
                    and r.event.invoice == e.invoice
                    and rec.local_date <= r.local_date <= answer.as_of
                ),
                None,
            )
            bar(
                "dispute",
                rec.local_date,
                closed or answer.as_of,
                y + 11 + ROW * 2 - 4,
                _("Dispute on %(id)s (event %(event)s)") % {"id": e.invoice, "event": e.id},
                h=5,
            )
        elif e.type == "reminder_sent":
            mark(
                "reminder",
                rec.local_date,
                y + 11 + ROW * 2 - 4,
                _("Reminder for %(id)s (event %(event)s)") % {"id": e.invoice, "event": e.id},
            )
    t.lanes.append((_("Invoices"), lane_y, 3 * ROW - 2))
    y += 3 * ROW + 4
    # -- requests
    lane_y = y
    oos = {f.caused_by[0] for f in scope.findings if f.kind == "out_of_scope_request"}
    ooswork = {f.caused_by[0] for f in scope.findings if f.kind == "out_of_scope_work"}
    for rec in sorted(records.values(), key=lambda r: (r.local_date, r.event.id)):
        e = rec.event
        if rec.local_date > answer.as_of or e.type not in ("work_requested", "change_order_agreed", "work_performed"):
            continue
        verbal = " verbal" if e.channel in ("phone", "video", "in_person") else ""
        what = f"{e.service} · {e.asset} ({event_word} {e.id}, {L.short(rec.local_date)})"
        if e.type == "work_requested":
            cls = "oos" if e.id in oos else "req"
            mark(
                cls + verbal,
                rec.local_date,
                y + 11,
                (_("Out of scope request: %(what)s") if e.id in oos else _("Request: %(what)s")) % {"what": what},
            )
        elif e.type == "change_order_agreed":
            mark("co" + verbal, rec.local_date, y + 11 + ROW, _("Change order: %(what)s") % {"what": what})
        elif e.id in ooswork:
            mark("ooswork" + verbal, rec.local_date, y + 11 + ROW, _("Out of scope work: %(what)s") % {"what": what})
    for ob in answer.obligations:
        if ob.kind == "service" and ob.due is not None and ob.id.rsplit(":", 1)[1] in records:
            t.shapes.append(
                Shape(
                    "tick",
                    "deadline",
                    x(ob.due),
                    y + 4,
                    h=14,
                    title=_("Deadline %(day)s for %(id)s") % {"day": L.date(ob.due), "id": ob.id},
                )
            )
    t.lanes.append((_("Requests"), lane_y, 2 * ROW - 2))
    y += 2 * ROW
    # -- axis
    t.shapes.append(
        Shape(
            "line",
            "asof",
            x(answer.as_of),
            TOP - 6,
            h=y - TOP + 6,
            title=_("As of %(day)s") % {"day": L.date(answer.as_of)},
            label=L.short(answer.as_of),
        )
    )
    day = first.replace(day=1)
    if first.day != 1:  # the first, partial month: label it where the axis starts
        t.months.append((x(first), L.month(first) + f" {first.year}"))
        day = (day + timedelta(days=32)).replace(day=1)
    step = 1 if span <= 400 else 3 if span <= 1200 else 12  # months between labels: they must not overlap
    while day <= last:
        if day >= first and (day.month - 1) % step == 0:
            t.months.append((x(day), L.month(day) + (f" {day.year}" if day.month == 1 or not t.months else "")))
        day = (day + timedelta(days=32)).replace(day=1)
    t.height = int(y + 8)
    t.legend = [
        ("invoice", _("invoice open, until its due date")),
        ("grace", _("late, in grace")),
        ("late", _("late")),
        ("enforce", _("penalty enforceable from")),
        ("pay", _("payment")),
        ("credit", _("credit note")),
        ("reminder", _("reminder")),
        ("dispute", _("dispute")),
        ("notice", _("notice / end")),
        ("req", _("request in scope")),
        ("oos", _("out of scope")),
        ("co", _("change order")),
        ("verbal", _("verbal only (hollow)")),
    ]
    return t
