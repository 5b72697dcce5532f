"""Offline checks of the local stack (docker-compose.yaml, docker/).

No Docker engine is needed or used: the compose file is validated against the Compose
Specification's JSON schema (check-jsonschema's vendored copy) and then read with PyYAML to check
what the schema cannot: references between services, volumes, connection URIs, healthchecks,
pinned images, the Airflow image build and the seed files.

Values are read the way Compose would see them with no .env file: ``${VAR:-default}`` becomes
``default`` (see ``interpolate``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / "docker" / ".env.example"
SEED_SOURCE = REPO / "docker" / "vertica" / "seed_source.sql"
SEED_TARGET = REPO / "docker" / "vertica" / "seed_target.sql"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}
VERTICA_SERVICES = {"vertica-source", "vertica-target"}
CONN_HOSTS = {
    "AIRFLOW_CONN_MIGRATION_SOURCE": "vertica-source",
    "AIRFLOW_CONN_MIGRATION_TARGET": "vertica-target",
}

# ${VAR}, ${VAR:-default}, ${VAR-default}; "$$" is an escaped "$" and is not interpolated.
_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")
_WHOLE_VAR = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-[^}]*)?\}$")
_SECRET_KEY = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|JWT", re.IGNORECASE)


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose-style interpolation of one string, with ``env`` (default: nothing set)."""
    env = env or {}

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, default = match.group("name"), match.group("op"), match.group("default")
        if name in env and (env[name] != "" or op != ":-"):
            return env[name]
        return default if op else ""

    return _VAR.sub(repl, value)


def mask_vars(value: str) -> tuple[str, list[str]]:
    """Replace each ``${...}`` reference by ``__varN__`` (so URIs parse); return the references too."""
    refs: list[str] = []

    def repl(match: re.Match[str]) -> str:
        refs.append(match.group(0))
        return f"__var{len(refs) - 1}__"

    return _VAR.sub(repl, value), refs


def env_dict(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def image_ref(service: dict) -> str | None:
    return interpolate(service["image"]) if "image" in service else None


def named_volume_sources(service: dict) -> list[str]:
    """Sources of the service's volume mounts that are named volumes (not bind mounts)."""
    names = []
    for vol in service.get("volumes") or []:
        if isinstance(vol, dict):
            if vol.get("type", "volume") == "volume" and vol.get("source"):
                names.append(vol["source"])
            continue
        parts = vol.split(":")
        if len(parts) == 1:
            continue  # anonymous volume
        source = parts[0]
        if not source.startswith((".", "/", "~", "$")):
            names.append(source)
    return names


def bind_sources(service: dict) -> list[str]:
    sources = []
    for vol in service.get("volumes") or []:
        source = vol.get("source") if isinstance(vol, dict) and vol.get("type") == "bind" else None
        if isinstance(vol, str) and vol.startswith("."):
            source = vol.split(":")[0]
        if source:
            sources.append(source)
    return sources


def healthcheck_command(service: dict) -> str:
    check = service.get("healthcheck") or {}
    if check.get("disable"):
        return ""
    test = check.get("test") or ""
    if isinstance(test, list):
        if not test or test[0] == "NONE":
            return ""
        test = " ".join(test[1:]) if test[0] in ("CMD", "CMD-SHELL") else " ".join(test)
    return test


def split_image(ref: str) -> tuple[str, str | None]:
    """('repo/name', 'tag') of an image reference; tag None when absent. Digests count as pinned."""
    if "@" in ref:
        return ref.split("@", 1)[0], "@digest"
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = ref.rsplit(":", 1)
        return name, tag
    return ref, None


def create_tables(sql: str) -> dict[str, str]:
    """``schema.table`` -> normalised column list of every CREATE TABLE in a seed file."""
    tables = {}
    pattern = re.compile(
        r'CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:"[^"]+"|\w+)\.(?:"[^"]+"|\w+))\s*\((.*?)\);',
        re.IGNORECASE | re.DOTALL,
    )
    for name, body in pattern.findall(sql):
        tables[name.lower()] = " ".join(body.split()).lower()
    return tables


@pytest.fixture(scope="module")
def compose() -> dict:
    with COMPOSE_FILE.open() as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), "no services in compose file"
    return data


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


# --- (1) the Compose Specification schema --------------------------------------------------------


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    if not CHECK_JSONSCHEMA.exists():
        pytest.fail(
            f"{CHECK_JSONSCHEMA} not found: install the test extras "
            "(pip install -e '.[test]' or pip install check-jsonschema) into this Python's environment"
        )
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_file_matches_compose_spec_schema():
    result = _check_jsonschema(COMPOSE_FILE)
    assert result.returncode == 0, f"check-jsonschema failed:\n{result.stdout}\n{result.stderr}"


def test_schema_check_rejects_a_broken_copy(tmp_path: Path):
    # Guards the test above: the vendored schema must really reject an unknown service key.
    broken = tmp_path / "docker-compose.yaml"
    text = COMPOSE_FILE.read_text()
    text = text.replace("  postgres:\n    image:", "  postgres:\n    not_a_compose_key: 1\n    image:", 1)
    assert "not_a_compose_key" in text, "could not find the postgres service to break"
    broken.write_text(text)
    result = _check_jsonschema(broken)
    assert result.returncode != 0, "check-jsonschema accepted an unknown service key"


# --- (2) structure ----------------------------------------------------------------------------------


def test_expected_services_exist(services: dict):
    expected = AIRFLOW_SERVICES | VERTICA_SERVICES | {"postgres", "vertica-seed"}
    missing = expected - set(services)
    assert not missing, f"services missing from docker-compose.yaml: {sorted(missing)}"


def test_depends_on_references_existing_services(services: dict):
    dangling = []
    for name, service in services.items():
        deps = service.get("depends_on") or {}
        for dep in deps if isinstance(deps, list) else deps.keys():
            if dep not in services:
                dangling.append(f"{name} -> {dep}")
    assert not dangling, f"depends_on names services that do not exist: {dangling}"


def test_startup_order(services: dict):
    def condition(service: str, dep: str) -> str | None:
        deps = services[service].get("depends_on") or {}
        return (deps.get(dep) or {}).get("condition") if isinstance(deps, dict) else None

    assert condition("airflow-init", "postgres") == "service_healthy"
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert condition(name, "airflow-init") == "service_completed_successfully", name
    for vertica in VERTICA_SERVICES:
        assert condition("vertica-seed", vertica) == "service_healthy", vertica


def test_named_volumes_are_declared(compose: dict, services: dict):
    declared = set(compose.get("volumes") or {})
    undeclared = sorted(
        f"{name}: {vol}"
        for name, svc in services.items()
        for vol in named_volume_sources(svc)
        if vol not in declared
    )
    assert not undeclared, f"named volumes used but not declared under top-level volumes: {undeclared}"
    for name in ("postgres", *sorted(VERTICA_SERVICES)):
        assert named_volume_sources(services[name]), f"{name} keeps its data in no named volume"
    source_vols = set(named_volume_sources(services["vertica-source"]))
    target_vols = set(named_volume_sources(services["vertica-target"]))
    assert not source_vols & target_vols, "the two Vertica clusters share a data volume"


def test_bind_mounts_exist_in_repo(services: dict):
    missing = [
        f"{name}: {src}"
        for name, svc in services.items()
        for src in bind_sources(svc)
        if not (REPO / src).exists()
    ]
    assert not missing, f"bind-mounted paths missing from the repository: {missing}"


def test_all_services_share_one_network(compose: dict, services: dict):
    declared = set(compose.get("networks") or {})
    assert len(declared) == 1, f"expected one network, found {sorted(declared)}"
    (network,) = declared
    for name, svc in services.items():
        nets = svc.get("networks")
        assert nets is not None, f"{name} is not attached to {network}"
        assert network in (nets if isinstance(nets, list) else list(nets)), f"{name} not on {network}"


def test_vertica_fixed_addresses_inside_subnet_and_outside_dynamic_range(compose: dict, services: dict):
    import ipaddress

    (network,) = compose["networks"].values()
    (pool,) = network["ipam"]["config"]
    subnet = ipaddress.ip_network(interpolate(pool["subnet"]))
    dynamic = ipaddress.ip_network(interpolate(pool["ip_range"]))
    seed_env = env_dict(services["vertica-seed"])
    for name, seed_var in (("vertica-source", "VERTICA_SOURCE_IP"), ("vertica-target", "VERTICA_TARGET_IP")):
        (net,) = services[name]["networks"].values()
        address = ipaddress.ip_address(interpolate(net["ipv4_address"]))
        assert address in subnet, f"{name}: {address} outside {subnet}"
        assert address not in dynamic, f"{name}: {address} inside the dynamic range {dynamic}"
        # vertica-seed registers this address as the node's export address: it must be the same.
        assert ipaddress.ip_address(interpolate(seed_env[seed_var])) == address, seed_var


def test_connection_uris_point_at_vertica_services(services: dict):
    for name in sorted(AIRFLOW_SERVICES):
        env = env_dict(services[name])
        for var, expected_host in CONN_HOSTS.items():
            assert var in env, f"{name} does not set {var}"
            uri = urlsplit(interpolate(env[var]))
            assert uri.scheme == "vertica", f"{name} {var}: scheme {uri.scheme!r}"
            assert uri.hostname == expected_host, f"{name} {var}: host {uri.hostname!r}"
            assert uri.hostname in services, f"{name} {var}: {uri.hostname!r} is not a compose service"
            image = image_ref(services[uri.hostname]) or ""
            assert "vertica" in split_image(image)[0], f"{var}: {uri.hostname} runs {image!r}, not Vertica"
            assert uri.port == 5433, f"{name} {var}: port {uri.port}"
            assert uri.path.lstrip("/") == "VMart", f"{name} {var}: database (schema field) {uri.path!r}"
            assert uri.username == "dbadmin", f"{name} {var}: user {uri.username!r}"


def test_airflow_services_common_config(services: dict):
    for name in sorted(AIRFLOW_SERVICES):
        svc = services[name]
        env = env_dict(svc)
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "LocalExecutor", name
        assert env.get("AIRFLOW__CORE__DAGS_FOLDER") == "/opt/airflow/dags", name
        assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() == "false", name
        assert "@postgres:" in interpolate(env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")), name
        assert "./dags:/opt/airflow/dags" in (svc.get("volumes") or []), f"{name} does not mount ./dags"
        build = svc.get("build") or {}
        assert build.get("dockerfile") == "docker/airflow/Dockerfile", f"{name} not built from our Dockerfile"
    commands = {svc: services[svc].get("command") for svc in AIRFLOW_SERVICES - {"airflow-init"}}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
    }


def test_healthchecks_exist(services: dict):
    expected = {"postgres": "pg_isready", "vertica-source": "vsql", "vertica-target": "vsql"}
    for name, tool in expected.items():
        command = healthcheck_command(services[name])
        assert command, f"{name} has no (enabled) healthcheck"
        assert tool in command, f"{name} healthcheck does not use {tool}: {command!r}"


def test_dockerfile_installs_this_package(services: dict):
    build = services["airflow-apiserver"]["build"]
    dockerfile = REPO / build.get("context", ".") / build["dockerfile"]
    assert dockerfile.is_file(), f"{dockerfile} missing"
    text = dockerfile.read_text()
    copies = re.findall(r"^COPY\s+(?:--\S+\s+)*\.\s+(\S+)\s*$", text, re.MULTILINE)
    assert copies, "the Dockerfile does not COPY the repository (COPY . <dir>)"
    installs = [line for line in text.splitlines() if re.match(r"^RUN\s+.*\bpip install\b", line)]
    assert any(dest in line for dest in copies for line in installs), (
        f"no `pip install` of the copied repository path {copies} in {dockerfile}"
    )
    base = re.search(r"^ARG\s+AIRFLOW_IMAGE=(\S+)", text, re.MULTILINE)
    assert base and base.group(1).startswith("apache/airflow:3.3.2"), "base image is not apache/airflow:3.3.2"
    arg = interpolate(build["args"]["AIRFLOW_IMAGE"])
    assert arg == base.group(1), f"compose passes {arg!r}, the Dockerfile defaults to {base.group(1)!r}"


def test_images_are_pinned(services: dict):
    refs = {name: image_ref(svc) for name, svc in services.items() if "image" in svc}
    refs["airflow build base"] = interpolate(services["airflow-apiserver"]["build"]["args"]["AIRFLOW_IMAGE"])
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, f"{name} has neither image nor build"
    bad = {}
    for name, ref in refs.items():
        repo, tag = split_image(ref or "")
        # A version tag carries a digit ("16.9", "25.2.0-0", "3.3.2-local"); "latest"/"stable" do not.
        if not repo or tag is None or (tag != "@digest" and not re.search(r"\d", tag)):
            bad[name] = ref
    assert not bad, f"images without a pinned version tag: {bad}"
    repo, tag = split_image(refs["postgres"])
    assert repo == "postgres" and tag.startswith("16."), f"{refs['postgres']!r} is not postgres:16.x"
    for name in VERTICA_SERVICES | {"vertica-seed"}:
        assert split_image(refs[name])[0].endswith("vertica-ce"), f"{name}: {refs[name]!r}"


def test_no_literal_secrets(services: dict):
    offenders = []
    for name, svc in services.items():
        for key, value in env_dict(svc).items():
            masked, _ = mask_vars(value)
            if "://" in masked:
                userinfo = urlsplit(masked).netloc.rpartition("@")[0]
                password = userinfo.partition(":")[2]
                if password and not re.fullmatch(r"__var\d+__", password):
                    offenders.append(f"{name}: {key} has password {password!r}")
            elif _SECRET_KEY.search(key) and not key.endswith(("_FILE", "_PATH")):
                if value and not _WHOLE_VAR.match(value):
                    offenders.append(f"{name}: {key}={value!r}")
    assert not offenders, f"secrets must be ${{VAR:-local-default}} references: {offenders}"


def test_env_example_documents_every_variable():
    compose_text = COMPOSE_FILE.read_text()
    used = {m.group("name"): m.group("default") or "" for m in _VAR.finditer(compose_text) if m.group("name")}
    documented = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=VALUE in {ENV_EXAMPLE.name}: {line!r}"
            documented[key.strip()] = value.strip()
    missing = sorted(set(used) - set(documented))
    assert not missing, f"variables used in docker-compose.yaml but not in docker/.env.example: {missing}"
    stale = sorted(set(documented) - set(used))
    assert not stale, f"variables in docker/.env.example that docker-compose.yaml never reads: {stale}"
    differ = {k: (used[k], documented[k]) for k in used if used[k] != documented[k]}
    assert not differ, f"compose default vs .env.example value differ: {differ}"


def test_seed_files_create_the_same_tables_on_both_sides():
    source = create_tables(SEED_SOURCE.read_text())
    target = create_tables(SEED_TARGET.read_text())
    schemas = {t.split(".")[0] for t in source}
    assert schemas >= {"sales", "hr", '"finance dept"'}, f"demo schemas missing: {sorted(source)}"
    only_source = sorted(set(source) - set(target))
    only_target = sorted(set(target) - set(source))
    differ = sorted(t for t in source.keys() & target.keys() if source[t] != target[t])
    assert source == target, (
        "seed_target.sql must create exactly seed_source.sql's tables: "
        f"only in source {only_source}, only in target {only_target}, different columns {differ}"
    )
    assert re.search(r"CREATE\s+SCHEMA\s+IF\s+NOT\s+EXISTS\s+migration\b", SEED_TARGET.read_text(), re.I)
    assert "INSERT" in SEED_SOURCE.read_text().upper() and "INSERT" not in SEED_TARGET.read_text().upper()


def test_interpolate_helper():
    # The checks above read defaults through this helper: make sure it behaves like Compose.
    assert interpolate("${A:-x}") == "x"
    assert interpolate("${A:-x}", {"A": ""}) == "x"
    assert interpolate("${A-x}", {"A": ""}) == ""
    assert interpolate("${A:-x}", {"A": "y"}) == "y"
    assert interpolate("${A}") == ""
    assert interpolate("$${HOSTNAME}") == "${HOSTNAME}"
    masked, refs = mask_vars("vertica://${U:-dbadmin}:${P:-}@h:5433/${D:-VMart}")
    assert masked == "vertica://__var0__:__var1__@h:5433/__var2__" and refs[1] == "${P:-}"
