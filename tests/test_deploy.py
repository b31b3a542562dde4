"""The deployment files an operator relies on: the container, the Kubernetes manifests, the
production settings and the local cluster script's refusals (the cluster itself runs in
tests/test_cluster.py). No Docker daemon is needed: the local cluster runs the image's command."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))


def dockerfile_instruction(name: str) -> list[str]:
    lines = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [line.split(None, 1)[1] for line in lines if line.split(None, 1)[:1] == [name]]


def test_the_dockerfile_is_clean_under_hadolint():
    done = subprocess.run([BIN / "hadolint", DEPLOY / "Dockerfile"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_container_runs_what_each_local_replica_runs():
    (cmd,) = dockerfile_instruction("CMD")
    script = (DEPLOY / "local-cluster.sh").read_text()
    (replica,) = re.findall(r"^REPLICA_CMD=\((.*)\)$", script, re.MULTILINE)
    assert json.loads(cmd) == replica.split() == ["python", "-m", "streamlit", "run", "app.py"]


def test_the_container_is_non_root_with_data_and_a_health_check():
    assert (
        dockerfile_instruction("FROM")[0].startswith("python:")
        and "slim" in dockerfile_instruction("FROM")[0]
    )
    (user,) = dockerfile_instruction("USER")
    assert user not in ("root", "0")
    copied = " ".join(dockerfile_instruction("COPY"))
    assert "data/" in copied and "requirements.txt" in copied and "requirements-dev" not in copied
    (health,) = dockerfile_instruction("HEALTHCHECK")
    assert "/_stcore/health" in health
    # .dockerignore lets in only what the image copies: no venv, tests or local secrets.
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert (
        "*" in ignored
        and "!data/" in ignored
        and not any(".venv" in line and line.startswith("!") for line in ignored)
    )
    # The app's pages and every package they import reach the image (one left out fails only
    # when the page is served).
    for package in ("app_pages/", "finder/", "scrapers/"):
        assert package in copied and f"!{package}" in ignored, package


def test_the_kubernetes_manifests_are_valid_for_the_api():
    done = subprocess.run(
        [BIN / "kubernetes-validate", "--strict", "--quiet", *MANIFESTS], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = {yaml.safe_load(path.read_text())["kind"] for path in MANIFESTS}
    assert kinds == {"Deployment", "Service", "Ingress", "PodDisruptionBudget", "HorizontalPodAutoscaler"}


def test_the_deployment_is_highly_available_non_root_and_read_only():
    deployment = yaml.safe_load((DEPLOY / "k8s" / "deployment.yaml").read_text())
    spec = deployment["spec"]
    assert spec["replicas"] >= 2 and spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_stcore/health"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    writable = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert (
        writable == {"tmp": "/tmp"} and {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]
    )
    limits, requests = container["resources"]["limits"], container["resources"]["requests"]
    assert requests["memory"] and limits["memory"] and requests["cpu"]
    # HOME and the cache are in the writable /tmp, as the image sets them.
    env = " ".join(dockerfile_instruction("ENV"))
    assert "HOME=/tmp" in env and "FINDER_CACHE_DIR=/tmp/" in env
    ingress = yaml.safe_load((DEPLOY / "k8s" / "ingress.yaml").read_text())
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"


def test_production_settings_keep_privacy_and_add_what_a_public_server_needs():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["fileWatcherType"] == "none"
    assert "cookieSecret" not in config["server"]  # a secret: from the environment only


def local_cluster(*args: str, run_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOCAL_CLUSTER_RUN_DIR": str(run_dir)}
    return subprocess.run(
        ["bash", DEPLOY / "local-cluster.sh", *args], env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("down",), "nothing is running"),
        (("up", "two", "8080"), "N must be a number"),
        (("up", "2"), "up needs N and PORT"),
        (("restart",), "unknown command"),
    ],
)
def test_the_cluster_script_refuses_bad_use_with_one_line(tmp_path, args, says):
    done = local_cluster(*args, run_dir=tmp_path / "run")
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "replicas.pid").exists()


def test_the_cluster_script_refuses_a_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = local_cluster("up", "1", str(port), run_dir=tmp_path / "run")
    assert done.returncode == 2 and done.stderr.strip() == f"local-cluster: port {port} is in use"
    assert not (tmp_path / "run" / "replicas.pid").exists()


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs Debian's haproxy")
@pytest.mark.parametrize("with_oruk", [False, True])
def test_haproxy_accepts_the_config_and_its_marked_place_for_the_oruk_api(tmp_path, with_oruk):
    """As shipped, and with the Open Referral API's commented lines switched on (the place left
    for the coordinator to route /oruk/), HAProxy's own check passes."""
    text = (DEPLOY / "haproxy.cfg").read_text()
    if with_oruk:
        text = text.replace("    # use_backend oruk", "    use_backend oruk").replace(
            "# backend oruk", "backend oruk"
        )
        text = re.sub(r"^#(     .*)$", r"\1", text, flags=re.MULTILINE)
        assert "use_backend oruk if" in text and "\nbackend oruk" in text
    config = tmp_path / "haproxy.cfg"
    config.write_text(text)
    env = {
        **os.environ,
        "FINDER_LB_RUN_DIR": str(tmp_path),
        "FINDER_LB_ADDRESS": "127.0.0.1",
        "FINDER_LB_PORT": "1",
    }
    done = subprocess.run(["haproxy", "-c", "-f", str(config)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
