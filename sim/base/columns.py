"""Output table schemas, declared once.

Each table is a list of :class:`Column` (name, dtype, unit, description). Writers, readers and the
documentation derive from these lists. Per-asset metrics are *families*: a base name plus
``.<asset id>`` (e.g. ``throughput_mt.cpc_pipeline``); their dtype and meaning come from the base.
Headline names (``exported_mt``, ``shut_in_mt``, ``revenue_usd``, ``revenue_loss_usd``,
``spare_used_mt.<asset>``, ``throughput_mt.<asset>``) are stable public interface.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of an output table.

    ``adverse`` is the tail where bad outcomes lie: ``"high"`` for losses and most quantities
    (the default), ``"low"`` for outputs where less is worse (exports, revenue, throughput).
    Value-at-risk and CVaR in ``summary.json`` are taken on that tail.
    """

    name: str
    dtype: str
    unit: str
    description: str
    adverse: str = "high"


REPLICATION_COLUMNS: list[Column] = [
    Column(
        "replication",
        "int64",
        "",
        "Replication index (0-based); with the root seed it fixes every draw.",
    ),
    Column(
        "exported_mt", "float64", "Mt", "Oil delivered to markets over the horizon.", adverse="low"
    ),
    Column(
        "potential_mt",
        "float64",
        "Mt",
        "Production the sources could have delivered undisturbed.",
        adverse="low",
    ),
    Column(
        "shut_in_mt",
        "float64",
        "Mt",
        "Production not produced: congestion shut-in plus field outages.",
    ),
    Column(
        "shut_in_congestion_mt", "float64", "Mt", "Production shut in because oil could not move."
    ),
    Column(
        "shut_in_field_mt", "float64", "Mt", "Production lost to outages of the fields themselves."
    ),
    Column(
        "deferred_mt",
        "float64",
        "Mt",
        "Exports delayed behind the undisrupted twin and caught up later.",
    ),
    Column("storage_change_mt", "float64", "Mt", "Change in oil held in storage over the horizon."),
    Column(
        "in_transit_change_mt", "float64", "Mt", "Change in oil on board tankers over the horizon."
    ),
    Column(
        "mass_balance_error_mt",
        "float64",
        "Mt",
        "potential - shut-in - exported - storage change - transit change (should be ~0).",
    ),
    Column(
        "revenue_usd",
        "float64",
        "USD",
        "Sales netback (price minus tariffs and freight paid) plus the change in value of oil held in storage and on tankers, discounted.",
        adverse="low",
    ),
    Column(
        "twin_revenue_usd",
        "float64",
        "USD",
        "Revenue of the undisrupted twin on the same price path.",
        adverse="low",
    ),
    Column(
        "revenue_loss_usd", "float64", "USD", "twin_revenue_usd - revenue_usd (paired difference)."
    ),
    Column(
        "shut_in_days", "float64", "days", "Time during which some production was not produced."
    ),
    Column("n_events", "int64", "", "Disruption events that took effect (per asset hit)."),
    Column("tanker_trips", "int64", "", "Completed tanker round trips, all shuttles."),
    Column(
        "tanker_utilisation",
        "float64",
        "fraction",
        "Share of fleet time spent loading, sailing or discharging.",
    ),
    Column(
        "tanker_wait_hours_mean",
        "float64",
        "h",
        "Mean waiting time per trip (berths, cargo, room, weather).",
    ),
    Column(
        "blocked_mt",
        "float64",
        "Mt",
        "Export shortfall vs the twin on corridors that carried less (offset ledger total).",
    ),
    Column(
        "offset_routes_mt",
        "float64",
        "Mt",
        "Blocked volume absorbed by corridors that carried more than the twin.",
    ),
    Column(
        "offset_storage_mt",
        "float64",
        "Mt",
        "Blocked volume absorbed by storages and tankers (held at the horizon vs the twin).",
    ),
    Column(
        "offset_shut_in_mt",
        "float64",
        "Mt",
        "Blocked volume not produced; blocked = routes + storage + shut_in exactly.",
    ),
    Column(
        "parameter_set",
        "int64",
        "",
        "Second-order runs only (run.parameter_sets): the parameter set, replication mod K.",
    ),
]

REPLICATION_FAMILIES: list[Column] = [
    Column("exported_mt", "float64", "Mt", "Oil delivered on route <id>.", adverse="low"),
    Column(
        "throughput_mt",
        "float64",
        "Mt/yr",
        "Oil through asset <id>, per year of horizon.",
        adverse="low",
    ),
    Column(
        "spare_used_mt",
        "float64",
        "Mt",
        "Extra volume asset <id> carried over the undisrupted twin.",
    ),
    Column(
        "spare_used_pct",
        "float64",
        "%",
        "spare_used_mt as a share of the asset's spare over the horizon.",
    ),
    Column("max_storage_mt", "float64", "Mt", "Highest level of storage <id>."),
    Column("shut_in_mt", "float64", "Mt", "Production not produced at source <id>."),
    Column("tanker_trips", "int64", "", "Completed round trips of shuttle <id>."),
    Column(
        "port_calls",
        "int64",
        "",
        "Berth requests at shuttle port <shuttle>.<origin|destination> (its tankers and "
        "third-party calls); only ports with third-party traffic.",
    ),
    Column(
        "port_waiting_mean",
        "float64",
        "vessels",
        "Time-average number of vessels waiting for a berth at port <shuttle>.<end>.",
    ),
    Column(
        "port_wait_hours_mean",
        "float64",
        "h",
        "Mean wait for a berth per call at port <shuttle>.<end> (a wait still running at the "
        "horizon counts up to it, so port_waiting_mean = port_calls / horizon x this wait).",
    ),
    Column(
        "port_berth_utilisation",
        "float64",
        "fraction",
        "Time-average share of the berths of port <shuttle>.<end> occupied.",
    ),
    Column(
        "offset_mt",
        "float64",
        "Mt",
        "Signed change of exports vs the twin on corridor <id> (last link to market).",
        adverse="low",
    ),
    Column("regime_days", "float64", "days", "Days of the horizon spent in regime <id>."),
    Column(
        "year_revenue_loss_usd",
        "float64",
        "USD",
        "Paired revenue loss in year <k> of the horizon (0-based; only when the horizon is longer "
        "than a year). The years add up to revenue_loss_usd.",
    ),
    Column(
        "year_volume_lost_mt",
        "float64",
        "Mt",
        "Production not produced in year <k>, minus the twin's (only for horizons over a year).",
    ),
    Column(
        "hazard_rate",
        "float64",
        "1/yr",
        "Second-order runs only: rate of hazard <id> drawn for this replication's parameter set.",
    ),
]

EVENT_COLUMNS: list[Column] = [
    Column("replication", "int64", "", "Replication index."),
    Column(
        "event",
        "int64",
        "",
        "Event number within the replication (shared by common-cause records).",
    ),
    Column("hazard", "string", "", "Hazard id, or the scripted event id."),
    Column("asset", "string", "", "Asset hit."),
    Column("asset_kind", "string", "", "source, pipeline, terminal or shuttle."),
    Column("cause", "string", "", "Cause class (weather, technical, military, ...)."),
    Column("start_day", "float64", "days", "Start, days since the run's start date."),
    Column("start_date", "string", "", "Start as an ISO calendar date."),
    Column("duration_days", "float64", "days", "Duration of the outage itself."),
    Column("recovery_days", "float64", "days", "Ramp-up after the outage (sources)."),
    Column(
        "capacity_lost",
        "float64",
        "fraction",
        "Share of capacity or production lost (0 when berths_lost is used).",
    ),
    Column(
        "berths_lost",
        "int64",
        "",
        "Berths the event keeps out of service (its demand; 1 for a per-berth hazard, 0 when not "
        "effective); it takes berths as they come back from other outages while it lasts.",
    ),
    Column("effective", "bool", "", "False when the event happened but removed nothing."),
    Column("scripted", "bool", "", "True for dated events from the config."),
    Column(
        "volume_lost_mt",
        "float64",
        "Mt",
        "Shut-in during the event window (start to end of recovery).",
    ),
    Column(
        "volume_deferred_mt",
        "float64",
        "Mt",
        "Export shortfall in the window that was stored, not shut in.",
    ),
    Column(
        "revenue_lost_usd", "float64", "USD", "volume_lost_mt valued at the twin's mean netback."
    ),
    Column(
        "blocked_mt",
        "float64",
        "Mt",
        "Offset ledger over the event window: export shortfall on corridors that carried less.",
    ),
    Column(
        "offset_routes_mt",
        "float64",
        "Mt",
        "Absorbed by corridors that carried more than the twin.",
    ),
    Column(
        "offset_storage_mt",
        "float64",
        "Mt",
        "Absorbed by extra oil held in storages and on tankers.",
    ),
    Column(
        "offset_shut_in_mt", "float64", "Mt", "Not produced; blocked = routes + storage + shut_in."
    ),
    Column(
        "time_to_survive_days",
        "float64",
        "days",
        "Days from the start until congestion shut-in began (NaN: none in the window).",
    ),
    Column(
        "peak_shortfall_mt_per_day",
        "float64",
        "Mt/day",
        "Largest export rate below the twin's in the window.",
    ),
    Column(
        "time_to_recover_days",
        "float64",
        "days",
        "Days from the start until capacity is back, shut-in has stopped and buffers hold no more than the twin; system-wide, so overlapping events extend it (NaN: not within the horizon).",
    ),
]

TIMESERIES_FAMILIES: list[Column] = [
    Column("day", "int64", "", "Day index."),
    Column("date", "string", "", "Calendar date."),
    Column("flow_mt", "float64", "Mt/day", "Mean daily flow through link <id>."),
    Column("capacity_mt", "float64", "Mt/day", "Capacity of link <id> at the start of the day."),
    Column("level_mt", "float64", "Mt", "Level of storage <id> at the end of the day."),
    Column("shut_in_mt", "float64", "Mt/day", "Production not produced that day."),
]


# Loss tables (sim.analysis.losses). ``measure`` is "revenue_usd" (paired revenue loss, USD) or
# "volume_mt" (paired production not produced, Mt); ``curve`` is "AEP" or "OEP".

YLT_COLUMNS: list[Column] = [
    Column("replication", "int64", "", "Replication index."),
    Column("year", "int64", "", "Year of the horizon (0-based; anniversaries of the start date)."),
    Column(
        "days",
        "float64",
        "days",
        "Length of this year of the horizon (shorter when the horizon is not whole years; "
        "NaN when the horizon was not given).",
    ),
    Column("loss_usd", "float64", "USD", "Paired revenue loss in the year (twin minus run)."),
    Column(
        "volume_lost_mt",
        "float64",
        "Mt",
        "Production not produced in the year, minus the twin's (paired volume lost).",
    ),
    Column(
        "max_event_loss_usd",
        "float64",
        "USD",
        "Largest revenue loss allocated to one event in the year (0 without events): the OEP loss.",
    ),
    Column(
        "max_event_volume_lost_mt",
        "float64",
        "Mt",
        "Largest volume lost allocated to one event in the year (0 without events).",
    ),
    Column("n_events", "int64", "", "Events with an ELT row in the year."),
]

ELT_COLUMNS: list[Column] = [
    Column("replication", "int64", "", "Replication index."),
    Column(
        "year",
        "int64",
        "",
        "Year of the horizon; an event whose window spans years has one row per year.",
    ),
    Column(
        "event", "int64", "", "Event number within the replication (common-cause records merged)."
    ),
    Column("hazard", "string", "", "Hazard id, or the scripted event id."),
    Column("cause", "string", "", "Cause class (weather, technical, military, ...)."),
    Column("assets", "string", "", "Assets hit, comma-separated and sorted."),
    Column("start_day", "float64", "days", "Start, days since the run's start date."),
    Column("end_day", "float64", "days", "End of the window: start + duration + recovery."),
    Column("duration_days", "float64", "days", "Duration of the outage (longest record)."),
    Column(
        "window_loss_usd",
        "float64",
        "USD",
        "Shut-in in the event's window valued at the twin's mean netback (windows of "
        "overlapping events overlap).",
    ),
    Column("window_volume_lost_mt", "float64", "Mt", "Paired shut-in measured over the window."),
    Column(
        "window_volume_deferred_mt",
        "float64",
        "Mt",
        "Export shortfall in the window that was stored, not shut in.",
    ),
    Column(
        "loss_usd",
        "float64",
        "USD",
        "The year's revenue loss allocated to the event, in proportion to window losses "
        "(the part in the year); a year's rows add up to its YLT loss.",
    ),
    Column(
        "volume_lost_mt",
        "float64",
        "Mt",
        "The year's volume lost allocated with the same shares; rows add up to the YLT volume.",
    ),
]

EP_CURVE_COLUMNS: list[Column] = [
    Column("measure", "string", "", "revenue_usd or volume_mt."),
    Column("curve", "string", "", "AEP (annual total) or OEP (largest event of the year)."),
    Column(
        "exceedance_probability",
        "float64",
        "1/yr",
        "Share of simulated years with a loss at least this large (rank / years).",
    ),
    Column("return_period", "float64", "years", "1 / exceedance_probability."),
    Column("loss", "float64", "USD or Mt", "Loss of this rank (largest first)."),
    Column("loss_low", "float64", "USD or Mt", "Lower end of the 90% order-statistic band."),
    Column("loss_high", "float64", "USD or Mt", "Upper end of the 90% order-statistic band."),
    Column("tvar", "float64", "USD or Mt", "Mean of the losses at or above this one (TVaR)."),
]

RETURN_PERIOD_COLUMNS: list[Column] = [
    Column("measure", "string", "", "revenue_usd or volume_mt."),
    Column("curve", "string", "", "AEP or OEP."),
    Column(
        "return_period",
        "int64",
        "years",
        "Return period: 5, 10, 25, 50, 100 and 250 unless chosen (`losses --return-periods`).",
    ),
    Column(
        "loss",
        "float64",
        "USD or Mt",
        "Loss read off the exceedance curve (linear in return period between ranks).",
    ),
    Column("tvar", "float64", "USD or Mt", "Mean loss of the years at or beyond it (TVaR)."),
    Column(
        "extrapolated",
        "bool",
        "",
        "True when the return period exceeds the simulated years: loss and tvar are then the "
        "largest simulated loss, a lower bound.",
    ),
]

AAL_COLUMNS: list[Column] = [
    Column("measure", "string", "", "revenue_usd or volume_mt."),
    Column("aal", "float64", "USD or Mt per year", "Average annual loss."),
    Column(
        "se",
        "float64",
        "USD or Mt per year",
        "Standard error of the AAL (between replications, so years of one replication may be "
        "correlated).",
    ),
    Column("ci95_low", "float64", "USD or Mt per year", "aal - 1.96 se."),
    Column("ci95_high", "float64", "USD or Mt per year", "aal + 1.96 se."),
    Column("pml_100", "float64", "USD or Mt", "Probable maximum loss: the 100-year AEP loss."),
    Column("pml_250", "float64", "USD or Mt", "The 250-year AEP loss."),
    Column("replications", "int64", "", "Replications."),
    Column("years", "int64", "", "Replication-years (YLT rows)."),
]

CONVERGENCE_COLUMNS: list[Column] = [
    Column("measure", "string", "", "revenue_usd or volume_mt."),
    Column("replications", "int64", "", "First n replications (by index)."),
    Column("mean", "float64", "USD or Mt per year", "AAL of the first n replications."),
    Column("ci95_low", "float64", "USD or Mt per year", "Lower end of its 95% CI."),
    Column("ci95_high", "float64", "USD or Mt per year", "Upper end of its 95% CI."),
    Column("ci95_half", "float64", "USD or Mt per year", "Half-width of the 95% CI."),
    Column("rel_ci95_half", "float64", "fraction", "ci95_half / |mean|."),
]

RESILIENCE_COLUMNS: list[Column] = [
    Column("hazard", "string", "", "Hazard id, or the scripted event id."),
    Column("cause", "string", "", "Cause class."),
    Column("events", "int64", "", "Effective events (common-cause records merged)."),
    Column("events_per_year", "float64", "1/yr", "Events per simulated year."),
    Column(
        "share_with_shut_in",
        "float64",
        "fraction",
        "Share of events during which congestion shut-in began (buffers ran out).",
    ),
    Column(
        "time_to_survive_median_days",
        "float64",
        "days",
        "Median time from the start to the first shut-in, over events with shut-in.",
    ),
    Column(
        "time_to_recover_median_days",
        "float64",
        "days",
        "Median time from the start until capacity, production and buffers are back.",
    ),
    Column("time_to_recover_p90_days", "float64", "days", "90th percentile of the same."),
    Column(
        "share_not_recovered",
        "float64",
        "fraction",
        "Share of events not recovered within the horizon (left out of the times above).",
    ),
    Column(
        "peak_shortfall_mean_mt_per_day",
        "float64",
        "Mt/day",
        "Mean over events of the largest export rate below the twin's.",
    ),
    Column("blocked_mean_mt", "float64", "Mt", "Mean export shortfall on blocked corridors."),
    Column("offset_routes_share", "float64", "fraction", "Share of it other corridors carried."),
    Column("offset_storage_share", "float64", "fraction", "Share held in storage and tankers."),
    Column("offset_shut_in_share", "float64", "fraction", "Share not produced."),
]

LEDGER_COLUMNS: list[Column] = [
    Column(
        "item",
        "string",
        "",
        "blocked, its three destinations, or a corridor's signed change of exports.",
    ),
    Column("mean_mt_per_year", "float64", "Mt/yr", "Mean over replications, per year."),
    Column("ci95_half_mt_per_year", "float64", "Mt/yr", "Half-width of its 95% CI."),
    Column("share_of_blocked", "float64", "fraction", "mean / mean blocked volume."),
]

TABLES: dict[str, list[Column]] = {
    "replications": REPLICATION_COLUMNS,
    "replications (families: <name>.<id>)": REPLICATION_FAMILIES,
    "events": EVENT_COLUMNS,
    "timeseries (families: <name>.<id>)": TIMESERIES_FAMILIES,
    "ylt (year loss table)": YLT_COLUMNS,
    "elt (event loss table)": ELT_COLUMNS,
    "aal (average annual loss and PML)": AAL_COLUMNS,
    "ep curves (aep.csv, oep.csv)": EP_CURVE_COLUMNS,
    "return_periods": RETURN_PERIOD_COLUMNS,
    "convergence": CONVERGENCE_COLUMNS,
    "resilience by hazard": RESILIENCE_COLUMNS,
    "offset ledger": LEDGER_COLUMNS,
}


def _declared(name: str) -> Column | None:
    """Return the declaration of a replication or event column (``family.<id>`` too), if any."""
    base = name.split(".", 1)[0]
    pools = (REPLICATION_FAMILIES,) if "." in name else (REPLICATION_COLUMNS, EVENT_COLUMNS)
    for pool in pools:
        for c in pool:
            if c.name == base:
                return c
    return None


def unit_of(name: str) -> str:
    """Return the unit of a replication or event column (also ``family.<id>``; "" if unknown)."""
    c = _declared(name)
    return c.unit if c is not None else ""


def adverse_tail(name: str) -> str:
    """Return the tail of a replication column where bad outcomes lie: "high" or "low".

    Undeclared columns get "high" (the convention for losses).
    """
    c = _declared(name)
    return c.adverse if c is not None else "high"


DISPLAY_UNITS: dict[str, tuple[float, str, int]] = {
    "USD": (1e6, "USD m", 1),
    "Mt": (1.0, "Mt", 2),
    "Mt/yr": (1.0, "Mt/yr", 2),
    "Mt/day": (1.0, "Mt/day", 3),
    "days": (1.0, "days", 1),
    "h": (1.0, "h", 1),
    "%": (1.0, "%", 1),
    "fraction": (1.0, "share", 3),
    "1/yr": (1.0, "1/yr", 2),
    "": (1.0, "", 1),
}
"""Printed tables: declared unit -> (divisor, unit shown, decimals). One format per unit."""


UNIT_WORDS: dict[str, str] = {"USD m": "USD million"}
"""Unit shown -> the words used for it on figure axes and in sentences."""

HEADLINE_METRICS = (
    "revenue_loss_usd",
    "twin_revenue_usd",
    "shut_in_mt",
    "exported_mt",
    "deferred_mt",
    "shut_in_days",
    "n_events",
)
"""Replication metrics a run's summary shows first (the CLI summary and the HTML report)."""


def unit_display(unit: str) -> tuple[float, str, int]:
    """Return how values of a declared unit are shown: divisor, unit shown and decimals.

    The one display scale of every table and figure (:data:`DISPLAY_UNITS`; USD in millions);
    units not in the table are shown as they are, with two decimals.
    """
    return DISPLAY_UNITS.get(unit, (1.0, unit, 2))


def display_unit(name: str) -> tuple[float, str, int]:
    """Return how a replication column is printed: divisor, unit shown and decimals.

    Values are divided by the divisor and printed with thousands separators and the given
    decimals (e.g. USD in millions with one decimal), so a table shows one format per unit.
    """
    return unit_display(unit_of(name))


def unit_scale(unit: str) -> tuple[float, str]:
    """Return the divisor and the short label of a declared unit (``"USD"``: 1e6, "USD m")."""
    divisor, shown, _ = unit_display(unit)
    return divisor, shown


def unit_words(unit: str) -> tuple[float, str]:
    """Return the divisor and the label in words of a declared unit ("USD": 1e6, "USD million").

    Units without words of their own keep their declared name (``"fraction"``, ``"Mt"``).
    """
    divisor, shown, _ = unit_display(unit)
    return divisor, UNIT_WORDS.get(shown, unit)


def metric_scale(name: str) -> tuple[float, str]:
    """Return the divisor and label in words of a replication column (USD shown in millions)."""
    return unit_words(unit_of(name))


def _meaning(c: Column) -> str:
    if c.adverse == "low":
        return f"{c.description} Less is worse: VaR and CVaR are on the low tail."
    return c.description


def markdown() -> str:
    """Render every table's columns as Markdown (the body of ``docs/background/outputs.md``)."""
    out = [
        "# Output columns",
        "",
        "Generated from `sim/base/columns.py` by",
        "`python -m sim.base.columns > docs/background/outputs.md`;",
        "`tests/unit/base/test_columns_doc.py` checks it is current. In `summary.json`, VaR and CVaR",
        "are taken on the high tail (the worst replications of a loss), except for columns",
        'marked "less is worse", where they are taken on the low tail.',
    ]
    for title, cols in TABLES.items():
        out += [
            "",
            f"## {title}",
            "",
            "| column | dtype | unit | meaning |",
            "| --- | --- | --- | --- |",
        ]
        out += [f"| `{c.name}` | {c.dtype} | {c.unit} | {_meaning(c)} |" for c in cols]
    return "\n".join(out) + "\n"


def dtypes(columns: list[Column]) -> dict[str, str]:
    """Map column name to pandas dtype."""
    return {c.name: c.dtype for c in columns}


def family_dtype(name: str) -> str:
    """Dtype of a replication column, including ``family.<id>`` columns."""
    base = name.split(".", 1)[0]
    for c in REPLICATION_COLUMNS if "." not in name else REPLICATION_FAMILIES:
        if c.name == base:
            return c.dtype
    return "float64"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
