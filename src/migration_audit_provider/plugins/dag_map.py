"""Which Airflow DAG audits each schema: read from the settings the DAGs themselves are built from.

``dags/migration_audit.py`` builds one DAG per entry of its YAML file (``config.load_settings``), and a
schema's DAG id is whatever that file says (``dag_id:``), defaulting to ``migration_audit__<slug>``.
The dashboard reads **the same file** and maps each schema, by its exact name, to that DAG id: the
permission check and the links use it. It never derives an id from a schema name itself: two
schemas whose names give the same slug, or a schema with its own ``dag_id``, would get the wrong check.

The file is found as the DAG file finds it: the ``MIGRATION_AUDIT_CONFIG`` environment variable, else
``migration_audit.yaml`` in ``[core] dags_folder`` (beside the DAG file). The audit store records run
ids but not DAG ids (and ``scheduled__<date>`` run ids repeat across DAGs), so the store cannot say
which DAG wrote a row; the settings file is the one source.

A schema the file does not name (the file is missing, unreadable, invalid, or simply does not list it)
has no DAG: :attr:`DagMap.dag_id` returns ``None`` and the auth check asks for access to *all* DAGs.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from migration_audit_provider.config import SchemaSettings, load_settings
from migration_audit_provider.exceptions import AuditInputError

log = logging.getLogger(__name__)

CONFIG_ENV = "MIGRATION_AUDIT_CONFIG"
CONFIG_FILE_NAME = "migration_audit.yaml"


@dataclass(frozen=True)
class DagMap:
    """Schema name -> id of the DAG that audits it; ``source`` says where it was read (or why not).

    :param by_schema: exact schema names (as in the audit store) to DAG ids.
    :param source: the settings file read, or the reason none was (shown on the pages and logged).
    """

    by_schema: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_schema", MappingProxyType(dict(self.by_schema)))

    @classmethod
    def from_settings(cls, settings: Iterable[SchemaSettings], source: str = "") -> DagMap:
        return cls({s.schema: s.dag_id for s in settings}, source)

    def dag_id(self, schema: str) -> str | None:
        """The DAG of ``schema``, or ``None`` when no configured DAG audits it."""
        return self.by_schema.get(schema)


def config_path() -> Path:
    """The settings file of the audit DAGs, found the way ``dags/migration_audit.py`` finds it."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    from airflow.configuration import conf

    return Path(os.path.expanduser(conf.get("core", "dags_folder"))) / CONFIG_FILE_NAME


def load_dag_map(path: Path | None = None) -> DagMap:
    """The :class:`DagMap` of the settings file (re-read when the file changes); empty if unreadable."""
    path = config_path() if path is None else path
    try:
        stat = path.stat()
    except OSError as err:
        log.warning(
            "Migration audit dashboard: no DAG settings at %s (%s); schemas need all-DAG access", path, err
        )
        return DagMap({}, f"{path} (not found)")
    return _load(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int, _size: int) -> DagMap:
    try:
        return DagMap.from_settings(load_settings(path), path)
    except AuditInputError as err:
        log.warning("Migration audit dashboard: %s; schemas need all-DAG access", err)
        return DagMap({}, f"{path} (invalid: see the api-server log)")
