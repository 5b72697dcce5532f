"""bench_scale.py's results file: every labelled run kept in JSON, the Markdown written from all of them.

``RESULTS-scale.json`` (beside the Markdown file) holds one record per ``--label``; a new run
replaces the record of its label only, so "before" and "after" stay side by side. The Markdown file
is rewritten from the JSON each time, except what follows its ``## Notes`` heading, which is kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from report import fmt_seconds, print_table

NOTES = "## Notes"
GOALS = {
    "unchanged_vs_best": ("unchanged refresh <= 1.2x the best exact-count floor", 1.2),
    "unchanged_vs_seq": ("unchanged refresh <= 0.7x counting both servers one after the other", 0.7),
    "init_first": ("init + first refresh under 2 minutes (120 s)", 120.0),
    "memory": ("peak memory of a refresh of every table under 500 MB", 500.0),
    "chain": ("a chain after a batch that changed 1% (10 of 1,000) tables copies only those", None),
}


def write(path: Path, record: dict[str, Any] | None = None) -> None:
    """Add ``record`` to the JSON beside ``path`` (replacing its label's), then rewrite the Markdown.

    Without ``record``, only rewrite the Markdown from the JSON (``python scale_results.py PATH``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    store = path.with_suffix(".json")
    runs: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {}
    if record is not None:
        runs[record["label"]] = record
        store.write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n")
    runs = dict(sorted(runs.items(), key=lambda item: item[1]["started"]))  # oldest run first
    notes = ""
    if path.exists():
        old = path.read_text()
        if NOTES in old:
            notes = old[old.index(NOTES) :]
    path.write_text(render(runs) + "\n" + (notes or f"{NOTES}\n\n(none yet)\n"))


def render(runs: dict[str, Any]) -> str:
    labels = list(runs)
    out = [
        "# Scale: the audit of 100,000 tables on two PostgreSQL servers (issue #16)",
        "",
        "Written by [`bench_scale.py`](bench_scale.py) (its docstring gives the method); the numbers of",
        "every labelled run are in `RESULTS-scale.json`. Seconds are wall time; a median where",
        "`repeat` > 1. `x floor` is the step's time over the best exact-count floor of the same run",
        "(psycopg `UNION ALL` batches of 200 `COUNT(*)`, `max_parallel_workers_per_gather = 0`, both",
        "databases, the faster of one-after-the-other and both-at-once); init is compared with the",
        "source's floor (it counts the source only). Operators run directly, one schema after another,",
        '`fingerprint="off"`.',
        "",
        "```bash",
        ".venv/bin/python benchmarks/bench_scale.py --label before   # both layouts, --repeat 3",
        "```",
        "",
        "## Runs",
        "",
        _table(
            ["label", "code measured", "started", "load avg start", "load avg end", "repeat"],
            [
                [
                    lb,
                    f"`{r['code']}`",
                    r["started"],
                    r["load_start"],
                    r.get("load_end", "-"),
                    str(r["repeat"]),
                ]
                for lb, r in runs.items()
            ],
        ),
        "",
        f"Machine: {runs[labels[-1]].get('machine', '-')}.",
    ]
    layouts = list(dict.fromkeys(k for r in runs.values() for k in r["layouts"]))
    for layout in layouts:
        out += ["", *_layout_section(runs, layout)]
    out += ["", "## Goals (issue #16)", "", _goals(runs), ""]
    return "\n".join(out)


def _layout_section(runs: dict[str, Any], layout: str) -> list[str]:
    present = {lb: r["layouts"][layout] for lb, r in runs.items() if layout in r["layouts"]}
    first = next(iter(present.values()))
    title = (
        f"## {first['schemas']:,} schemas x {first['tables_per_schema']:,} tables "
        f"({first['schemas'] * first['tables_per_schema']:,} tables)"
    )
    headers = ["step"]
    for lb in present:
        headers += [f"{lb}: s", f"{lb}: x floor"]
    rows = []

    def add(name: str, get: Any, floor: Any = None) -> None:
        row = [name]
        for data in present.values():
            try:
                value = get(data)
            except (KeyError, TypeError):
                row += ["-", "-"]
                continue
            base = floor(data) if floor else None
            row += [
                value if isinstance(value, str) else fmt_seconds(value),
                f"{value / base:.2f}x" if base and not isinstance(value, str) else "",
            ]
        rows.append(row)

    best = _best_floor
    add("init (source counts)", lambda d: d["steps"]["init"]["seconds"], lambda d: d["floor"]["src"])
    add("first refresh", lambda d: d["steps"]["first"]["seconds"], best)
    add("unchanged refresh", lambda d: d["steps"]["unchanged"]["seconds"], best)
    add("refresh after 1% of target tables changed", lambda d: d["steps"]["changed_1pct"]["seconds"], best)
    add("floor: source then target", lambda d: d["floor"]["seq"], best)
    add("floor: both servers at once (2 threads)", lambda d: d["floor"]["par"], best)
    add("floor: source only", lambda d: d["floor"]["src"])
    add("floor with every column read, both at once", lambda d: d["floor"]["par_cols"], best)
    add("one RefreshAuditOperator for every schema (child process)", lambda d: d["memory"]["seconds"], best)
    add("peak RSS of that refresh, MB", lambda d: f"{d['memory']['hwm_mb']:,.0f}")
    add("  of which after imports, MB", lambda d: f"{d['memory']['imports_mb']:,.0f}")
    for step, name in (("init", "init"), ("first", "first refresh"), ("unchanged", "unchanged refresh")):
        add(
            f"connections per schema, {name} (source + target)",
            lambda d, s=step: f"{d['steps'][s]['conns_src']:.1f} + {d['steps'][s]['conns_tgt']:.1f}",
        )
    add("rows changed by the 1% refresh", lambda d: f"{d['steps']['changed_1pct']['changed']:,}")
    add("chain (dag.test), first run", lambda d: _chain(d["chain"]["first"]))
    add("chain after a batch that changed k tables", lambda d: _chain(d["chain"]["batch"], batch=True))
    add(
        "unchanged refresh, every run",
        lambda d: " / ".join(fmt_seconds(x) for x in d["steps"]["unchanged"]["all"]),
    )
    add(
        "floor source then target, every run",
        lambda d: " / ".join(fmt_seconds(x) for x in d["floor_all"]["seq"]),
    )
    add("floor both at once, every run", lambda d: " / ".join(fmt_seconds(x) for x in d["floor_all"]["par"]))
    add(
        "floor with every column read, every run",
        lambda d: " / ".join(fmt_seconds(x) for x in d["floor_all"]["par_cols"]),
    )
    add("seeding both databases (untimed)", lambda d: d["seed_seconds"])
    return [title, "", _table(headers, rows)]


def _chain(run: dict[str, Any], batch: bool = False) -> str:
    text = f"{fmt_seconds(run['seconds'])} s, {run['state']}, copied {run['copied']['attempted']:,} tables"
    return text + (f" (k = {run['changed_tables']:,})" if batch else "")


def _best_floor(data: dict[str, Any]) -> float:
    return min(data["floor"]["seq"], data["floor"]["par"])


def _goals(runs: dict[str, Any]) -> str:
    rows = []
    for lb, record in runs.items():
        for layout, d in record["layouts"].items():
            steps = d.get("steps", {})
            unchanged = steps.get("unchanged", {}).get("seconds")
            where = f"{layout} ({lb})"
            if unchanged:
                r = unchanged / _best_floor(d)
                rows.append(
                    [
                        GOALS["unchanged_vs_best"][0],
                        where,
                        f"{fmt_seconds(unchanged)} s vs {fmt_seconds(_best_floor(d))} s",
                        f"{r:.2f}x (goal 1.2x)",
                        _met(r <= 1.2),
                    ]
                )
                r = unchanged / d["floor"]["seq"]
                rows.append(
                    [
                        GOALS["unchanged_vs_seq"][0],
                        where,
                        f"{fmt_seconds(unchanged)} s vs {fmt_seconds(d['floor']['seq'])} s",
                        f"{r:.2f}x (goal 0.7x)",
                        _met(r <= 0.7),
                    ]
                )
            with_columns = d["floor"].get("par_cols")
            if unchanged and with_columns:  # a reference, not a goal of the issue
                rows.append(
                    [
                        "(reference) unchanged refresh x the floor that also reads every column",
                        where,
                        f"{fmt_seconds(unchanged)} s vs {fmt_seconds(with_columns)} s",
                        f"{unchanged / with_columns:.2f}x",
                        "-",
                    ]
                )
            one_task = d.get("memory", {}).get("seconds")
            if one_task:  # the same refresh (nothing changed) as one task for every schema
                r = one_task / _best_floor(d)
                rows.append(
                    [
                        GOALS["unchanged_vs_best"][0] + ", every schema in one task",
                        where,
                        f"{fmt_seconds(one_task)} s vs {fmt_seconds(_best_floor(d))} s",
                        f"{r:.2f}x (goal 1.2x)",
                        _met(r <= 1.2),
                    ]
                )
            if "init" in steps and "first" in steps:
                total = steps["init"]["seconds"] + steps["first"]["seconds"]
                rows.append(
                    [
                        GOALS["init_first"][0],
                        where,
                        f"{fmt_seconds(total)} s",
                        f"{total / 120:.2f}x the limit",
                        _met(total < 120),
                    ]
                )
            if "memory" in d:
                mb = d["memory"]["hwm_mb"]
                rows.append(
                    [GOALS["memory"][0], where, f"{mb:,.0f} MB", f"{mb / 500:.2f}x the limit", _met(mb < 500)]
                )
            if "chain" in d:
                batch = d["chain"]["batch"]
                k, copied = batch["changed_tables"], batch["copied"]["attempted"]
                rows.append(
                    [
                        GOALS["chain"][0],
                        where,
                        f"copied {copied:,} after {k:,} changed (of {d['tables_per_schema']:,})",
                        f"{copied / k:.0f}x",
                        _met(copied <= k),
                    ]
                )
    rows.append(
        [
            "status pass at 1,000,000 tables vs the seed: (a) >= 1.0x, (b) >= 1.0x, (c) >= 1.5x",
            "-",
            "not measured here: `bench_refresh.py`",
            "-",
            "-",
        ]
    )
    return _table(["goal", "layout (run)", "measured", "ratio", "met?"], rows)


def _met(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print_table(headers, rows, align="l" * len(headers))
    return buffer.getvalue().rstrip()


def summary(record: dict[str, Any]) -> str:
    parts = []
    for layout, d in record["layouts"].items():
        s = d["steps"]
        text = (
            f"{layout} {d['schemas'] * d['tables_per_schema']:,} tables: "
            f"init {fmt_seconds(s['init']['seconds'])} s, first {fmt_seconds(s['first']['seconds'])} s, "
            f"unchanged {fmt_seconds(s['unchanged']['seconds'])} s "
            f"({s['unchanged']['seconds'] / _best_floor(d):.2f}x best floor), "
            f"1% changed {fmt_seconds(s['changed_1pct']['seconds'])} s; peak {d['memory']['hwm_mb']:,.0f} MB"
        )
        if "chain" in d:
            b = d["chain"]["batch"]
            text += f"; chain after {b['changed_tables']} changed copied {b['copied']['attempted']} tables"
        parts.append(text)
    return f"[{record['label']} @ {record['code']}] " + "; ".join(parts)


if __name__ == "__main__":
    import sys

    write(Path(sys.argv[1]))
