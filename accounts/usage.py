"""An account's last 30 days for the dashboard: the numbers, then their chart layout.

Days are UTC days, the same days as the "day" rate window (`quotas.window_start`), so a
chart bar and the dashboard's "used today" always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Account, CreditEntry, UsageWindow

CHART_DAYS = 30


@dataclass(frozen=True)
class DayUsage:
    day: date
    requests: int
    credits_added: int  # grants, refunds, positive adjustments
    credits_spent: int  # charges and negative adjustments, as a positive number


def daily_usage(
    *, account: Account, days: int = CHART_DAYS, now: datetime | None = None
) -> list[DayUsage]:
    """One row per UTC day, oldest first, ending today; days without activity are zeros."""
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=UTC)
    requests = _requests_per_day(account, since)
    credits = _credits_per_day(account, since)
    rows = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        added, spent = credits.get(day, (0, 0))
        rows.append(DayUsage(day, requests.get(day, 0), added, spent))
    return rows


def _requests_per_day(account: Account, since: datetime) -> dict[date, int]:
    windows = UsageWindow.objects.filter(account=account, scope="day", starts_at__gte=since)
    counts: dict[date, int] = {}
    for starts_at, count in windows.values_list("starts_at", "count"):
        day = starts_at.astimezone(UTC).date()
        counts[day] = counts.get(day, 0) + count
    return counts


def _credits_per_day(account: Account, since: datetime) -> dict[date, tuple[int, int]]:
    sums = (
        CreditEntry.objects.filter(account=account, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        # order_by(): the model's default ordering would otherwise join the GROUP BY.
        .order_by()
        .values("day")
        .annotate(
            added=Sum("amount", filter=Q(amount__gt=0)), spent=Sum("amount", filter=Q(amount__lt=0))
        )
    )
    return {row["day"]: (row["added"] or 0, -(row["spent"] or 0)) for row in sums}


# --- Chart layout (pure: numbers in, SVG coordinates out; the template draws) ----------

WIDTH = 720
PLOT_LEFT = 52  # room for the y-axis labels
PLOT_RIGHT = WIDTH - 12
REQUESTS_TOP, REQUESTS_BASE = 30, 140
CREDITS_TOP, CREDITS_ZERO, CREDITS_BOTTOM = 180, 250, 320
HEIGHT = 348
X_LABEL_EVERY = 7
BAR_FILL = 0.7  # share of a day's slot the bar covers
MIN_BAR = 2.0


@dataclass(frozen=True)
class Bar:
    y: float
    height: float


@dataclass(frozen=True)
class ChartDay:
    usage: DayUsage
    label: str
    x: float
    width: float
    requests: Bar
    added: Bar
    spent: Bar


@dataclass(frozen=True)
class Tick:
    at: float  # y of a y-axis tick, x of an x-axis label
    text: str
    series: str = ""  # "added" or "spent": the credit scale it belongs to (its colour)


@dataclass(frozen=True)
class UsageChart:
    days: list[ChartDay]
    request_ticks: list[Tick]
    credit_ticks: list[Tick]
    day_labels: list[Tick]
    total_requests: int
    total_added: int
    total_spent: int
    # Constants travel with the chart so the template holds no magic numbers.
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PLOT_LEFT
    plot_right: int = PLOT_RIGHT
    requests_top: int = REQUESTS_TOP
    requests_base: int = REQUESTS_BASE
    credits_top: int = CREDITS_TOP
    credits_zero: int = CREDITS_ZERO
    credits_bottom: int = CREDITS_BOTTOM


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is >= value (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def build_chart(days: list[DayUsage]) -> UsageChart:
    """Three scales: requests; credits added (above zero); credits spent (below zero).

    Added and spent have a scale each because a month's grant (hundreds) would otherwise
    flatten a day's spending (a few) to a sliver; their ticks take their bars' colours.
    """
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(1, len(days))
    request_max = nice_ceiling(max((d.requests for d in days), default=0))
    added_max = nice_ceiling(max((d.credits_added for d in days), default=0))
    spent_max = nice_ceiling(max((d.credits_spent for d in days), default=0))
    return UsageChart(
        days=[
            _chart_day(i, d, slot, request_max, (added_max, spent_max)) for i, d in enumerate(days)
        ],
        request_ticks=_ticks(request_max, REQUESTS_BASE, REQUESTS_TOP),
        credit_ticks=_credit_ticks(added_max, spent_max),
        day_labels=_day_labels(days, slot),
        total_requests=sum(d.requests for d in days),
        total_added=sum(d.credits_added for d in days),
        total_spent=sum(d.credits_spent for d in days),
    )


def _scaled(value: int, maximum: int, span: float) -> float:
    if value <= 0:
        return 0.0
    # A day with any activity stays visible next to a day a hundred times busier.
    return max(MIN_BAR, round(span * value / maximum, 1))


def _chart_day(
    index: int, usage: DayUsage, slot: float, request_max: int, credit_max: tuple[int, int]
) -> ChartDay:
    requests = _scaled(usage.requests, request_max, REQUESTS_BASE - REQUESTS_TOP)
    added = _scaled(usage.credits_added, credit_max[0], CREDITS_ZERO - CREDITS_TOP)
    spent = _scaled(usage.credits_spent, credit_max[1], CREDITS_BOTTOM - CREDITS_ZERO)
    return ChartDay(
        usage=usage,
        label=day_label(usage.day),
        x=round(PLOT_LEFT + slot * index + slot * (1 - BAR_FILL) / 2, 1),
        width=round(slot * BAR_FILL, 1),
        requests=Bar(REQUESTS_BASE - requests, requests),
        added=Bar(CREDITS_ZERO - added, added),
        spent=Bar(CREDITS_ZERO, spent),
    )


def _ticks(maximum: int, base: int, top: int) -> list[Tick]:
    ticks = [Tick(base, "0"), Tick(top, str(maximum))]
    if maximum % 2 == 0:
        ticks.insert(1, Tick((base + top) / 2, str(maximum // 2)))
    return ticks


def _credit_ticks(added_max: int, spent_max: int) -> list[Tick]:
    ticks = [Tick(CREDITS_TOP, f"+{added_max}", "added")]
    if added_max % 2 == 0:
        ticks.append(Tick((CREDITS_TOP + CREDITS_ZERO) / 2, f"+{added_max // 2}", "added"))
    ticks.append(Tick(CREDITS_ZERO, "0"))
    if spent_max % 2 == 0:
        ticks.append(Tick((CREDITS_ZERO + CREDITS_BOTTOM) / 2, f"\u2212{spent_max // 2}", "spent"))
    ticks.append(Tick(CREDITS_BOTTOM, f"\u2212{spent_max}", "spent"))
    return ticks


def _day_labels(days: list[DayUsage], slot: float) -> list[Tick]:
    # Counted back from today, so the most recent day always has its label.
    indexes = range(len(days) - 1, -1, -X_LABEL_EVERY)
    return [
        Tick(round(PLOT_LEFT + slot * (i + 0.5), 1), day_label(days[i].day))
        for i in sorted(indexes)
    ]
