"""The corruption step on the sandbox host and its caches: the cache logic on its own, then the
step in the corruption image on a real engine (a tiny clean set of 3 clips)."""

from __future__ import annotations

import doctest
import fcntl
import hashlib
import json
import multiprocessing
import os
import shutil
import stat
import time
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import sandboxes.conditions.cache
import sandboxes.conditions.prepare
from sandboxes import image_present
from sandboxes.baselines import TORCH_IMAGE
from sandboxes.conditions import (
    CONDITION_LABEL,
    DEFAULT_CORRUPTION_LIMITS,
    ConditionCache,
    CorruptionError,
    FolderCache,
    InputCache,
    corruption_container_spec,
    noise_bank_digest,
    prepare_condition,
)
from sandboxes.conditions.image import build_corrupt_image
from sandboxes.corruptions import parse_condition
from sandboxes.corruptions.io import write_png, write_wav
from sandboxes.limits import SandboxLimits
from tests.conftest import require

CONDITION = "noise:white@5db+blur:2"


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`, by relative path."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def write_bytes_fill(size: int, calls: list[str] | None = None, name: str = "blob"):
    def fill(folder: Path) -> None:
        if calls is not None:
            calls.append(name)
        (folder / "sub").mkdir(mode=0o700)
        (folder / "sub" / name).write_bytes(b"x" * size)
        (folder / "sub" / name).chmod(0o600)

    return fill


# --- the caches, without Docker --------------------------------------------------------------


def test_the_docstring_examples_hold():
    for module, examples in ((sandboxes.conditions.cache, 1), (sandboxes.conditions.prepare, 1)):
        result = doctest.testmod(module)
        assert (result.failed, result.attempted) == (0, examples)


def test_an_entry_is_filled_once_made_readable_and_reused(tmp_path):
    cache = FolderCache(tmp_path / "cache", max_bytes=10_000)
    calls: list[str] = []
    with cache.pinned("k1", write_bytes_fill(100, calls)) as folder:
        assert folder == tmp_path / "cache" / "entries" / "k1" / "data"
        assert (folder / "sub" / "blob").read_bytes() == b"x" * 100
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755
        assert stat.S_IMODE((folder / "sub").stat().st_mode) == 0o755
        assert stat.S_IMODE((folder / "sub" / "blob").stat().st_mode) == 0o644
        inode = folder.stat().st_ino
    with cache.pinned("k1", write_bytes_fill(100, calls)) as again:
        assert again == folder and again.stat().st_ino == inode
    assert calls == ["blob"]
    assert [(e.key, e.size_bytes) for e in cache.entries()] == [("k1", 100)]
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


def test_a_failed_fill_keeps_nothing_and_the_next_caller_fills_again(tmp_path):
    cache = FolderCache(tmp_path, max_bytes=10_000)

    def broken(folder: Path) -> None:
        (folder / "half").write_bytes(b"x")
        raise RuntimeError("unpack failed")

    with pytest.raises(RuntimeError, match="unpack failed"), cache.pinned("k", broken):
        pass
    assert cache.entries() == []
    assert list((tmp_path / "tmp").iterdir()) == []
    with cache.pinned("k", write_bytes_fill(5)) as folder:
        assert tree_digest(folder) == {"sub/blob": hashlib.sha256(b"xxxxx").hexdigest()}


def test_the_least_recently_used_entry_goes_first(tmp_path):
    cache = FolderCache(tmp_path, max_bytes=250)
    for key in ("a", "b", "c"):
        with cache.pinned(key, write_bytes_fill(100)):
            pass
    # c evicted a on arrival (300 > 250); using b now makes c the least recently used.
    assert [e.key for e in cache.entries()] == ["b", "c"]
    with cache.pinned("b", write_bytes_fill(100)):
        pass
    with cache.pinned("d", write_bytes_fill(100)):
        pass
    assert [e.key for e in cache.entries()] == ["b", "d"]
    assert cache.size_bytes() == 200
    assert not (tmp_path / "entries" / "c").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_an_entry_in_use_is_never_evicted(tmp_path):
    cache = FolderCache(tmp_path, max_bytes=250)
    with cache.pinned("a", write_bytes_fill(100)) as held:
        for key in ("b", "c", "d"):
            with cache.pinned(key, write_bytes_fill(100)):
                pass
        # a is the least recently used, but in use: b and c went instead.
        assert [e.key for e in cache.entries()] == ["a", "d"]
        assert (held / "sub" / "blob").read_bytes() == b"x" * 100
        # Over the bound with only entries in use: they all stay.
        with cache.pinned("e", write_bytes_fill(200)), cache.pinned("d", write_bytes_fill(100)):
            assert sorted(e.key for e in cache.entries()) == ["a", "d", "e"]
    # An entry counts as used when it is released: d, then e, then a.
    with cache.pinned("f", write_bytes_fill(10)):
        pass
    assert sorted(e.key for e in cache.entries()) == ["a", "f"]
    # Released, a can go now.
    with cache.pinned("g", write_bytes_fill(240)):
        pass
    assert sorted(e.key for e in cache.entries()) == ["f", "g"]


def test_a_stale_temp_folder_is_never_used_and_is_swept(tmp_path):
    cache = FolderCache(tmp_path, max_bytes=10_000)
    # A fill that crashed after writing its data and metadata, before the rename.
    stale = tmp_path / "tmp" / "k.0123456789ab"
    (stale / "data").mkdir(parents=True)
    (stale / "data" / "stale").write_text("half-written")
    (stale / "meta.json").write_text(json.dumps({"size_bytes": 12}))
    assert cache.entries() == []
    with cache.pinned("k", write_bytes_fill(3)) as folder:
        assert sorted(tree_digest(folder)) == ["sub/blob"]
    assert not stale.exists()
    # Another key's stale temp folder is swept by the next eviction pass; a live fill's is not.
    (tmp_path / "tmp" / "other.0123456789ab").mkdir()
    live = tmp_path / "tmp" / "busy.0123456789ab"
    live.mkdir()
    lock = os.open(tmp_path / "locks" / "busy.fill", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert cache.evict() == []
        assert [p.name for p in (tmp_path / "tmp").iterdir()] == ["busy.0123456789ab"]
    finally:
        os.close(lock)
    assert cache.sweep() == 1
    assert list((tmp_path / "tmp").iterdir()) == []


def _fill_in_child(root: str, barrier, log: str) -> str:
    cache = FolderCache(Path(root), max_bytes=10_000)

    def slow_fill(folder: Path) -> None:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(0.5)
        (folder / "made-by").write_text(str(os.getpid()))

    barrier.wait()
    with cache.pinned("shared", slow_fill) as folder:
        return (folder / "made-by").read_text()


def test_concurrent_processes_fill_a_key_once(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(3)
    log = tmp_path / "fills.log"
    with context.Pool(3) as pool:
        made_by = pool.starmap(_fill_in_child, [(str(tmp_path / "cache"), barrier, str(log))] * 3)
    fills = log.read_text().split()
    assert len(fills) == 1
    assert made_by == fills * 3


def test_the_input_cache_unpacks_once_per_digest(tmp_path):
    cache = InputCache(tmp_path, max_bytes=10_000)
    calls: list[str] = []
    with cache.unpacked("sha256:aa", write_bytes_fill(10, calls, "a")) as first:
        with cache.unpacked("sha256:aa", write_bytes_fill(10, calls, "a")) as again:
            assert again == first
        with cache.unpacked("sha256:bb", write_bytes_fill(10, calls, "b")) as other:
            assert other != first and sorted(tree_digest(other)) == ["sub/b"]
    assert calls == ["a", "b"]
    meta = json.loads((first.parent / "meta.json").read_text())
    assert meta["inputs_digest"] == "sha256:aa" and meta["size_bytes"] == 10


def test_condition_keys_differ_by_each_part():
    key = ConditionCache.key_for("d1", "blur:2", 7, "")
    assert key == ConditionCache.key_for("d1", "blur:2", 7)
    assert len(key) == 32
    others = {ConditionCache.key_for(*parts) for parts in
              [("d2", "blur:2", 7, ""), ("d1", "blur:4", 7, ""), ("d1", "blur:2", 8, ""),
               ("d1", "blur:2", 7, "ff")]}
    assert len(others) == 4 and key not in others


def test_bad_cache_keys_and_bounds_are_refused(tmp_path):
    with pytest.raises(ValueError, match="max_bytes must be positive"):
        FolderCache(tmp_path, max_bytes=0)
    cache = FolderCache(tmp_path, max_bytes=1)
    with pytest.raises(ValueError, match="a cache key is"), cache.pinned("../x", write_bytes_fill(1)):
        pass


# --- the step's container, without Docker ----------------------------------------------------


def test_the_corruption_container_is_locked_down(tmp_path):
    bank = [tmp_path / "hum.wav"]
    limits = SandboxLimits(wall_seconds=60, memory_mb=1024, cpus=1.0, pids=64)
    spec = corruption_container_spec(
        condition=parse_condition("blur:2"), seed=7, clean_dir=tmp_path / "clean", output_dir=tmp_path / "out",
        noise_bank=bank, limits=limits, run_id="r1", labels={CONDITION_LABEL: "k"},
    )
    assert spec["image"] == "arena/sandbox-corrupt:latest"
    assert spec["name"] == "arena-sandbox-r1-corrupt"
    assert spec["labels"] == {"arena.sandbox": "1", "arena.sandbox.run": "r1",
                              "arena.sandbox.role": "corrupt", CONDITION_LABEL: "k"}
    assert spec["user"] == "65534:65534"
    assert (spec["network_mode"], spec["network_disabled"], spec["read_only"]) == ("none", True, True)
    assert spec["cap_drop"] == ["ALL"] and spec["security_opt"] == ["no-new-privileges:true"]
    assert spec["privileged"] is False
    assert (spec["mem_limit"], spec["memswap_limit"], spec["pids_limit"], spec["nano_cpus"]) == (
        "1024m", "1024m", 64, 1_000_000_000)
    mounts = {m["Target"]: (m["Source"], m["ReadOnly"], m["Type"]) for m in spec["mounts"]}
    assert mounts == {
        "/clean": (str(tmp_path / "clean"), True, "bind"),
        "/bank/000.wav": (str(tmp_path / "hum.wav"), True, "bind"),
        "/out": (str(tmp_path / "out"), False, "bind"),
    }
    assert spec["command"] == [
        "python3", "-m", "sandboxes.corruptions", "apply", "--condition", "blur:2", "--seed", "7",
        "--input", "/clean", "--output", "/out", "--device", "cpu", "--noise-bank", "/bank/000.wav",
    ]
    assert "device_requests" not in spec


def test_gpu_ids_run_the_step_on_cuda(tmp_path):
    spec = corruption_container_spec(
        condition=parse_condition("blur:2"), seed=1, clean_dir=tmp_path, output_dir=tmp_path,
        gpu_device_ids=["1", "3"],
    )
    assert spec["command"][-2:] == ["--device", "cuda"]
    [request] = spec["device_requests"]
    assert request["DeviceIDs"] == ["1", "3"] and request["Capabilities"] == [["gpu"]]


def test_clean_is_the_clean_folder_itself_and_a_wrong_condition_is_named(tmp_path):
    cache = ConditionCache(tmp_path / "cache", max_bytes=1000)
    no_engine = object()  # any engine call would fail
    with prepare_condition(tmp_path, inputs_digest="d", condition="clean", seed=1, cache=cache,
                           client=no_engine) as folder:
        assert folder == tmp_path
    with pytest.raises(CorruptionError, match=r'The rate of "blur:3" must be 1, 2, 4, 8'):
        with prepare_condition(tmp_path, inputs_digest="d", condition="blur:3", seed=1,
                               cache=cache, client=no_engine):
            pass
    assert cache.entries() == []


def test_a_noise_bank_counts_only_when_the_condition_uses_it(tmp_path):
    hum = tmp_path / "hum.wav"
    write_wav(hum, np.zeros(160, dtype=np.float32))
    assert noise_bank_digest([]) == ""
    assert noise_bank_digest([hum]) == hashlib.sha256(
        hashlib.sha256(hum.read_bytes()).digest()).hexdigest()


# --- the step on a real engine ---------------------------------------------------------------


@pytest.fixture(scope="module")
def corrupt_image(engine):
    require(image_present(TORCH_IMAGE, engine),
            f"needs {TORCH_IMAGE}: build it with `bash infra/sandbox-images/build.sh`")
    return build_corrupt_image(client=engine)


def write_clean_set(folder: Path, clips: int = 3, seconds: float = 1.5, frames: int = 4,
                    side: int = 32) -> Path:
    """`clips` clips of `seconds` of audio and `frames` PNG frames each, plus an inputs CSV,
    readable by any user."""
    rng = np.random.default_rng(2026)
    folder.mkdir(mode=0o755, parents=True)
    folder.chmod(0o755)
    for index in range(clips):
        key = f"clip_{index:03d}"
        t = np.arange(int(16_000 * seconds)) / 16_000
        write_wav(folder / f"{key}.wav", (0.3 * np.sin(2 * np.pi * 220 * (index + 1) * t)).astype(np.float32))
        (folder / key).mkdir(mode=0o755)
        for number in range(frames):
            write_png(folder / key / f"{number:04d}.png", rng.integers(0, 256, (side, side), dtype=np.uint8))
    (folder / "inputs.csv").write_text("key\n" + "".join(f"clip_{i:03d}\n" for i in range(clips)))
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


@pytest.fixture(scope="module")
def clean_set(tmp_path_factory):
    folder = write_clean_set(tmp_path_factory.mktemp("clean") / "clean")
    return folder, f"test-{uuid.uuid4().hex}", tree_digest(folder)


def creations(engine, key: str, since: float) -> int:
    """How many corruption containers for cache key `key` the engine created since `since`."""
    events = engine.events(since=int(since), until=int(time.time()) + 1, decode=True,
                           filters={"type": "container", "event": "create",
                                    "label": f"{CONDITION_LABEL}={key}"})
    return sum(1 for _ in events)


def assert_nothing_left(engine, key: str) -> None:
    assert engine.containers.list(all=True, filters={"label": f"{CONDITION_LABEL}={key}"}) == []


@pytest.mark.docker
def test_a_condition_is_made_once_deterministically_and_cached(engine, corrupt_image, clean_set, tmp_path):
    clean, digest, before = clean_set
    started = time.time()
    key = ConditionCache.key_for(digest, CONDITION, 7)
    cache = ConditionCache(tmp_path / "cache", max_bytes=10 * 2**20)
    with prepare_condition(clean, inputs_digest=digest, condition=" noise:white@5dB + blur:2 ",
                           seed=7, cache=cache, client=engine) as folder:
        first = tree_digest(folder)
        inode = folder.stat().st_ino
        assert folder.parent.name == key
        assert sorted(first) == sorted(before)  # same layout and names, inputs.csv included
        assert first["inputs.csv"] == before["inputs.csv"]
        assert all(first[name] != before[name] for name in first if name != "inputs.csv")
        modes = {stat.S_IMODE(p.stat().st_mode) for p in [folder, *folder.rglob("*")]}
        assert modes == {0o755, 0o644}
    # A cache hit: the same entry, no container.
    with prepare_condition(clean, inputs_digest=digest, condition=CONDITION, seed=7, cache=cache,
                           client=engine) as again:
        assert again == folder and again.stat().st_ino == inode
        assert tree_digest(again) == first
    assert creations(engine, key, started) == 1
    # Made again from scratch elsewhere: the same bytes.
    other_cache = ConditionCache(tmp_path / "other", max_bytes=10 * 2**20)
    with prepare_condition(clean, inputs_digest=digest, condition=CONDITION, seed=7,
                           cache=other_cache, client=engine) as remade:
        assert tree_digest(remade) == first
    assert creations(engine, key, started) == 2
    # Another seed: other bytes.
    with prepare_condition(clean, inputs_digest=digest, condition=CONDITION, seed=8, cache=cache,
                           client=engine) as reseeded:
        assert reseeded != folder
        changed = tree_digest(reseeded)
        assert all(changed[name] != first[name] for name in first if name.endswith(".wav"))
    assert tree_digest(clean) == before
    assert len(cache.entries()) == 2
    assert_nothing_left(engine, key)
    assert_nothing_left(engine, ConditionCache.key_for(digest, CONDITION, 8))


def _prepare_in_child(clean: str, digest: str, root: str, barrier) -> dict[str, str]:
    cache = ConditionCache(Path(root), max_bytes=10 * 2**20)
    barrier.wait()
    with prepare_condition(Path(clean), inputs_digest=digest, condition="blur:4", seed=11,
                           cache=cache) as folder:
        return tree_digest(folder)


@pytest.mark.docker
def test_concurrent_prepares_of_one_condition_run_one_container(engine, corrupt_image, clean_set, tmp_path):
    clean, digest, _ = clean_set
    started = time.time()
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(2)
    with context.Pool(2) as pool:
        made = pool.starmap(_prepare_in_child, [(str(clean), digest, str(tmp_path / "cache"), barrier)] * 2)
    assert made[0] == made[1] and len(made[0]) == 3 * 5 + 1
    key = ConditionCache.key_for(digest, "blur:4", 11)
    assert creations(engine, key, started) == 1
    assert_nothing_left(engine, key)


@pytest.mark.docker
def test_an_unreadable_clip_fails_with_its_name(engine, corrupt_image, clean_set, tmp_path):
    clean = tmp_path / "clean"
    shutil.copytree(clean_set[0], clean)
    (clean / "clip_001.wav").write_bytes(b"this is not a WAV file")
    before = tree_digest(clean)
    cache = ConditionCache(tmp_path / "cache", max_bytes=10 * 2**20)
    with pytest.raises(CorruptionError) as failure:
        with prepare_condition(clean, inputs_digest="broken", condition="noise:white@5db", seed=1,
                               cache=cache, client=engine):
            pass
    assert failure.value.message.startswith(
        "corrupting the clean inputs for 'noise:white@5db' failed (exit code 1): clip_001.wav: not a PCM WAV file"
    )
    assert "Traceback" not in failure.value.message and 'File "' not in failure.value.message
    assert cache.entries() == [] and list((tmp_path / "cache" / "tmp").iterdir()) == []
    assert tree_digest(clean) == before
    assert_nothing_left(engine, ConditionCache.key_for("broken", "noise:white@5db", 1))


@pytest.mark.docker
def test_the_time_limit_stops_the_step(engine, corrupt_image, clean_set, tmp_path):
    cache = ConditionCache(tmp_path / "cache", max_bytes=10 * 2**20)
    limits = replace(DEFAULT_CORRUPTION_LIMITS, wall_seconds=0.5)
    with pytest.raises(CorruptionError) as failure:
        with prepare_condition(clean_set[0], inputs_digest="slow", condition="blur:2", seed=1,
                               cache=cache, limits=limits, client=engine):
            pass
    assert failure.value.message == (
        "corrupting the clean inputs for 'blur:2' took longer than 0.5 s and was stopped")
    assert cache.entries() == [] and list((tmp_path / "cache" / "tmp").iterdir()) == []
    assert_nothing_left(engine, ConditionCache.key_for("slow", "blur:2", 1))


@pytest.mark.docker
def test_a_noise_bank_is_bound_read_only_and_keys_the_entry(engine, corrupt_image, clean_set, tmp_path):
    clean, digest, before = clean_set
    hum = tmp_path / "hum.wav"
    t = np.arange(8_000) / 16_000
    write_wav(hum, (0.2 * np.sin(2 * np.pi * 50 * t)).astype(np.float32))
    hum.chmod(0o644)
    cache = ConditionCache(tmp_path / "cache", max_bytes=10 * 2**20)
    with prepare_condition(clean, inputs_digest=digest, condition="noise:bank@0db", seed=3,
                           cache=cache, noise_bank=[hum], client=engine) as folder:
        made = tree_digest(folder)
        meta = json.loads((folder.parent / "meta.json").read_text())
    assert all(made[name] != before[name] for name in made if name.endswith(".wav"))
    assert all(made[name] == before[name] for name in made if name.endswith(".png"))
    assert meta["noise_bank_digest"] == noise_bank_digest([hum])
    assert folder.parent.name == ConditionCache.key_for(digest, "noise:bank@0db", 3, noise_bank_digest([hum]))
    assert_nothing_left(engine, folder.parent.name)
