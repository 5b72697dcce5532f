"""The "Migration audit" view of the Airflow UI: an Airflow plugin serving its own FastAPI app.

Installing the provider is enough: ``pyproject.toml`` registers :class:`MigrationAuditPlugin` under
the ``airflow.plugins`` entry point group, which Airflow's plugins manager loads in every process.
The api-server mounts :data:`app` at ``/migration-audit`` (``fastapi_apps``) and the UI shows it, in
an iframe, from a "Migration audit" entry of its navigation (``external_views``).

Pages (HTML) and the same data as JSON, all read-only:

* ``/`` and ``/api/schemas``: each schema's tables per status, rows migrated of rows expected, and
  tables per status at the end of each day;
* ``/schemas/{schema}`` and ``/api/schemas/{schema}``: the schema's tables (200 a page, ``?status=``
  to show one status), each with its last status change and last copy, and tables per status after
  each audit run;
* ``/schemas/{schema}/tables/{table}`` and ``/api/schemas/{schema}/tables/{table}``: one table, its
  column differences (a ``drift``, and allowed widenings: the audit row's ``schema_diff`` and each
  change of it in the history; the list above shows their one-line summary), its last copy and its
  newest 100 history events.

The audit store is read through the Airflow connection ``[migration_audit] conn_id`` (default
``migration_target``; env ``AIRFLOW__MIGRATION_AUDIT__CONN_ID``), schema ``[migration_audit]
store_schema`` (default ``migration``). Each schema's DAG (for the access check and the links) comes from
the DAGs' own settings file (:mod:`migration_audit_provider.plugins.dag_map`). Access:
:mod:`migration_audit_provider.plugins.auth`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from migration_audit_provider.constants import DEFAULT_STORE_SCHEMA, DEFAULT_TARGET_CONN_ID, STATUS_COLORS
from migration_audit_provider.plugins import pages
from migration_audit_provider.plugins.auth import (
    NotAuthenticated,
    NotAuthorized,
    can_read_dag,
    current_user,
    require_schema,
)
from migration_audit_provider.plugins.dag_map import DagMap, load_dag_map
from migration_audit_provider.plugins.queries import (
    PAGE_SIZE,
    DashboardReader,
    legend_statuses,
    status_color,
    status_meaning,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

URL_PREFIX = "/migration-audit"
CONFIG_SECTION = "migration_audit"
DEFAULT_CONN_ID = DEFAULT_TARGET_CONN_ID
SECURITY_HEADERS = {
    # Nothing is loaded from elsewhere, no script runs but the pages' own (by its hash), and only
    # Airflow's own UI may frame the pages.
    "Content-Security-Policy": (
        f"default-src 'none'; script-src '{pages.SCRIPT_HASH}'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ICON = (  # three bars in the status colours: visible on the light and the dark (selected) nav background
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>"
    + "".join(
        f"<rect x='{x}' y='{y}' width='5' height='{21 - y}' rx='1' fill='%23{STATUS_COLORS[st][1:]}'/>"
        for x, y, st in ((2, 4, "complete"), (9.5, 9, "partial"), (17, 14, "reject"))
    )
    + "</svg>"
)

# Module level: with postponed annotations, FastAPI resolves these names in the module's namespace.
User = Annotated[Any, Depends(current_user)]
Status = Annotated[str, Query(max_length=64, description="only the tables of this status")]
Page = Annotated[int, Query(ge=1, le=1_000_000)]


class NotFound(Exception):
    """No such schema or table in the audit store."""


class StoreUnavailable(Exception):
    """The audit store could not be read (connection, permissions, missing tables)."""


@dataclass(frozen=True)
class DashboardSettings:
    """Where the audit store is, and which DAG audits each schema (none known: all-DAG access needed)."""

    conn_id: str
    store_schema: str
    dags: DagMap = field(default_factory=DagMap)

    @classmethod
    def from_airflow(cls) -> DashboardSettings:
        from airflow.configuration import conf

        return cls(
            conn_id=conf.get(CONFIG_SECTION, "conn_id", fallback=DEFAULT_CONN_ID),
            store_schema=conf.get(CONFIG_SECTION, "store_schema", fallback=DEFAULT_STORE_SCHEMA),
            dags=load_dag_map(),
        )

    def describe(self) -> str:
        return f"connection {self.conn_id}, schema {self.store_schema}"


@contextmanager
def store_reader(settings: DashboardSettings) -> Iterator[DashboardReader | None]:
    """A reader on a read-only session of the audit store; ``None`` if the store does not exist yet."""
    from migration_audit_provider.hooks.audit import MigrationAuditHook
    from migration_audit_provider.store import _STORE_TABLES

    hook = MigrationAuditHook(settings.conn_id)
    dialect, schema = hook.dialect, settings.store_schema
    dialect.check_identifier(schema, "audit store schema")
    names = {key: dialect.qualified(schema, _STORE_TABLES[key]) for key in ("audit", "history")}
    with hook.session([schema]) as session:  # write=False: no lock taken, nothing created
        yield (
            DashboardReader(session, names, settings.dags) if dialect.schema_exists(session, schema) else None
        )


def reading_store(read: Callable[..., T]) -> Callable[..., T]:
    """Turn a failure to read the store (connection, permissions, missing tables) into a 503."""

    @functools.wraps(read)
    def wrapper(user: Any, settings: DashboardSettings, *args: Any) -> T:
        try:
            return read(user, settings, *args)
        except (NotFound, NotAuthorized):
            raise
        except Exception as err:
            log.exception(
                "Migration audit dashboard: reading the audit store (%s) failed", settings.describe()
            )
            raise StoreUnavailable(f"The audit store ({settings.describe()}) could not be read.") from err

    return wrapper


# -- what the pages and the JSON endpoints show ------------------------------------------------------
@reading_store
def read_overview(user: Any, settings: DashboardSettings) -> dict[str, Any]:
    """The schemas ``user`` may read; :class:`NotAuthorized` if they may read no audit DAG at all."""
    allowed = functools.cache(functools.partial(can_read_dag, user))  # one check per DAG id
    if not any(allowed(dag_id) for dag_id in (*sorted(set(settings.dags.by_schema.values())), None)):
        raise NotAuthorized("Not allowed to read the runs of any migration audit DAG")
    with store_reader(settings) as reader:
        if reader is None:
            return {"schemas": [], "timeline": []}
        summaries = [s for s in reader.schemas() if allowed(s.dag_id)]
        return {"schemas": summaries, "timeline": reader.daily_timeline(summaries)}


@reading_store
def read_schema(
    user: Any, settings: DashboardSettings, schema: str, status: str, page: int
) -> dict[str, Any]:
    require_schema(user, schema, settings.dags)
    with store_reader(settings) as reader:
        summary = reader.schema(schema) if reader else None
        if reader is None or summary is None:
            raise NotFound(f"No audited schema {schema!r}")
        tables = reader.tables(schema, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return {"summary": summary, "tables": tables, "timeline": reader.schema_timeline(summary)}


@reading_store
def read_table(user: Any, settings: DashboardSettings, schema: str, table: str) -> Any:
    require_schema(user, schema, settings.dags)
    with store_reader(settings) as reader:
        detail = reader.table(schema, table) if reader else None
        if detail is None:
            raise NotFound(f"No audited table {table!r} in schema {schema!r}")
        return detail


# -- the app ---------------------------------------------------------------------------------------
def links_for(request: Request) -> pages.Links:
    """Links relative to where the app is mounted, and to the Airflow UI above it (``[api] base_url``)."""
    root = request.scope.get("root_path", "").rstrip("/")
    airflow_root = root.removesuffix(URL_PREFIX) + "/"
    return pages.Links(base=root, airflow=airflow_root)


def _is_api(request: Request) -> bool:
    root = request.scope.get("root_path", "").rstrip("/")
    return request.url.path.removeprefix(root).startswith("/api/")


def create_app() -> FastAPI:
    app = FastAPI(
        title="Migration audit dashboard",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        from airflow.api_fastapi.app import get_auth_manager

        return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=302)

    def _error(status_code: int, title: str) -> Any:
        async def handler(request: Request, exc: Exception) -> Response:
            if _is_api(request):
                return JSONResponse({"detail": str(exc)}, status_code=status_code)
            return HTMLResponse(pages.message_page(links_for(request), title, str(exc)), status_code)

        return handler

    app.add_exception_handler(NotAuthorized, _error(403, "Not allowed"))
    app.add_exception_handler(NotFound, _error(404, "Not found"))
    app.add_exception_handler(StoreUnavailable, _error(503, "Audit store unavailable"))

    # -- HTML --------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request, user: User) -> HTMLResponse:
        settings = DashboardSettings.from_airflow()
        data = read_overview(user, settings)
        return HTMLResponse(
            pages.overview_page(
                links_for(request),
                data["schemas"],
                data["timeline"],
                settings.describe(),
                settings.dags.source,
            )
        )

    @app.get("/schemas/{schema}", response_class=HTMLResponse)
    def schema_view(
        request: Request, user: User, schema: str, status: Status = "", page: Page = 1
    ) -> HTMLResponse:
        data = read_schema(user, DashboardSettings.from_airflow(), schema, status, page)
        return HTMLResponse(
            pages.schema_page(
                links_for(request),
                data["summary"],
                data["tables"],
                data["timeline"],
                status=status,
                page_no=page,
                page_size=PAGE_SIZE,
            )
        )

    @app.get("/schemas/{schema}/tables/{table:path}", response_class=HTMLResponse)
    def table_view(request: Request, user: User, schema: str, table: str) -> HTMLResponse:
        detail = read_table(user, DashboardSettings.from_airflow(), schema, table)
        return HTMLResponse(pages.table_page(links_for(request), schema, detail))

    # -- JSON --------------------------------------------------------------------------------------
    @app.get("/api/schemas")
    def api_schemas(user: User) -> dict[str, Any]:
        settings = DashboardSettings.from_airflow()
        data = read_overview(user, settings)
        statuses = legend_statuses(data["schemas"])
        return {
            "store": {"conn_id": settings.conn_id, "schema": settings.store_schema},
            "dags_config": settings.dags.source,
            "statuses": statuses,
            "legend": [
                {"status": st, "meaning": status_meaning(st), "color": status_color(st)} for st in statuses
            ],
            "schemas": [s.to_json() for s in data["schemas"]],
            "timeline": [p.to_json() for p in data["timeline"]],
        }

    @app.get("/api/schemas/{schema}")
    def api_schema(user: User, schema: str, status: Status = "", page: Page = 1) -> dict[str, Any]:
        data = read_schema(user, DashboardSettings.from_airflow(), schema, status, page)
        summary = data["summary"]
        return {
            "summary": summary.to_json(),
            "page": {
                "number": page,
                "size": PAGE_SIZE,
                "status": status or None,
                "matching_tables": summary.by_status.get(status, 0) if status else summary.tables,
            },
            "tables": [t.to_json() for t in data["tables"]],
            "timeline": [p.to_json() for p in data["timeline"]],
        }

    @app.get("/api/schemas/{schema}/tables/{table:path}")
    def api_table(user: User, schema: str, table: str) -> dict[str, Any]:
        detail = read_table(user, DashboardSettings.from_airflow(), schema, table)
        return {"schema": schema, **detail.to_json()}

    return app


def _ui_href() -> str:
    """The app's address for the UI's iframe, under ``[api] base_url``'s path when it has one."""
    try:
        from urllib.parse import urlsplit

        from airflow.configuration import conf

        root = urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")
    except Exception:  # the plugin must load in any Airflow process, whatever its configuration
        root = ""
    return f"{root}{URL_PREFIX}/"


app = create_app()


class MigrationAuditPlugin(AirflowPlugin):
    """Adds the "Migration audit" dashboard to the Airflow UI and its FastAPI app to the api-server."""

    name = "migration_audit"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Migration audit dashboard"}]
    external_views = [
        {
            "name": "Migration audit",
            "href": _ui_href(),
            "url_route": "migration-audit",
            "destination": "nav",
            "icon": ICON,
        }
    ]
