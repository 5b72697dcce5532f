"""The dashboard's HTML: plain server-rendered pages, inline CSS and SVG, no script, no external asset.

Every value from the audit store (schema and table names, run ids, errors) goes through
:func:`html.escape` on its way into the page, and through :func:`urllib.parse.quote` on its way into
a URL.

Links into the Airflow UI (a DAG, a DAG run) are plain links, marked ``data-airflow``. Opened on its
own, the dashboard simply goes there. Inside the UI, Airflow 3.3 shows external views in an iframe
sandboxed *without* ``allow-top-navigation`` or ``allow-popups``: ``target="_top"`` would be silently
blocked, and a plain link would open the whole UI again inside the frame. The frame is same-origin,
though, so the one small script of the pages (:data:`SCRIPT`, allowed by its hash in the CSP) hands
such a click to the UI's own router instead: ``history.pushState`` in the UI's window and a
``popstate`` event, which is how a single-page app is told to show another address. Without script,
or if the UI's window cannot be reached, the link still works (in the frame).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlencode

from migration_audit_provider.plugins.charts import stacked_bars
from migration_audit_provider.plugins.drift_detail import SchemaDifference
from migration_audit_provider.plugins.queries import (
    HistoryEvent,
    SchemaSummary,
    TableDetail,
    TableRow,
    TimelinePoint,
    legend_statuses,
    status_color,
    status_meaning,
)

STYLE = """
:root { color-scheme: light dark; --fg: #1a202c; --muted: #5a6473; --bg: #ffffff; --panel: #f6f8fa;
  --line: #d8dee4; --link: #1d63c7; --bad: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ee; --muted: #9aa4b2; --bg: #111318;
  --panel: #1b1e25; --line: #2e333d; --link: #7fb0ff; --bad: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--link); text-decoration: none; } a:hover { text-decoration: underline; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.crumbs { color: var(--muted); margin-bottom: 12px; } .crumbs a { color: var(--muted); }
.muted { color: var(--muted); fill: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  min-width: 150px; }
.card .v { font-size: 20px; font-weight: 600; } .card .k { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { display: flex; height: 14px; min-width: 220px; border-radius: 4px; overflow: hidden;
  background: var(--line); }
.bar .seg { display: block; height: 100%; }
.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 4px 12px;
  font-size: 12px; }
.statuses { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0;
  font-size: 12px; }
.statuses dd { margin: 0; color: var(--muted); }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; color: #fff; font-size: 12px;
  font-weight: 600; white-space: nowrap; }
.pills a, .pills span { display: inline-block; margin: 0 6px 6px 0; padding: 2px 10px; border-radius: 12px;
  border: 1px solid var(--line); }
.pills .on { background: var(--panel); font-weight: 600; }
.err { color: var(--bad); white-space: pre-wrap; word-break: break-word; max-width: 420px; }
pre.err { max-width: none; background: var(--panel); padding: 8px; border-radius: 6px; }
svg.chart { max-width: 900px; display: block; }
svg .grid { stroke: var(--line); stroke-width: 1; } svg .baseline { stroke: var(--muted); }
svg .axis { fill: var(--muted); font-size: 11px; }
.pager { margin-top: 10px; display: flex; gap: 12px; align-items: center; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
.drift { margin-top: 4px; font-size: 12px; max-width: 360px; word-break: break-word; }
.drift.allowed { color: var(--muted); }
table.schema-diff { width: auto; margin-bottom: 12px; }
table.schema-diff code { white-space: pre-wrap; word-break: break-word; }
tr[data-allowed="yes"] td { color: var(--muted); }
.drift-event { margin: 12px 0 4px; }
"""

SCRIPT = """
if (window.parent !== window) {
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-airflow]") : null;
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    try {
      var ui = window.parent;
      if (ui.location.origin !== window.location.origin) { return; }
      ui.history.pushState(null, "", link.getAttribute("href"));
      ui.dispatchEvent(new PopStateEvent("popstate", { state: null }));
      event.preventDefault();
    } catch (error) {
      /* the UI's window is out of reach: the link opens in the frame */
    }
  });
}
"""
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
"""The Content-Security-Policy source that allows :data:`SCRIPT` and no other script."""

DASH = "\u2014"


@dataclass(frozen=True)
class Links:
    """Where things are: the dashboard's own pages (under ``base``) and the Airflow UI (``airflow``)."""

    base: str
    airflow: str = "/"

    def home(self) -> str:
        return f"{self.base}/"

    def schema(self, schema: str, *, status: str = "", page: int = 1) -> str:
        query = {k: v for k, v in (("status", status), ("page", page if page > 1 else "")) if v}
        url = f"{self.base}/schemas/{quote(schema, safe='')}"
        return f"{url}?{urlencode(query)}" if query else url

    def table(self, schema: str, table: str) -> str:
        return f"{self.base}/schemas/{quote(schema, safe='')}/tables/{quote(table, safe='')}"

    def dag(self, dag_id: str) -> str:
        return f"{self.airflow}dags/{quote(dag_id, safe='')}"

    def run(self, dag_id: str, run_id: str) -> str:
        return f"{self.airflow}dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def num(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def rate(value: float | None) -> str:
    return DASH if value is None else f"{value:,.0f}"


def percent(part: int, whole: int) -> str:
    if not whole:
        return DASH
    share = 100 * part / whole
    return f"{share:.1f}%" if share < 100 or part == whole else "99.9%"


def text(value: object) -> str:
    return DASH if value is None or value == "" else escape(str(value))


def badge(status: str) -> str:
    return (
        f'<span class="badge" style="background:{status_color(status)}" data-status="{escape(status)}" '
        f'title="{escape(status_meaning(status))}">{escape(status)}</span>'
    )


def run_link(links: Links, dag_id: str | None, run_id: str | None) -> str:
    """A link to the run in the Airflow UI; only the run id when no configured DAG audits the schema."""
    if not run_id:
        return DASH
    if dag_id is None:
        return f'<span class="run" title="No configured DAG audits this schema">{escape(run_id)}</span>'
    href = links.run(dag_id, run_id)
    return f'<a class="run" data-airflow href="{escape(href)}" title="Open the DAG run">{escape(run_id)}</a>'


def dag_link(links: Links, dag_id: str | None) -> str:
    if dag_id is None:
        return '<span class="dag muted" title="No DAG in the settings file audits this schema">none</span>'
    return f'<a class="dag" data-airflow href="{escape(links.dag(dag_id))}">{escape(dag_id)}</a>'


def status_legend(statuses: Sequence[str]) -> str:
    """Every status with its colour and meaning (``constants.STATUS_INFO``)."""
    items = "".join(
        f'<dt data-status="{escape(st)}"><span class="sw" style="background:{status_color(st)}"></span>'
        f'{escape(st)}</dt><dd data-status="{escape(st)}">{escape(status_meaning(st))}</dd>'
        for st in statuses
    )
    return f'<dl class="statuses" id="status-legend">{items}</dl>'


def page(title: str, body: str, crumbs: Sequence[tuple[str, str | None]] = ()) -> str:
    trail = " / ".join(
        f'<a href="{escape(href)}">{escape(label)}</a>' if href else escape(label) for label, href in crumbs
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<nav class="crumbs">{trail}</nav>{body}<script>{SCRIPT}</script></body></html>'
    )


def status_bar(summary: SchemaSummary, links: Links) -> str:
    """The stacked bar of one schema (each segment links to the tables of that status) and its legend."""
    total = summary.tables or 1
    segments, legend = [], []
    for status, n in summary.ordered().items():
        href = escape(links.schema(summary.schema, status=status))
        tip = escape(f"{status}: {n:,} of {summary.tables:,} tables ({status_meaning(status)})")
        segments.append(
            f'<a class="seg" href="{href}" title="{tip}" data-status="{escape(status)}" data-count="{n}" '
            f'style="width:{100 * n / total:.4f}%;background:{status_color(status)}"></a>'
        )
        legend.append(
            f'<li data-status="{escape(status)}" title="{escape(status_meaning(status))}">'
            f'<span class="sw" style="background:{status_color(status)}">'
            f'</span><a href="{href}">{escape(status)}</a> <b class="n">{n:,}</b></li>'
        )
    return (
        f'<div class="bar" role="img" aria-label="{escape(summary.schema)}: tables by status">'
        f'{"".join(segments)}</div><ul class="legend">{"".join(legend)}</ul>'
    )


def rows_cell(summary: SchemaSummary) -> str:
    return (
        f'<span class="rows-migrated">{summary.rows_migrated:,}</span> of '
        f'<span class="rows-expected">{summary.rows_expected:,}</span> '
        f'<span class="muted">({percent(summary.rows_migrated, summary.rows_expected)})</span>'
    )


# -- pages -----------------------------------------------------------------------------------------
def overview_page(
    links: Links,
    summaries: Sequence[SchemaSummary],
    timeline: Sequence[TimelinePoint],
    store: str,
    dags_source: str = "",
) -> str:
    tables = sum(s.tables for s in summaries)
    complete = sum(s.by_status.get("complete", 0) for s in summaries)
    expected = sum(s.rows_expected for s in summaries)
    migrated = sum(s.rows_migrated for s in summaries)
    cards = (
        '<div class="cards">'
        f'<div class="card"><div class="v" id="total-schemas">{len(summaries):,}</div>'
        '<div class="k">schemas</div></div>'
        f'<div class="card"><div class="v" id="total-tables">{tables:,}</div>'
        '<div class="k">tables</div></div>'
        f'<div class="card"><div class="v" id="total-complete">{complete:,}</div>'
        f'<div class="k">complete ({percent(complete, tables)})</div></div>'
        f'<div class="card"><div class="v" id="total-rows-migrated">{migrated:,}</div>'
        f'<div class="k">rows migrated of {expected:,} expected ({percent(migrated, expected)})</div></div>'
        "</div>"
    )
    rows = []
    for s in summaries:
        rows.append(
            f'<tr data-schema="{escape(s.schema)}">'
            f'<td><a class="schema" href="{escape(links.schema(s.schema))}">{escape(s.schema)}</a></td>'
            f'<td class="num" data-field="tables">{s.tables:,}</td>'
            f"<td>{status_bar(s, links)}</td>"
            f'<td class="num" data-field="rows">{rows_cell(s)}</td>'
            f'<td data-field="last-update">{text(s.last_update)}</td>'
            f'<td data-field="dag">{dag_link(links, s.dag_id)}</td></tr>'
        )
    listing = (
        '<table id="schemas"><thead><tr><th>Schema</th><th class="num">Tables</th><th>Status</th>'
        '<th class="num">Rows migrated of expected</th><th>Last change (UTC)</th><th>DAG</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="muted" id="empty">No audited schemas yet: run an audit DAG first.</p>'
    )
    body = (
        f'<h1>Migration audit</h1><div class="muted">Audit store: {escape(store)}'
        + (f" \u00b7 DAGs: {escape(dags_source)}" if dags_source else "")
        + f"</div>{cards}<h2>Schemas</h2>{listing}"
        f"<h2>Statuses</h2>{status_legend(legend_statuses(summaries))}"
        "<h2>Tables by status at the end of each day (all schemas)</h2>"
        + stacked_bars(timeline, title="Tables by status at the end of each day")
    )
    return page("Migration audit", body, [("Migration audit", None)])


def schema_page(
    links: Links,
    summary: SchemaSummary,
    tables: Sequence[TableRow],
    timeline: Sequence[TimelinePoint],
    *,
    status: str,
    page_no: int,
    page_size: int,
) -> str:
    s = summary
    shown_total = s.by_status.get(status, 0) if status else s.tables
    last_page = max(1, -(-shown_total // page_size))
    pills = [
        f'<a class="{"on" if not status else ""}" href="{escape(links.schema(s.schema))}">'
        f"all <b>{s.tables:,}</b></a>"
    ]
    for st, n in s.ordered().items():
        cls = "on" if st == status else ""
        pills.append(
            f'<a class="{cls}" data-status="{escape(st)}" href="{escape(links.schema(s.schema, status=st))}">'
            f"{escape(st)} <b>{n:,}</b></a>"
        )
    rows = [table_row(links, s.schema, s.dag_id, t) for t in tables]
    listing = (
        '<table id="tables"><thead><tr><th>Table</th><th>Status</th><th class="num">Source rows</th>'
        '<th class="num">Target rows</th><th class="num">Difference</th><th>Last status change</th>'
        '<th>Last copy</th><th class="num">Rows/s</th><th>Copy error</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="muted" id="empty">No tables with this status.</p>'
    )
    pager = ""
    if last_page > 1:
        prev_link = (
            f'<a rel="prev" href="{escape(links.schema(s.schema, status=status, page=page_no - 1))}">'
            "\u2190 previous</a>"
            if page_no > 1
            else ""
        )
        next_link = (
            f'<a rel="next" href="{escape(links.schema(s.schema, status=status, page=page_no + 1))}">'
            "next \u2192</a>"
            if page_no < last_page
            else ""
        )
        pager = f'<div class="pager">{prev_link}<span>page {page_no} of {last_page}</span>{next_link}</div>'
    body = (
        f'<h1 id="schema-name">{escape(s.schema)}</h1>'
        f'<div class="muted">DAG {dag_link(links, s.dag_id)}'
        f" \u00b7 last change {text(s.last_update)} UTC</div>"
        '<div class="cards">'
        f'<div class="card"><div class="v" id="schema-tables">{s.tables:,}</div>'
        '<div class="k">tables</div></div>'
        f'<div class="card"><div class="v" id="schema-complete">{s.by_status.get("complete", 0):,}</div>'
        f'<div class="k">complete ({percent(s.by_status.get("complete", 0), s.tables)})</div></div>'
        f'<div class="card"><div class="v">{rows_cell(s)}</div><div class="k">rows migrated of expected'
        f" \u00b7 target holds {s.rows_on_target:,}</div></div></div>"
        f"{status_bar(s, links)}"
        "<h2>Tables by status after each audit run</h2>"
        + stacked_bars(timeline, title=f"{s.schema}: tables by status after each audit run")
        + f'<h2>Tables</h2><div class="pills">{"".join(pills)}</div>{listing}{pager}'
        f"<h2>Statuses</h2>{status_legend(legend_statuses([s]))}"
    )
    return page(
        f"{s.schema} \u00b7 Migration audit", body, [("Migration audit", links.home()), (s.schema, None)]
    )


def table_row(links: Links, schema: str, dag_id: str | None, t: TableRow) -> str:
    diff = None if t.src_rows is None or t.tgt_rows is None else t.tgt_rows - t.src_rows
    change = DASH
    if t.changed_at:
        change = (
            f"{text(t.changed_from)} \u2192 {text(t.changed_to)}<br>"
            f'<span class="muted">{text(t.changed_at)}</span><br>{run_link(links, dag_id, t.changed_run_id)}'
        )
    copy, speed, error = DASH, DASH, ""
    if t.last_copy:
        c = t.last_copy
        copy = (
            f'<span class="method">{text(c.method)}</span> \u00b7 {num(c.rows_written)} rows'
            f' in {text(c.seconds)} s<br><span class="muted">{text(c.at)}</span>'
        )
        speed = rate(c.rows_per_second)
        error = f'<div class="err">{escape(_clip(c.error))}</div>' if c.error else ""
    return (
        f'<tr data-table="{escape(t.table)}">'
        f'<td><a class="table" href="{escape(links.table(schema, t.table))}">{escape(t.table)}</a></td>'
        f"<td>{badge(t.status)}{drift_note(t.schema_diff, t.status)}</td>"
        f'<td class="num" data-field="src">{num(t.src_rows)}</td>'
        f'<td class="num" data-field="tgt">{num(t.tgt_rows)}</td>'
        f'<td class="num" data-field="diff">{DASH if diff is None else f"{diff:+,}" if diff else "0"}</td>'
        f'<td data-field="change">{change}</td><td data-field="copy">{copy}</td>'
        f'<td class="num" data-field="rate">{speed}</td><td data-field="error">{error}</td></tr>'
    )


def table_page(links: Links, schema: str, t: TableDetail) -> str:
    facts = [
        ("Status", badge(t.status)),
        ("Source rows", f'<span id="src-rows">{num(t.src_rows)}</span>'),
        ("Target rows", f'<span id="tgt-rows">{num(t.tgt_rows)}</span>'),
        ("On the source", _yes_no(t.src_present)),
        ("On the target", _yes_no(t.tgt_present)),
        ("Source counted at", text(t.src_counted_at)),
        ("Target counted at", text(t.tgt_counted_at)),
        ("Count method", text(t.count_method)),
        ("Columns", _columns_fact(t.schema_diff, t.status)),
        ("Audited since", text(t.created_at)),
        ("Last change", text(t.updated_at)),
        ("DAG", dag_link(links, t.dag_id)),
        ("Last changed by run", run_link(links, t.dag_id, t.last_run_id)),
    ]
    change = t.last_change
    if change:
        facts.append(
            (
                "Last status change",
                f'<span id="last-change">{text(change.old_status)} \u2192 {text(change.new_status)}</span>'
                f" at {text(change.at)} by {run_link(links, t.dag_id, change.run_id)}",
            )
        )
    copy_html = '<p class="muted" id="no-copy">No copy recorded for this table.</p>'
    if t.last_copy:
        c = t.last_copy
        copy_html = (
            '<dl class="kv" id="last-copy">'
            f'<dt>Method</dt><dd class="method">{text(c.copy_method)}</dd>'
            f"<dt>At</dt><dd>{text(c.at)}</dd>"
            f'<dt>Rows read / written</dt><dd class="rows">{num(c.rows_read)} / {num(c.rows_written)}</dd>'
            f'<dt>Seconds</dt><dd class="seconds">{text(c.seconds)}</dd>'
            f'<dt>Rows per second</dt><dd class="rate">{rate(c.rows_per_second)}</dd>'
            f"<dt>Run</dt><dd>{run_link(links, t.dag_id, c.run_id)}</dd>"
            f"<dt>Task</dt><dd>{text(c.task_id)}</dd>"
            "<dt>Error</dt><dd>"
            + (f'<pre class="err">{escape(c.error)}</pre>' if c.error else DASH)
            + "</dd></dl>"
        )
    history = "".join(_history_row(links, t.dag_id, e) for e in t.history)
    drift_html = ""
    if t.schema_diff or t.status == "drift":
        drift_html = "<h2>Column differences</h2>" + (
            diff_table(t.schema_diff, table_id="schema-diff")
            if t.schema_diff
            else '<p class="muted" id="schema-diff">No column difference recorded for this table.</p>'
        )
    events = t.drift_events
    if events:
        drift_html += (
            '<h2>Column differences in the history <span class="muted">(when they appeared, changed or'
            ' went away)</span></h2><div id="drift-history">'
            + "".join(_drift_event(links, t.dag_id, e) for e in events)
            + "</div>"
        )
    body = (
        f'<h1 id="table-name">{escape(t.table)}</h1>'
        f'<div class="muted">schema {escape(schema)}</div><h2>Audit</h2><dl class="kv" id="facts">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts)
        + f"</dl>{drift_html}<h2>Last copy</h2>{copy_html}"
        f'<h2>History <span class="muted">(newest {len(t.history)} events)</span></h2>'
        '<table id="history"><thead><tr><th>At (UTC)</th><th>Event</th><th>Status</th>'
        '<th class="num">Source</th><th class="num">Target</th><th>Copy</th><th class="num">Rows/s</th>'
        "<th>Run</th><th>Task</th><th>Error</th><th>Columns</th></tr></thead>"
        f"<tbody>{history}</tbody></table>"
    )
    return page(
        f"{t.table} \u00b7 {schema} \u00b7 Migration audit",
        body,
        [("Migration audit", links.home()), (schema, links.schema(schema)), (t.table, None)],
    )


def _history_row(links: Links, dag_id: str | None, e: HistoryEvent) -> str:
    status = f"{text(e.old_status)} \u2192 {text(e.new_status)}" if e.event_type != "copy" else DASH
    copy = (
        f"{text(e.copy_method)} \u00b7 {num(e.rows_written)} rows in {text(e.seconds)} s"
        if e.event_type == "copy"
        else DASH
    )
    error = f'<div class="err">{escape(_clip(e.error))}</div>' if e.error else ""
    return (
        f'<tr data-event="{e.event_id}"><td>{text(e.at)}</td><td>{text(e.event_type)}</td><td>{status}</td>'
        f'<td class="num">{num(e.src_rows)}</td><td class="num">{num(e.tgt_rows)}</td><td>{copy}</td>'
        f'<td class="num">{rate(e.rows_per_second)}</td><td>{run_link(links, dag_id, e.run_id)}</td>'
        f"<td>{text(e.task_id)}</td><td>{error}</td>"
        f'<td data-field="columns">{drift_note(e.schema_diff, "")}</td></tr>'
    )


# -- schema drift ------------------------------------------------------------------------------------
def drift_note(diff: SchemaDifference | None, status: str, *, element_id: str = "") -> str:
    """The one-line summary of a table's column differences (under its status): what drifted, or the
    allowed widenings of a table that did not drift."""
    if diff is None:
        if status == "drift":
            return (
                f'<div class="drift"{_id(element_id)} data-field="drift">'
                "columns differ (no detail recorded)</div>"
            )
        return ""
    allowed = " allowed" if not diff.drift and diff.unreadable is None else ""
    return f'<div class="drift{allowed}"{_id(element_id)} data-field="drift">{escape(diff.summary())}</div>'


def diff_table(diff: SchemaDifference, *, table_id: str = "", event_id: int | None = None) -> str:
    """Every column difference: the column, each side's declared type, what kind, and whether it is
    allowed (a widening) or drift."""
    if diff.unreadable is not None:
        return (
            f'<p class="muted">Recorded, but not in a form this version reads:</p>'
            f'<pre class="err"{_id(table_id)}>{escape(diff.unreadable)}</pre>'
        )
    rows = "".join(
        f'<tr data-column="{escape(c.column)}" data-kind="{escape(c.kind)}" '
        f'data-allowed="{"yes" if c.allowed else "no"}">'
        f'<td data-field="column"><code>{escape(c.column)}</code></td>'
        f'<td data-field="source">{_side(c.source)}</td><td data-field="target">{_side(c.target)}</td>'
        f'<td data-field="kind">{escape(c.kind)}</td><td data-field="change">{escape(c.change)}</td>'
        f'<td data-field="verdict">{"allowed" if c.allowed else "drift"}</td></tr>'
        for c in diff.columns
    )
    event = "" if event_id is None else f' data-event="{event_id}"'
    note = (
        '<p class="muted truncated">Only part of the list was recorded (the store keeps 4,000 characters).'
        "</p>"
        if diff.truncated
        else ""
    )
    return (
        f'<table class="schema-diff"{_id(table_id)}{event}><thead><tr><th>Column</th><th>Source</th>'
        "<th>Target</th><th>Kind</th><th>Change</th><th>Verdict</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{note}"
    )


def _drift_event(links: Links, dag_id: str | None, e: HistoryEvent) -> str:
    head = (
        f'<div class="drift-event" data-event="{e.event_id}"><b>{text(e.at)}</b> · {text(e.event_type)}'
        f" · {text(e.old_status)} → {text(e.new_status)} · {run_link(links, dag_id, e.run_id)}"
        "</div>"
    )
    if e.schema_diff is None:
        return head + f'<p class="muted" data-event="{e.event_id}">The columns agree.</p>'
    return head + diff_table(e.schema_diff, event_id=e.event_id)


def _columns_fact(diff: SchemaDifference | None, status: str) -> str:
    if diff is None and status != "drift":
        return DASH
    return drift_note(diff, status, element_id="drift-summary")


def _side(declared: str | None) -> str:
    return '<span class="muted">(none)</span>' if declared is None else f"<code>{escape(declared)}</code>"


def _id(value: str) -> str:
    return f' id="{escape(value)}"' if value else ""


def message_page(links: Links, title: str, message: str) -> str:
    body = f'<h1>{escape(title)}</h1><p id="message">{escape(message)}</p>'
    return page(title, body, [("Migration audit", links.home()), (title, None)])


def _yes_no(value: bool | None) -> str:
    return DASH if value is None else ("yes" if value else "no")


def _clip(value: str, limit: int = 300) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"
