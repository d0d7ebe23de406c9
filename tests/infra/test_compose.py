"""infra/compose.yaml: the production deployment on one host, checked without starting it.

There is no compose plugin on the test machines: the file is parsed with PyYAML (which resolves the
`<<` merge keys as compose does) and its structure asserted; where `docker compose` exists, it must
also accept the file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "infra" / "compose.yaml"
ENV_EXAMPLE = REPO / "infra" / "arena.env.example"
README = (REPO / "README.md").read_text(encoding="utf-8")
PLATFORM_IMAGE = "arena/platform:latest"
#: `${NAME}`, `${NAME:-default}`, `${NAME:?message}`; `$$NAME` is a literal for the container's shell.
_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _platform(services: dict) -> dict:
    return {name: service for name, service in services.items() if service["image"] == PLATFORM_IMAGE}


def _long_running(services: dict) -> dict:
    return {name: service for name, service in services.items() if service.get("restart") != "no"}


def _queues(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(",")) if "-Q" in command else set()


def test_the_deployment_has_each_part_of_the_site(services):
    assert set(services) == {
        "postgres", "redis", "minio", "minio-init", "migrate", "web", "worker-default", "worker-score",
        "worker-sandbox", "worker-sandbox-gpu0", "beat",
    }
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "minio" in services["minio"]["image"]
    assert set(_platform(services)) == {
        "migrate", "web", "worker-default", "worker-score", "worker-sandbox", "worker-sandbox-gpu0", "beat"}


def test_every_long_running_service_has_a_healthcheck(services):
    checks = {name: service["healthcheck"]["test"] for name, service in _long_running(services).items()}
    assert checks == {
        "postgres": ["CMD", "pg_isready", "-U", "arena", "-d", "arena"],
        "redis": ["CMD", "redis-cli", "ping"],
        "minio": ["CMD", "mc", "ready", "local"],
        "web": ["CMD", "python", "-c",
                "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=5)"],
        "worker-default": ["CMD", "python", "manage.py", "worker_ready"],
        "worker-score": ["CMD", "python", "manage.py", "worker_ready"],
        "worker-sandbox": ["CMD", "python", "manage.py", "worker_ready", "--sandbox"],
        "worker-sandbox-gpu0": ["CMD", "python", "manage.py", "worker_ready", "--sandbox"],
        "beat": ["CMD", "python", "manage.py", "worker_ready"],
    }
    for service in _long_running(services).values():
        assert {"interval", "timeout", "retries"} <= set(service["healthcheck"])


def test_workers_serve_every_queue_of_the_settings_and_no_other(services, settings):
    queues = {name: _queues(service["command"]) for name, service in _platform(services).items()}
    assert queues == {
        "migrate": set(), "web": set(), "beat": set(), "worker-default": {"default"}, "worker-score": {"score"},
        "worker-sandbox": {"sandbox"}, "worker-sandbox-gpu0": {"sandbox-gpu"},
    }
    assert set().union(*queues.values()) == {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert settings.CELERY_TASK_ROUTES["arena.submissions.tasks.score_submission"]["queue"] == "score"
    assert services["beat"]["command"][:4] == ["celery", "-A", "arena.config", "beat"]


def test_the_commands_exist():
    from django.core.management import get_commands

    from arena.config import celery, wsgi

    assert get_commands()["worker_ready"] == "arena.core"
    assert get_commands()["migrate"] == "django.core"
    assert callable(wsgi.application) and celery.app.main == "arena"


def test_gpu_workers_own_one_gpu_each_and_run_one_model_at_a_time(services):
    gpu = services["worker-sandbox-gpu0"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "device_ids": ["0"], "capabilities": ["gpu"]}]
    assert gpu["environment"]["ARENA_SANDBOX_GPU_IDS"] == "0"
    command = gpu["command"]
    assert command[command.index("-c") + 1] == "1"
    assert "deploy" not in services["worker-sandbox"]


def test_sandbox_workers_reach_the_engine_and_share_their_work_folder_with_it(services):
    for name in ("worker-sandbox", "worker-sandbox-gpu0"):
        service = services[name]
        work = service["environment"]["ARENA_SANDBOX_WORK_DIR"]
        # The runs' bind mounts name host paths: the folder must have the same path on both sides.
        assert f"{work}:{work}" in service["volumes"]
        assert "/var/run/docker.sock:/var/run/docker.sock" in service["volumes"]
    for name in ("web", "worker-default", "worker-score", "beat", "migrate"):
        assert not any("docker.sock" in volume for volume in services[name].get("volumes", []))


def test_platform_services_share_one_configuration_and_start_after_the_schema(services):
    platform = _platform(services)
    reference = platform["web"]["environment"]
    for name, service in platform.items():
        environment = {key: value for key, value in service["environment"].items()
                       if key not in {"ARENA_SANDBOX_WORK_DIR", "ARENA_SANDBOX_GPU_IDS"}}
        assert environment == reference, name
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert reference["DJANGO_SETTINGS_MODULE"] == "arena.config.settings.production"
    assert reference["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert reference["DATABASE_URL"].startswith("postgres://arena:${POSTGRES_PASSWORD")
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]  # only the TLS proxy reaches it


def test_every_variable_is_documented_in_the_readme(services):
    text = COMPOSE.read_text(encoding="utf-8")
    referenced = set(_VARIABLE.findall(text))
    configured = {key for service in _platform(services).values() for key in service["environment"]}
    undocumented = sorted(name for name in referenced | configured if f"`{name}`" not in README)
    assert undocumented == []
    # Secrets are never written into the file: each comes from the environment, required.
    for name in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "ARENA_S3_SECRET_ACCESS_KEY"):
        assert re.search(rf"\$\{{{name}:\?", text), name


def test_the_example_environment_file_lists_every_required_variable():
    text = COMPOSE.read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", text))
    example = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#")}
    assert required <= example
    assert example <= set(_VARIABLE.findall(text))


def test_the_readme_points_to_the_deployment():
    section = README.split("## Running on real services", 1)[1].split("\n## ", 1)[0]
    for words in ("infra/compose.yaml", "infra/platform-image/build.py", "/healthz", "/metrics", "worker_ready",
                  "per GPU", "TLS"):
        assert words in section, words


def test_docker_compose_accepts_the_file(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose plugin on this machine; the structural tests above stand in for it")
    env = tmp_path / ".env"
    env.write_text("".join(f"{line.split('=', 1)[0]}=x\n" for line in ENV_EXAMPLE.read_text().splitlines()
                           if line and not line.startswith("#")))
    result = subprocess.run([docker, "compose", "-f", str(COMPOSE), "--env-file", str(env), "config", "-q"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
