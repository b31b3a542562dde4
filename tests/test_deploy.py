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

from finder.cli.commands import api as api_command

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


def _oruk_cmd() -> list[str]:
    (command,) = re.findall(r"^ORUK_CMD=\((.*)\)$", (DEPLOY / "local-cluster.sh").read_text(), re.MULTILINE)
    return command.split()


def _k8s(name: str) -> dict:
    return yaml.safe_load((DEPLOY / "k8s" / name).read_text())


def test_the_same_image_runs_the_open_referral_api_as_the_local_cluster_does():
    """One process per container: Kubernetes runs the app's image with the API's command, the
    command deploy/local-cluster.sh runs beside the replicas, on the port the image exposes and
    its health check tries when Streamlit is not there."""
    (api,) = _k8s("oruk-deployment.yaml")["spec"]["template"]["spec"]["containers"]
    (app,) = _k8s("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    assert api["image"] == app["image"]
    command = api["command"]
    assert (
        command[: len(_oruk_cmd())]
        == _oruk_cmd()
        == ["python", "-m", "finder", "api", "--root-path", "/oruk"]
    )
    port = int(command[command.index("--port") + 1])
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert api["ports"] == [{"name": "http", "containerPort": port}] and port == api_command.DEFAULT_PORT
    assert str(port) in dockerfile_instruction("EXPOSE")[0].split()
    (health,) = dockerfile_instruction("HEALTHCHECK")
    assert f"127.0.0.1:{port}/health" in health


def test_the_api_deployment_is_probed_non_root_read_only_and_served_at_oruk():
    pod = _k8s("oruk-deployment.yaml")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}
    assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"]
    service = _k8s("oruk-service.yaml")
    labels = _k8s("oruk-deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    ingress = _k8s("oruk-ingress.yaml")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"]["name"] == service["metadata"]["name"]
    # "/oruk/services?postcode=..." reaches the API as "/services?postcode=...", and "/oruk" as "/".
    pattern, rewrite = (
        path["path"],
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"],
    )
    for asked, served in (("/oruk/services", "/services"), ("/oruk/", "/"), ("/oruk", "/")):
        assert re.sub(rf"^{pattern}$", rewrite.replace("$", "\\"), asked) == served
    assert rule["host"] == _k8s("ingress.yaml")["spec"]["rules"][0]["host"]
    # Neither Ingress logs requests: searches are in the addresses.
    for name in ("ingress.yaml", "oruk-ingress.yaml"):
        assert (
            _k8s(name)["metadata"]["annotations"]["nginx.ingress.kubernetes.io/enable-access-log"] == "false"
        )


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
    kinds = {path.name: yaml.safe_load(path.read_text())["kind"] for path in MANIFESTS}
    assert kinds == {
        "deployment.yaml": "Deployment",
        "service.yaml": "Service",
        "ingress.yaml": "Ingress",
        "pdb.yaml": "PodDisruptionBudget",
        "hpa.yaml": "HorizontalPodAutoscaler",
        # The Open Referral UK API beside the app.
        "oruk-deployment.yaml": "Deployment",
        "oruk-service.yaml": "Service",
        "oruk-ingress.yaml": "Ingress",
        "oruk-pdb.yaml": "PodDisruptionBudget",
    }


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
def test_haproxy_accepts_the_config_that_routes_oruk_to_the_api(tmp_path):
    """HAProxy's own check passes, with a server in each backend as local-cluster.sh renders it;
    /oruk/ goes to the API, checked on /health, and nothing is logged (searches are in URLs)."""
    text = (DEPLOY / "haproxy.cfg").read_text()
    assert "use_backend oruk if { path_beg /oruk/ }" in text and "\nbackend oruk\n" in text
    assert "option httpchk GET /health" in text.split("\nbackend oruk\n")[1]
    assert not re.search(r"^\s*(log|option\s+httplog)\b", text, re.MULTILINE)
    text = text.replace("# @servers finder", "server replica1 127.0.0.1:2 cookie r1").replace(
        "# @servers oruk", "server oruk1 127.0.0.1:3"
    )
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


# --- The release pipeline (.github/workflows) ---------------------------------------------------

WORKFLOWS = ROOT / ".github" / "workflows"


def _workflow(name: str) -> dict:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    loaded["on"] = loaded.pop(True)  # YAML 1.1 reads the key `on` as true
    return loaded


def test_the_workflows_are_valid_github_actions():
    """Checked against GitHub's own workflow schema, as check-jsonschema ships it."""
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"test.yml", "refresh.yml", "release.yml"}
    done = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_release_is_the_tested_commit_built_into_the_image_the_cluster_runs():
    jobs = _workflow("release.yml")["jobs"]
    # The README's test command first (test.yml runs .ci/run), then the image, then the cluster.
    assert jobs["test"]["uses"] == "./.github/workflows/test.yml"
    assert "workflow_call" in _workflow("test.yml")["on"]
    assert "bash .ci/run" in [step.get("run") for step in _workflow("test.yml")["jobs"]["test"]["steps"]]
    assert jobs["image"]["needs"] == "test" and jobs["deploy"]["needs"] == "image"
    (build,) = [s for s in jobs["image"]["steps"] if str(s.get("uses", "")).startswith("docker/build-push")]
    assert build["with"]["file"] == "deploy/Dockerfile" and build["with"]["context"] == "."
    (name,) = [s for s in jobs["image"]["steps"] if s.get("id") == "name"]
    assert ":${GITHUB_SHA}" in name["run"]  # one image per commit: rolling back is the tag before
    # It rolls exactly the deployments and containers of deploy/k8s, as the README's step 4 does.
    declared = {
        (manifest["metadata"]["name"], container["name"])
        for manifest in (_k8s("deployment.yaml"), _k8s("oruk-deployment.yaml"))
        for container in manifest["spec"]["template"]["spec"]["containers"]
    }
    script = "\n".join(step.get("run", "") for step in jobs["deploy"]["steps"])
    set_image = r"kubectl set image\s+deployment/([\w-]+) ([\w-]+)="
    assert set(re.findall(set_image, script)) == declared
    assert set(re.findall(set_image, (ROOT / "README.md").read_text())) == declared
    assert script.count("kubectl rollout status") == 4  # the release, and a roll back if it fails


def test_new_data_from_the_weekly_refresh_is_released():
    """The refresh pushes with the job's own token, which starts no workflow: it starts the
    release itself, after the push."""
    refresh = _workflow("refresh.yml")
    assert "workflow_dispatch" in _workflow("release.yml")["on"]
    assert refresh["permissions"]["actions"] == "write"
    names = [step.get("name") for step in refresh["jobs"]["refresh"]["steps"]]
    pushed, released = names.index("Commit and push data/"), names.index("Release the new data")
    assert pushed < released
    step = refresh["jobs"]["refresh"]["steps"][released]
    assert step["run"].startswith("gh workflow run release.yml")
    assert step["if"] == refresh["jobs"]["refresh"]["steps"][pushed]["if"]


def test_the_image_compiles_every_package_it_copies():
    """A read-only container cannot keep compiled code: what is not compiled in the image is
    compiled again at every start."""
    copied = {line.split()[0].rstrip("/") for line in dockerfile_instruction("COPY")}
    code = {path for path in copied if path == "app.py" or (ROOT / path / "__init__.py").exists()}
    assert code == {"app.py", "app_pages", "finder", "scrapers"}
    (compiled,) = [line for line in dockerfile_instruction("RUN") if "compileall" in line]
    assert code <= set(compiled.split())
