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
    """One column of an output table."""

    name: str
    dtype: str
    unit: str
    description: str


REPLICATION_COLUMNS: list[Column] = [
    Column(
        "replication",
        "int64",
        "",
        "Replication index (0-based); with the root seed it fixes every draw.",
    ),
    Column("exported_mt", "float64", "Mt", "Oil delivered to markets over the horizon."),
    Column(
        "potential_mt", "float64", "Mt", "Production the sources could have delivered undisturbed."
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
    ),
    Column(
        "twin_revenue_usd",
        "float64",
        "USD",
        "Revenue of the undisrupted twin on the same price path.",
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
    Column("exported_mt", "float64", "Mt", "Oil delivered on route <id>."),
    Column("throughput_mt", "float64", "Mt/yr", "Oil through asset <id>, per year of horizon."),
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
        "offset_mt",
        "float64",
        "Mt",
        "Signed change of exports vs the twin on corridor <id> (last link to market).",
    ),
    Column(
        "offset_mt",
        "float64",
        "Mt",
        "Signed change of exports vs the twin on corridor <id> (last link to market).",
    ),
    Column("regime_days", "float64", "days", "Days of the horizon spent in regime <id>."),
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
    Column("berths_lost", "int64", "", "Berths taken out of service."),
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
