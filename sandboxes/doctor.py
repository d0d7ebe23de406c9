"""`python -m sandboxes doctor [--gpu] [--json]`: can this host run sandboxes?

For an operator setting up a worker host. Each check is one line, `ok <what>: <detail>` or
`FAIL <what>: <what is wrong and how to fix it>`; the exit status is 0 only when every check
passed. Without `--gpu`: the Docker engine answers; the images a worker needs are present; a
locked-down run works end to end (predictions written, no network, nothing left behind); the
GPU ids in ARENA_SANDBOX_GPU_IDS parse. With `--gpu`, also: the host has an NVIDIA driver; the
engine can hand out GPUs (nvidia runtime, hook or CDI spec); a container given the GPU device
request of `sandboxes.spec` sees the device; and a corruption run on the GPU equals the CPU's
up to float tolerance.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import docker
import numpy as np
import requests
from docker.errors import DockerException

from sandboxes.baselines import TORCH_IMAGE
from sandboxes.corruptions.io import read_png, read_wav, write_png, write_wav
from sandboxes.engine import SANDBOX_LABEL
from sandboxes.errors import SandboxError
from sandboxes.images import image_present
from sandboxes.limits import GPU_IDS_ENV, SandboxLimits, worker_gpu_ids
from sandboxes.runner import run_container
from sandboxes.spec import KEEPER_IMAGE, RUN_LABEL, gpu_device_requests

BUILD_COMMAND = "bash infra/sandbox-images/build.sh"
BASE_IMAGE = "arena/sandbox-base:latest"
# The image that applies robustness corruptions on the worker.
CORRUPT_IMAGE = "arena/sandbox-corrupt:latest"
# Seconds an engine call of the doctor may take: it should answer quickly or be reported.
ENGINE_TIMEOUT_S = 60
# The repository whose `sandboxes` package is mounted (read-only) into the corruption runs.
REPO = Path(__file__).resolve().parents[1]
CORRUPTION_CONDITION = "noise:white@10db+gauss:1.5"
# A CUDA run may round a few values the other way: one 16-bit audio step, one grey level.
AUDIO_TOLERANCE = 2 / 32768
FRAME_TOLERANCE = 1
TOOLKIT_HOW_TO = (
    "install the NVIDIA container toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker` "
    "and restart the engine (see sandboxes/README.md, GPU worker hosts)"
)

# Runs in the sandbox: write the predictions, try the network (an IP literal, so no DNS is
# needed to fail), and say which container this is and which interfaces it sees.
_PROBE = """
import os, shutil, socket
shutil.copy('/input/inputs.csv', '/output/predictions.csv')
try:
    socket.create_connection(('1.1.1.1', 53), timeout=3).close()
    print('network: open')
except OSError as exc:
    print('network: blocked', exc.strerror or type(exc).__name__)
print('interfaces:', ','.join(sorted(os.listdir('/sys/class/net'))))
print('container:', socket.gethostname())
"""


@dataclass(frozen=True)
class Check:
    """The outcome of one check: `what` was checked; `detail` says what was found, or what is
    wrong and how to fix it."""

    what: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL'} {self.what}: {self.detail}"


def worker_images() -> list[str]:
    """The images a sandbox worker needs, each once: the keeper, the base, torch, corruptions."""
    return list(dict.fromkeys([KEEPER_IMAGE, BASE_IMAGE, TORCH_IMAGE, CORRUPT_IMAGE]))


def run_checks(
    *,
    gpu: bool = False,
    client: docker.DockerClient | None = None,
    images: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    torch_image: str = TORCH_IMAGE,
) -> list[Check]:
    """Every check of the doctor, in order (GPU checks only when `gpu`); never raises for what
    it finds. `images` replaces the list of `worker_images()`."""
    environ = os.environ if environ is None else environ
    checks: list[Check] = []
    engine = _engine(client, checks)
    wanted = worker_images() if images is None else list(images)
    if engine is None:
        checks.append(Check("images", False, "not checked: no Docker engine"))
        checks.append(Check("sandbox run", False, "not checked: no Docker engine"))
    else:
        checks.extend(_image_check(engine, name) for name in wanted)
        checks.append(_guarded("sandbox run", lambda: _sandbox_run_check(engine)))
    checks.append(gpu_ids_check(environ))
    if gpu:
        checks.extend(_gpu_checks(engine, environ, torch_image))
    return checks


def _guarded(what: str, check: Callable[[], Check]) -> Check:
    """`check()`, or a FAIL line when the engine fails under it."""
    try:
        return check()
    except SandboxError as exc:
        return Check(what, False, exc.message)
    except (DockerException, requests.exceptions.RequestException, OSError) as exc:
        return Check(what, False, f"the Docker engine failed: {' '.join(str(exc).split())}")


def _engine(client: docker.DockerClient | None, checks: list[Check]) -> docker.DockerClient | None:
    try:
        client = client or docker.from_env(timeout=ENGINE_TIMEOUT_S)
        client.ping()
        version, info = client.version(), client.info()
    except (DockerException, requests.exceptions.RequestException, OSError) as exc:
        checks.append(Check("engine", False, (
            f"no Docker engine answers ({' '.join(str(exc).split())}): start it (`systemctl start docker`), "
            "and check DOCKER_HOST and that this user may use the engine's socket")))
        return None
    checks.append(Check("engine", True, (
        f"Docker {version.get('Version', '?')} (API {version.get('ApiVersion', '?')}), storage driver "
        f"{info.get('Driver', '?')}, cgroup v{info.get('CgroupVersion') or '1'} "
        f"({info.get('CgroupDriver', '?')} driver)")))
    return client


def _image_check(client: docker.DockerClient, name: str) -> Check:
    what = f"image {name}"
    try:
        present = image_present(name, client)
    except (DockerException, requests.exceptions.RequestException) as exc:
        return Check(what, False, f"the engine could not say whether it is present: {exc}")
    if not present:
        return Check(what, False, f"missing: build it with `{BUILD_COMMAND}`")
    return Check(what, True, f"present ({client.images.get(name).id[:19]})")


def _sandbox_run_check(client: docker.DockerClient) -> Check:
    """One locked-down run of the base image: it must write predictions.csv, fail to connect
    anywhere, and leave no container or volume behind."""
    what = "sandbox run"
    before = _sandbox_volumes(client)
    with tempfile.TemporaryDirectory(prefix="arena-doctor-") as tmp:
        input_dir, output_dir = Path(tmp) / "input", Path(tmp) / "output"
        input_dir.mkdir()
        Path(tmp).chmod(0o755)
        input_dir.chmod(0o755)
        (input_dir / "inputs.csv").write_text("key,value\na,1\n", encoding="utf-8")
        (input_dir / "inputs.csv").chmod(0o644)
        result = run_container(
            BASE_IMAGE, input_dir=input_dir, output_dir=output_dir, client=client,
            limits=SandboxLimits(wall_seconds=30, memory_mb=128, cpus=1.0),
            command=["python3", "-c", _PROBE],
        )
        written = (output_dir / "predictions.csv").read_text(encoding="utf-8") if result.succeeded else ""
    if result.failure is not None:
        return Check(what, False, f"the run failed: {result.failure} Logs: {' '.join(result.logs.split())[-300:]}")
    if written != "key,value\na,1\n":
        return Check(what, False, "/output/predictions.csv did not arrive intact in the output folder")
    probe = dict(line.split(": ", 1) for line in result.logs.splitlines() if ": " in line)
    network = probe.get("network", "")
    if not network.startswith("blocked"):
        return Check(what, False, f"the sandbox could open a network connection ({network or 'no answer'}): "
                                  "check that the engine honours network_mode=none")
    if probe.get("interfaces") not in ("lo", ""):
        return Check(what, False, f"the sandbox sees network interfaces {probe.get('interfaces')}; only lo expected")
    container = probe.get("container", "")
    left = client.api.containers(all=True, filters={"id": container}) if container else []
    left_volumes = [name for name, run in _sandbox_volumes(client).items() if name not in before
                    and not client.api.containers(all=True, filters={"label": f"{RUN_LABEL}={run}"})]
    if left or left_volumes:
        return Check(what, False, f"the run left {len(left)} container(s) and volumes {left_volumes} behind")
    return Check(what, True, (
        f"predictions written in {result.duration_s:.1f} s, no network (a connection attempt failed: "
        f"{network.removeprefix('blocked ')}), container and output volume removed"))


def _sandbox_volumes(client: docker.DockerClient) -> dict[str, str]:
    """The sandbox volumes on the engine: name -> run id."""
    volumes = client.api.volumes(filters={"label": f"{SANDBOX_LABEL}=1"}).get("Volumes") or []
    return {v["Name"]: (v.get("Labels") or {}).get(RUN_LABEL, "") for v in volumes}


_GPU_ID = re.compile(r"^(\d+|GPU-[0-9a-fA-F-]+|MIG-[0-9A-Za-z/-]+)$")


def gpu_ids_check(environ: Mapping[str, str]) -> Check:
    what = GPU_IDS_ENV
    ids = worker_gpu_ids(environ)
    if not ids:
        return Check(what, True, "unset: this worker owns no particular GPUs (GPU tracks get any free one)")
    wrong = [i for i in ids if not _GPU_ID.match(i)]
    if wrong:
        return Check(what, False, f"{', '.join(wrong)} is not a GPU index or UUID; write e.g. `0,1` or "
                                  "the UUIDs `nvidia-smi -L` prints")
    if len(set(ids)) != len(ids):
        return Check(what, False, f"{environ.get(GPU_IDS_ENV)!r} names a GPU twice")
    return Check(what, True, f"this worker owns GPU(s) {', '.join(ids)}")


def _gpu_checks(engine: docker.DockerClient | None, environ: Mapping[str, str], torch_image: str) -> list[Check]:
    names = ("gpu driver", "gpu runtime", "gpu container", "gpu corruption")
    driver = _gpu_driver_check()
    if not driver.ok:
        return [driver, *(Check(name, False, "not checked: no GPU") for name in names[1:])]
    if engine is None:
        return [driver, *(Check(name, False, "not checked: no Docker engine") for name in names[1:])]
    runtime = _guarded("gpu runtime", lambda: _gpu_runtime_check(engine))
    if not runtime.ok:
        return [driver, runtime, *(Check(name, False, "not checked: the engine cannot hand out GPUs")
                                   for name in names[2:])]
    limits = SandboxLimits(wall_seconds=120, memory_mb=2048, cpus=1.0, gpus=1,
                           gpu_device_ids=worker_gpu_ids(environ)[:1])
    container = _guarded("gpu container", lambda: gpu_container_check(engine, limits, torch_image))
    if not container.ok:
        return [driver, runtime, container, Check("gpu corruption", False, "not checked: no GPU in containers")]
    corruption = _guarded("gpu corruption", lambda: corruption_device_check(engine, "cuda", limits, torch_image))
    return [driver, runtime, container, corruption]


def _gpu_driver_check() -> Check:
    devices = sorted(p.name for p in Path("/dev").glob("nvidia[0-9]*"))
    if not Path("/dev/nvidiactl").exists() or not devices:
        return Check("gpu driver", False, (
            "no GPU: this host has no NVIDIA device (/dev/nvidiactl, /dev/nvidia0 missing); install the "
            "NVIDIA driver on a host with a GPU, or run the worker without GPU tracks"))
    return Check("gpu driver", True, f"NVIDIA devices {', '.join(devices)}")


def _gpu_runtime_check(client: docker.DockerClient) -> Check:
    info = client.info()
    runtimes = sorted(info.get("Runtimes") or {})
    cdi_dirs = info.get("CDISpecDirs") or ["/etc/cdi", "/var/run/cdi"]
    cdi = sorted(str(p) for d in cdi_dirs for p in Path(d).glob("*.y*ml")
                 if "nvidia.com/gpu" in p.read_text(errors="replace")) if cdi_dirs else []
    hook = shutil.which("nvidia-container-runtime-hook")
    found = [f"runtime {r}" for r in runtimes if "nvidia" in r]
    found += [f"hook {hook}"] if hook else []
    found += [f"CDI spec {c}" for c in cdi]
    if not found:
        return Check("gpu runtime", False, (
            f"no GPU: the engine has no nvidia runtime (runtimes: {', '.join(runtimes) or 'none'}), "
            f"no nvidia-container-runtime-hook and no NVIDIA CDI spec; {TOOLKIT_HOW_TO}"))
    return Check("gpu runtime", True, ", ".join(found))


def gpu_container_check(client: docker.DockerClient, limits: SandboxLimits, torch_image: str) -> Check:
    """A sandbox run of the torch image with a GPU track's limits (so its device request and its
    lock-down) must see the GPU (`nvidia-smi -L`), and torch must find CUDA."""
    code = ("import subprocess, torch\n"
            "try:\n"
            "    print(subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True).stdout.strip())\n"
            "except FileNotFoundError:\n"
            "    print('nvidia-smi is not in the container (the toolkit mounts it with the GPU)')\n"
            "print('torch', torch.__version__, 'cuda', torch.cuda.is_available())")
    with tempfile.TemporaryDirectory(prefix="arena-doctor-") as tmp:
        Path(tmp).chmod(0o755)
        (Path(tmp) / "input").mkdir(mode=0o755)
        result = run_container(torch_image, input_dir=Path(tmp) / "input", output_dir=Path(tmp) / "output",
                               limits=limits, client=client, command=["python3", "-c", code])
    logs = result.logs
    listed = [line for line in logs.splitlines() if line.startswith("GPU ")]
    torch_line = next((line for line in logs.splitlines() if line.startswith("torch ")), "")
    if not listed:
        return Check("gpu container", False, (
            f"no GPU inside a sandbox given {_describe_request(limits)}: "
            f"{' '.join(logs.split())[-300:] or result.failure}; {TOOLKIT_HOW_TO}"))
    if not torch_line.endswith("cuda True"):
        return Check("gpu container", False, (
            f"the sandbox sees {listed[0]}, but torch in {torch_image} has no CUDA ({torch_line}); build a "
            "torch image with CUDA wheels and pass it with --torch-image"))
    return Check("gpu container", True, f"{'; '.join(listed)} ({torch_line})")


def _describe_request(limits: SandboxLimits) -> str:
    requests_ = gpu_device_requests(limits)
    if not requests_:
        return "no GPU device request"
    ids = requests_[0].device_ids
    return f"the device request for GPU(s) {', '.join(ids)}" if ids else f"the device request for {limits.gpus} GPU(s)"


def _run_plain(client: docker.DockerClient, image: str, command: list[str], *, limits: SandboxLimits | None = None,
               volumes: dict | None = None) -> str:
    """Run a short helper container (no network, removed afterwards) and return its output."""
    output = client.containers.run(
        image, command, remove=True, network_disabled=True, network_mode="none", stdout=True, stderr=True,
        user=f"{os.getuid()}:{os.getgid()}", environment={"PYTHONPATH": "/src", "HOME": "/tmp"},
        working_dir="/src", volumes=volumes or {}, labels={SANDBOX_LABEL: "1"},
        device_requests=gpu_device_requests(limits) if limits else None,
    )
    return output.decode("utf-8", errors="replace")


def write_tiny_clip(folder: Path) -> None:
    """One clip of clean inputs: 0.5 s of a tone in noise, and two 24x32 RGB frames."""
    rng = np.random.default_rng(3)
    t = np.arange(8_000) / 16_000
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "clip.wav", 0.2 * np.sin(2 * np.pi * 220 * t) + 0.02 * rng.standard_normal(t.size))
    (folder / "clip").mkdir()
    y, x = np.mgrid[0:24, 0:32]
    for index in range(2):
        frame = np.stack([x * 7 + index, y * 9, (x + y) * 4], axis=-1) + rng.integers(0, 20, (24, 32, 3))
        write_png(folder / "clip" / f"{index:04d}.png", np.clip(frame, 0, 255).astype(np.uint8))


def corruption_device_check(client: docker.DockerClient, device: str, limits: SandboxLimits | None,
                            torch_image: str = TORCH_IMAGE) -> Check:
    """`python3 -m sandboxes.corruptions apply --device <device>` on one tiny clip in the torch
    image (this repository's `sandboxes` mounted at /src), compared with the same run on the
    CPU; `limits` gives the run its GPU device request."""
    what = f"{'gpu ' if device.startswith('cuda') else ''}corruption"
    with tempfile.TemporaryDirectory(prefix="arena-doctor-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        write_tiny_clip(work / "clean")
        volumes = {str(REPO / "sandboxes"): {"bind": "/src/sandboxes", "mode": "ro"},
                   str(work): {"bind": "/work", "mode": "rw"}}
        for name, on, run_limits in (("cpu", "cpu", None), ("device", device, limits)):
            _run_plain(client, torch_image, [
                "python3", "-m", "sandboxes.corruptions", "apply", "--condition", CORRUPTION_CONDITION,
                "--seed", "7", "--input", "/work/clean", "--output", f"/work/{name}", "--device", on,
            ], limits=run_limits, volumes=volumes)
        audio = np.abs(read_wav(work / "device" / "clip.wav") - read_wav(work / "cpu" / "clip.wav")).max()
        frames = max(int(np.abs(read_png(work / "device" / "clip" / n).astype(int)
                                - read_png(work / "cpu" / "clip" / n).astype(int)).max())
                     for n in ("0000.png", "0001.png"))
        changed = not np.array_equal(read_wav(work / "cpu" / "clip.wav"), read_wav(work / "clean" / "clip.wav"))
    if not changed:
        return Check(what, False, f"{CORRUPTION_CONDITION} left the clip unchanged on the CPU")
    if audio > AUDIO_TOLERANCE or frames > FRAME_TOLERANCE:
        return Check(what, False, (
            f"{CORRUPTION_CONDITION} on {device} differs from the CPU beyond float tolerance: audio by "
            f"{audio * 32768:.0f} steps of 1/32768 (at most {AUDIO_TOLERANCE * 32768:.0f}), frames by {frames} "
            f"grey levels (at most {FRAME_TOLERANCE})"))
    return Check(what, True, (
        f"{CORRUPTION_CONDITION} on {device} equals the CPU's within tolerance (audio {audio * 32768:.0f} "
        f"steps, frames {frames} grey levels)"))


def report(checks: Sequence[Check], *, as_json: bool = False) -> str:
    """The checks as text lines, or as one JSON document {"ok", "checks"}."""
    if as_json:
        return json.dumps({"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}, indent=2)
    return "\n".join(c.line() for c in checks)
