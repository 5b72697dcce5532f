"""Values that several parts of the provider share: statuses, modes, defaults.

Config, the DAG factory, the operators, the trigger DAG and the dashboard all import them from here,
so a new status or mode is added in one place. Which status a table gets is decided by
``include/sql/decide_status.sql``; this module only names them.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SOURCE_CONN_ID = "migration_source"
DEFAULT_TARGET_CONN_ID = "migration_target"
DEFAULT_STORE_SCHEMA = "migration"
DAG_ID_PREFIX = "migration_audit__"


@dataclass(frozen=True)
class Status:
    """One audit status: its name, what it means, and how the dashboard draws it."""

    name: str
    meaning: str
    color: str


STATUS_INFO: tuple[Status, ...] = (
    # Display order: the good news first, then what needs work, then what is only informational.
    Status("complete", "source and target counts (and fingerprints, when taken) agree", "#2e7d32"),
    Status("partial", "source > target > 0", "#f9a825"),
    Status("overload", "source < target (e.g. a batch loaded twice)", "#ef6c00"),
    Status("reject", "the target has 0 rows while the source has some", "#c62828"),
    Status("mismatch", "counts agree, content differs (fingerprints)", "#ad1457"),
    Status("missing", "no such table on the target", "#6a1b9a"),
    Status("drift", "the columns differ (name, type, size or nullability): needs a DDL fix", "#0277bd"),
    Status("pending", "registered by init, not compared yet", "#78909c"),
    Status("dropped", "the table is gone from the source (kept, never deleted)", "#455a64"),
)
STATUSES: tuple[str, ...] = tuple(s.name for s in STATUS_INFO)
"""Every status the audit store can hold, in display order."""
STATUS_COLORS: dict[str, str] = {s.name: s.color for s in STATUS_INFO}

RERUN_STATUSES: tuple[str, ...] = ("reject", "mismatch")
"""Statuses the reject rerun copies again by default (``partial``/``overload`` on request)."""
NEVER_RERUN: tuple[str, ...] = ("drift",)
"""Statuses a rerun never copies, whatever it is asked: the table's columns need a DDL fix first."""
NEEDS_DDL: tuple[str, ...] = ("missing", "drift")
"""Statuses the data run does not copy, full reload or not: the target table must be created (``missing``)
or its columns fixed (``drift``) first; the refresh after the fix finds it, and the rerun copies it."""
IGNORED_BY_CHECK: tuple[str, ...] = ("dropped",)
"""Statuses the end-of-run check does not count against completeness."""

FINGERPRINT_MODES: tuple[str, ...] = ("off", "new_complete", "small_and_new", "all")
"""``off``: counts only; ``new_complete``: tables that just turned complete (and mismatches until
fixed); ``small_and_new``: those, plus every complete table of at most ``fingerprint_all_below_rows``
rows on every refresh; ``all``: every table whose counts agree (``status.fingerprint_candidates``)."""
DEFAULT_FINGERPRINT_MODE = "small_and_new"
"""Why this default, with the measured cost: README.md, "Beyond row counts", and docs/fingerprints.md."""
DEFAULT_FINGERPRINT_ALL_BELOW_ROWS = 100_000
"""``small_and_new``: complete tables of at most this many rows are fingerprinted on every refresh."""

ON_INCOMPLETE: tuple[str, ...] = ("fail", "warn")
"""What the end-of-run check does when tables are not complete."""
DEFAULT_ON_INCOMPLETE = "fail"

DEFAULT_LEASE_TTL_SECONDS = 6 * 3600
"""Lifetime of a schema's lease from its take or last renewal (each task of the run renews it at its
start): a lease whose run's worker and teardown both died is taken over after this long. Longer
than the longest single task (a data run of the whole schema)."""
DEFAULT_LEASE_POKE_SECONDS = 60
"""How often a run waiting for a schema's lease asks again (reschedule mode: no worker slot held)."""
DEFAULT_LEASE_WAIT_SECONDS = 24 * 3600
"""How long a run waits for a schema's lease before it fails, naming the holder in its log."""

__all__ = [
    "DAG_ID_PREFIX",
    "DEFAULT_LEASE_POKE_SECONDS",
    "DEFAULT_LEASE_TTL_SECONDS",
    "DEFAULT_LEASE_WAIT_SECONDS",
    "DEFAULT_FINGERPRINT_ALL_BELOW_ROWS",
    "DEFAULT_FINGERPRINT_MODE",
    "DEFAULT_ON_INCOMPLETE",
    "DEFAULT_SOURCE_CONN_ID",
    "DEFAULT_STORE_SCHEMA",
    "DEFAULT_TARGET_CONN_ID",
    "FINGERPRINT_MODES",
    "IGNORED_BY_CHECK",
    "NEEDS_DDL",
    "NEVER_RERUN",
    "ON_INCOMPLETE",
    "RERUN_STATUSES",
    "STATUSES",
    "STATUS_COLORS",
    "STATUS_INFO",
    "Status",
]
