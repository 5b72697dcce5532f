"""What decides a table's status: three rules, in one place.

0. **Which tables the data run copies** (:func:`tables_to_copy`): those not ``complete``, changed
   in the source since the last audit (init has just recounted it, so their status says so), or
   never copied; every one with ``full_reload``.
1. **Which tables get their content compared** (:func:`fingerprint_candidates`): tables whose counts
   agree, and - in ``new_complete`` - only those that just turned complete or are a ``mismatch``
   still; the default ``small_and_new`` adds every one of at most ``fingerprint_all_below_rows`` rows
   (:class:`FingerprintRule`), ``all`` takes every one, ``off`` none.
2. **Which observed tables are re-decided** (:func:`staged_rows`): the merge of what a refresh saw
   into the stored row, and only rows whose inputs changed are staged; nothing else is written.
3. **The status itself**: ``include/sql/decide_status.sql``, a ``CASE`` read top to bottom (the
   first rule that holds wins), evaluated on the staged rows inside the database by each statement
   of the pass that writes or counts a status (the store embeds it: ``store._decide_status``).

The store (``store.py``) runs them in this order, under the schema's lock, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from migration_audit_provider.constants import (
    DEFAULT_FINGERPRINT_ALL_BELOW_ROWS,
    FINGERPRINT_MODES,
    NEEDS_DDL,
)
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.filters import FILTERED_COUNT_METHOD
from migration_audit_provider.records import AuditRow, Observation

DECIDE_STATUS = "decide_status"
"""The statement file of rule 3."""
COUNT_METHOD = "count(*)"


def needs_ddl(stored: Mapping[str, AuditRow]) -> list[str]:
    """The tables the data run leaves for a DDL fix (``NEEDS_DDL``), sorted."""
    return sorted(t for t, row in stored.items() if row.src_present and row.export_status in NEEDS_DDL)


def tables_to_copy(stored: Mapping[str, AuditRow], copied: Iterable[str], *, full_reload: bool) -> list[str]:
    """Rule 0: the tables present in the source that the data run copies, sorted.

    Run after init, whose fresh source counts have re-decided each status: a table whose source
    grew or shrank since the last audit is ``partial``/``overload`` by then, a new one ``pending``.
    Never a table in ``NEEDS_DDL`` (``missing``, ``drift``): no copy can fix it (see ``needs_ddl``).
    """
    done = set(copied)
    return sorted(
        table
        for table, row in stored.items()
        if row.src_present
        and row.export_status not in NEEDS_DDL
        and (full_reload or row.export_status != "complete" or table not in done)
    )


class FingerprintRule(str):
    """A fingerprint mode (the text itself, so it travels wherever a mode does) and its size bound.

    ``all_below_rows`` matters only to ``small_and_new``: complete tables of at most that many rows
    are fingerprinted on every refresh. Build it with :func:`fingerprint_rule`, which checks both.
    """

    all_below_rows: int

    def __new__(cls, mode: str, all_below_rows: int = DEFAULT_FINGERPRINT_ALL_BELOW_ROWS) -> FingerprintRule:
        rule = super().__new__(cls, mode)
        rule.all_below_rows = all_below_rows
        return rule


def fingerprint_rule(
    mode: object, all_below_rows: object = DEFAULT_FINGERPRINT_ALL_BELOW_ROWS
) -> FingerprintRule:
    """The checked rule; a bad mode or bound is refused here, before any SQL.

    ``all_below_rows`` is a non-negative integer, or its decimal text (a rendered template).
    """
    if mode not in FINGERPRINT_MODES:
        raise AuditInputError(f"fingerprint must be one of {FINGERPRINT_MODES}, got {mode!r}")
    bound = all_below_rows
    if isinstance(bound, str) and bound.strip().isdigit():
        bound = int(bound)
    if not isinstance(bound, int) or isinstance(bound, bool) or bound < 0:
        raise AuditInputError(
            f"fingerprint_all_below_rows must be a non-negative integer (rows), got {all_below_rows!r}"
        )
    return FingerprintRule(str(mode), bound)


def fingerprint_candidates(
    mode: str, stored: Mapping[str, AuditRow], src_counts: Mapping[str, int], tgt_counts: Mapping[str, int]
) -> list[str]:
    """Rule 1: the tables to fingerprint, sorted.

    A table "just turned complete" when its counts agree now and its stored status is not
    ``complete`` or its stored counts differ (a stored ``mismatch`` therefore stays a candidate
    until its content agrees). ``small_and_new`` also takes every table whose agreed count is at
    most ``mode.all_below_rows`` (a plain ``"small_and_new"`` text: the default bound), so a value
    changed later in a small complete table is seen on the next refresh.
    """
    if mode == "off":
        return []
    bound = (
        getattr(mode, "all_below_rows", DEFAULT_FINGERPRINT_ALL_BELOW_ROWS) if mode == "small_and_new" else -1
    )
    out = []
    for table, n in tgt_counts.items():
        if src_counts.get(table) != n:
            continue
        row = stored.get(table)
        fresh = (
            row is None or row.export_status != "complete" or (row.src_row_count, row.tgt_row_count) != (n, n)
        )
        if mode == "all" or fresh or n <= bound:
            out.append(table)
    return sorted(out)


def staged_rows(
    current: Mapping[str, AuditRow],
    observations: Iterable[Observation],
    *,
    force: bool,
    src_mark: datetime,
    tgt_mark: datetime,
) -> tuple[list[tuple], int]:
    """Rule 2: the stage rows (``records.STAGE_COLUMNS`` order) for observations that change a row.

    Merge rule, per side: an observation that looked (``*_present`` not None) replaces presence and
    count (no count when absent); one that did not look keeps the stored ones. A count that differs
    from the stored one is marked as taken in this pass (``*_counted_at`` gets the mark,
    ``count_method`` is set); anything else keeps its stored time and method (NULL in the stage).
    Fingerprints: new ones replace the stored pair; without new ones, a count change drops the stored
    pair (it described other rows), otherwise it is kept. Schema drift: a compared observation
    replaces the stored flag and difference, one that did not compare keeps them. A count taken under a
    row filter is marked ``count(*) where``. A row whose merged inputs equal the stored ones (and has a
    status) is left out unless ``force``. Each staged row carries the stored status (``old_status``,
    ``None`` for a table new to the audit) for the history.

    Returns the rows and how many of them are tables new to the audit.
    """
    staged: list[tuple] = []
    new_tables = 0
    empty = AuditRow("", "")
    get = current.get
    for obs in observations:
        old = get(obs.table)
        if old is not None and not force and old.export_status and _unchanged(obs, old):
            continue  # the common case, decided without building the merged row
        was = old or empty
        sp, sc, src_counted = _side(obs.src_present, obs.src_row_count, was.src_present, was.src_row_count)
        tp, tc, tgt_counted = _side(obs.tgt_present, obs.tgt_row_count, was.tgt_present, was.tgt_row_count)
        sf, tf = _fingerprints(obs, was, same_counts=(sc, tc) == (was.src_row_count, was.tgt_row_count))
        drift, diff = (
            (was.schema_drift, was.schema_diff)  # columns not compared: keep what is stored
            if obs.schema_drift is None
            else (obs.schema_drift, obs.schema_diff)
        )
        merged = (sc, tc, sf, tf, sp, tp, bool(drift), diff)
        if merged == _stored_inputs(was) and was.export_status and not force:
            continue
        new_tables += old is None
        method = FILTERED_COUNT_METHOD if obs.filtered else COUNT_METHOD
        staged.append(
            (
                obs.table,
                was.export_status if old is not None else None,
                sp,
                sc,
                tp,
                tc,
                src_mark if src_counted else None,
                tgt_mark if tgt_counted else None,
                method if src_counted or tgt_counted else None,
                sf,
                tf,
                bool(drift),
                diff,
            )
        )
    return staged, new_tables


def _unchanged(obs: Observation, old: AuditRow) -> bool:
    """The merge of ``obs`` into ``old`` gives ``old``'s inputs back (the rule of :func:`staged_rows`,
    written out for a refresh where nearly every table is unchanged: no merged row is built)."""
    present = obs.src_present
    if present is not None:
        if bool(present) != old.src_present or (obs.src_row_count if present else None) != old.src_row_count:
            return False
    present = obs.tgt_present
    if present is not None:
        if bool(present) != old.tgt_present or (obs.tgt_row_count if present else None) != old.tgt_row_count:
            return False
    # Counts and presence equal: without new fingerprints the stored pair is kept.
    if obs.src_fingerprint is not None and (
        obs.src_fingerprint != old.src_fingerprint or obs.tgt_fingerprint != old.tgt_fingerprint
    ):
        return False
    if obs.schema_drift is not None and (
        bool(obs.schema_drift) != bool(old.schema_drift) or obs.schema_diff != old.schema_diff
    ):
        return False
    return True


def _fingerprints(obs: Observation, was: AuditRow, *, same_counts: bool) -> tuple[str | None, str | None]:
    """New fingerprints replace the stored pair; a count change drops it; otherwise it is kept."""
    if obs.src_fingerprint is not None:
        return obs.src_fingerprint, obs.tgt_fingerprint
    if same_counts:
        return was.src_fingerprint, was.tgt_fingerprint
    return None, None


def _stored_inputs(was: AuditRow) -> tuple:
    """The stored row's inputs, in the order ``staged_rows`` compares them."""
    return (
        was.src_row_count,
        was.tgt_row_count,
        was.src_fingerprint,
        was.tgt_fingerprint,
        was.src_present,
        was.tgt_present,
        bool(was.schema_drift),
        was.schema_diff,
    )


def _side(
    present: bool | None, count: int | None, old_present: bool | None, old_count: int | None
) -> tuple[bool | None, int | None, bool]:
    """One side's merged ``(present, count, counted in this pass)``."""
    if present is None:
        return old_present, old_count, False
    present = bool(present)
    merged = count if present else None
    return present, merged, count is not None and count != old_count
