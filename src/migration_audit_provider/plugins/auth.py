"""The dashboard's access check: Airflow's own authentication and authorization.

Airflow 3 mounts a plugin's FastAPI app on the api-server as it is (``app.mount(url_prefix, app)`` in
``airflow/api_fastapi/app.py``): it adds **no** authentication to it. So every route of the dashboard
depends on :func:`current_user`, which does what Airflow's own ``get_user`` does for ``/api/v2``:

* the JWT comes from ``Authorization: Bearer <token>`` (which wins) or the ``_token`` cookie that
  Airflow's login sets for the UI (sent by the browser with the iframe of the UI's plugin page);
* it is checked by the configured auth manager (``get_user_from_token``: signature, expiry,
  revocation), whatever the auth manager is (simple, FAB, Keycloak, ...).

No token, or one that does not verify: :class:`NotAuthenticated` (the app answers 401 on the JSON
endpoints and redirects the pages to Airflow's login). A signed-in user then sees a schema only if the
auth manager lets them read the runs of that schema's audit DAG (:func:`can_read_dag`); otherwise
:class:`NotAuthorized` (403). The DAG of a schema is the one its settings file names
(:mod:`migration_audit_provider.plugins.dag_map`); a schema that no configured DAG audits is shown only
to users the auth manager lets read the runs of *all* DAGs (``details=None``, as Airflow's own
"all DAGs" checks ask).

Airflow's modules are imported inside the functions: the plugin is loaded by every Airflow process
(scheduler, workers), and only the api-server needs them.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from migration_audit_provider.plugins.dag_map import DagMap


class NotAuthenticated(Exception):
    """No valid Airflow token on the request."""


class NotAuthorized(Exception):
    """A signed-in user whom the auth manager does not allow to see this."""


def _token(request: Request) -> str | None:
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN) or None


async def current_user(request: Request) -> Any:
    """FastAPI dependency: the Airflow user of the request, or :class:`NotAuthenticated`."""
    from airflow.api_fastapi.app import get_auth_manager
    from jwt import InvalidTokenError

    token = _token(request)
    if not token:
        raise NotAuthenticated("Not authenticated")
    try:
        return await get_auth_manager().get_user_from_token(token)
    except InvalidTokenError as err:  # bad signature, expired, revoked, malformed
        raise NotAuthenticated("Invalid or expired token") from err


def can_read_dag(user: Any, dag_id: str | None) -> bool:
    """Whether ``user`` may read the runs of DAG ``dag_id``, or of every DAG when it is ``None``.

    The auth manager decides; ``None`` (a schema no configured DAG audits) asks with ``details=None``,
    which auth managers answer for "all DAGs" (e.g. FAB's global DAG permission).
    """
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    details = None if dag_id is None else DagDetails(id=dag_id, team_name=_team_name(dag_id))
    return get_auth_manager().is_authorized_dag(
        method="GET", access_entity=DagAccessEntity.RUN, details=details, user=user
    )


def require_schema(user: Any, schema: str, dags: DagMap) -> None:
    """:class:`NotAuthorized` unless ``user`` may read the runs of the DAG of ``schema`` (see above)."""
    if not can_read_dag(user, dags.dag_id(schema)):
        raise NotAuthorized(f"Not allowed to read the audit of schema {schema!r}")


def _team_name(dag_id: str) -> str | None:
    """The team owning the DAG when Airflow runs in multi-team mode (as Airflow's own checks do)."""
    from airflow.configuration import conf

    if not conf.getboolean("core", "multi_team", fallback=False):
        return None
    from airflow.models.dag import DagModel

    get_team_name = getattr(DagModel, "get_team_name", None)
    return get_team_name(dag_id) if get_team_name else None
