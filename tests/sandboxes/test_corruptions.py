"""The corruption library of robustness conditions: the pure-Python spec parser on
the host, and the torch code in the platform's torch image, checked here against references
(cv2 for the MER blur) and measured properties (SNR, JPEG PSNR, determinism)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import wave
from pathlib import Path

import cv2
import numpy as np
import pytest

from sandboxes import image_present
from sandboxes.baselines import TORCH_IMAGE
from sandboxes.corruptions import ConditionError, clip_seed, parse_condition
from sandboxes.corruptions.io import read_png, read_wav, write_png, write_wav
from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("corruption_probe.py")
CLI_CONDITION = "noise:babble@5db+blur:2+jpeg:70+occlude:0.2+drop:0.3"

# --- the spec parser (pure Python) -----------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        "clean",
        "noise:white@5db",
        "noise:pink@-5db+blur:4",
        "noise:babble@12.5db+jpeg:90+occlude:0.25+drop:0.3+gauss:1.5",
        "mute+blank",
    ],
)
def test_valid_specs_round_trip(spec):
    condition = parse_condition(spec)
    assert condition.to_spec() == spec
    assert parse_condition(condition.to_spec()) == condition
    if condition.steps:
        assert parse_condition(condition.to_steps()) == condition


def test_steps_say_what_each_corruption_is():
    condition = parse_condition(" noise:white@5dB + blur:2 ")
    assert condition.name == "noise:white@5db+blur:2"
    assert condition.to_steps() == [
        {"kind": "noise", "source": "white", "snr_db": 5.0},
        {"kind": "blur", "rate": 2},
    ]


def test_noise_bank_files_are_kept(tmp_path):
    bank = tmp_path / "hum.wav"
    write_wav(bank, np.zeros(160, dtype=np.float32))
    condition = parse_condition("noise:bank@0db", noise_bank=[str(bank)])
    assert condition.noise_bank == (str(bank),)
    assert condition.name == "noise:bank@0db"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fog:2", 'Unknown corruption "fog" in "fog:2"; known: blank, blur, drop, gauss, jpeg, mute, noise, occlude.'),
        ("noise:white@fivedb",
         'The SNR of "noise:white@fivedb" is not a number: "five" (write e.g. "noise:white@5db").'),
        ("noise:white", '"noise:white" gives no SNR; write e.g. "noise:white@5db".'),
        ("noise:rain@5db", 'Unknown noise source "rain" in "noise:rain@5db"; known: white, pink, bank, babble.'),
        ("blur:3", 'The rate of "blur:3" must be 1, 2, 4, 8, ... (a power of two); got 3.'),
        ("jpeg:0", 'The quality of "jpeg:0" must be a whole number from 1 to 100; got 0.'),
        ("gauss:0", 'The sigma of "gauss:0" must be above 0; got 0.'),
        ("occlude:1.5", 'The fraction of "occlude:1.5" must be in (0, 1]; got 1.5.'),
        ("drop:1", 'The probability of "drop:1" must be in [0, 1); got 1.'),
        ("mute:3", '"mute" takes no parameter; got "mute:3".'),
        ("blur", '"blur" needs a rate, e.g. "blur:2"; got "blur".'),
        ("blur:2+", 'Empty corruption in "blur:2+" (two `+` in a row, or one at an end).'),
        ("  ", 'The condition is empty; use "clean" for no corruption.'),
        ("clean+blur:2", '"clean" cannot be combined with corruptions.'),
        ("noise:bank@5db", "noise:bank needs a noise bank, but the list of noise files is empty."),
        ([], 'The list of corruptions is empty; use the spec "clean" for none.'),
        ([{"kind": "noise", "source": "white", "snr_db": "loud"}],
         'The snr_db of step 1 (noise) is not a number: "loud" (write e.g. "noise:white@5db").'),
        ([{"kind": "blur"}], "The rate of step 1 (blur) is missing."),
        ([{"kind": "blur", "rate": 2, "sigma": 1}], "Step 1 (blur) has unexpected keys: sigma."),
    ],
)
def test_each_mistake_is_named(spec, message):
    with pytest.raises(ConditionError) as caught:
        parse_condition(spec)
    assert str(caught.value) == message


def test_a_missing_noise_bank_file_is_named(tmp_path):
    present = tmp_path / "hum.wav"
    write_wav(present, np.zeros(160, dtype=np.float32))
    missing = tmp_path / "rain.wav"
    with pytest.raises(ConditionError) as caught:
        parse_condition("noise:bank@5db", noise_bank=[str(present), str(missing)])
    assert str(caught.value) == f"Noise bank file not found: {missing}"


def test_clip_seeds_are_stable_and_distinct():
    assert clip_seed(7, "clip_001", "noise:white@5db", 0) == 3445576731553412857
    seeds = {clip_seed(s, k, c, i) for s in (7, 8) for k in ("a", "b") for c in ("blur:2", "jpeg:50")
             for i in (0, 1)}
    assert len(seeds) == 16


def test_the_command_line_refuses_a_wrong_condition_before_loading_torch(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "sandboxes.corruptions", "apply", "--condition", "noise:white@loud",
         "--seed", "1", "--input", str(tmp_path), "--output", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPO, check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines()[-1] == (
        'python -m sandboxes.corruptions apply: error: The SNR of "noise:white@loud" is not a number: '
        '"loud" (write e.g. "noise:white@5db").'
    )
    assert not (tmp_path / "out").exists()


# --- file helpers (numpy only, so they run on the host too) ----------------------------------


def test_wav_round_trip(tmp_path):
    samples = (np.arange(-5, 5, dtype=np.float32) / 8)
    write_wav(tmp_path / "a.wav", samples)
    with wave.open(str(tmp_path / "a.wav")) as handle:
        assert (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) == (16_000, 1, 2)
    assert np.array_equal(read_wav(tmp_path / "a.wav"), samples)


@pytest.mark.parametrize("shape", [(5, 7), (6, 9, 3)])
def test_png_reads_what_opencv_writes_and_back(tmp_path, shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    image[2:] = image[1]  # repeated rows make OpenCV pick other filters than None
    bgr = image if image.ndim == 2 else image[:, :, ::-1]
    assert cv2.imwrite(str(tmp_path / "cv.png"), bgr)
    assert np.array_equal(read_png(tmp_path / "cv.png"), image)
    write_png(tmp_path / "ours.png", image)
    ours = cv2.imread(str(tmp_path / "ours.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(ours if ours.ndim == 2 else ours[:, :, ::-1], image)


# --- the torch code, in the torch image ------------------------------------------------------


def _frames(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Smooth gradients with edges and some noise: like video, unlike pure noise."""
    rng = np.random.default_rng(seed)
    t, h, w = shape[:3]
    y, x = np.mgrid[0:h, 0:w]
    base = 110 + 80 * np.sin(x / 5.0) * np.cos(y / 7.0) + 40 * ((x // 9 + y // 11) % 2)
    stack = [base + 8 * i + rng.normal(0, 6, (h, w)) for i in range(t)]
    frames = np.stack(stack)
    if len(shape) == 4:
        frames = np.stack([frames, frames[:, ::-1] * 0.7 + 30, 255 - frames], axis=-1)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


FRAME_SHAPES = {"rgb_64x64": (2, 64, 64, 3), "grey_37x50": (2, 37, 50), "rgb_31x45": (1, 31, 45, 3),
                "grey_9x8": (1, 9, 8)}


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_clips(folder: Path) -> None:
    """Three clips as the platform stores clean inputs: <key>.wav and <key>/*.png (OpenCV's
    PNG encoder, which uses every row filter), plus an inputs CSV."""
    folder.mkdir()
    rng = np.random.default_rng(5)
    for index, key in enumerate(("clip_a", "clip_b", "clip_c")):
        t = np.arange(48_000) / 16_000
        voice = 0.1 * np.sin(2 * np.pi * (150 + 40 * index) * t)
        write_wav(folder / f"{key}.wav", voice + 0.01 * rng.standard_normal(t.size))
        (folder / key).mkdir()
        shape = (16, 64, 64, 3) if index < 2 else (16, 48, 40)
        for number, frame in enumerate(_frames(shape, index)):
            cv2.imwrite(str(folder / key / f"{number:04d}.png"), frame if frame.ndim == 2 else frame[:, :, ::-1])
    (folder / "inputs.csv").write_text("key\nclip_a\nclip_b\nclip_c\n", encoding="utf-8")


def _run_in_image(engine, src: Path, work: Path, command: list[str]) -> None:
    engine.containers.run(
        TORCH_IMAGE, command, remove=True, network_disabled=True, network_mode="none",
        working_dir="/src", user=f"{os.getuid()}:{os.getgid()}", environment={"PYTHONPATH": "/src"},
        volumes={str(src): {"bind": "/src", "mode": "ro"}, str(work): {"bind": "/work", "mode": "rw"}},
    )


@pytest.fixture(scope="module")
def probe(engine, tmp_path_factory):
    """Runs the probe and the command line in the torch image (two container runs); returns
    the work folder, with the SHA-256 digests of the clean clips before and after."""
    require(image_present(TORCH_IMAGE, engine),
            f"needs {TORCH_IMAGE}: build it with `bash infra/sandbox-images/build.sh`")
    root = tmp_path_factory.mktemp("corruptions")
    # The image has neither the Docker SDK nor Django: it reads the project as it is, read-only, and
    # imports `sandboxes.corruptions` alone (the `sandboxes` package imports its Docker parts lazily).
    src = REPO
    work = root / "work"
    (work / "in").mkdir(parents=True)
    (work / "out").mkdir()
    for offset, (name, shape) in enumerate(FRAME_SHAPES.items()):
        np.save(work / "in" / f"{name}.npy", _frames(shape, offset))
    _write_clips(work / "clips")
    before = _tree_digest(work / "clips")
    _run_in_image(engine, src, work, ["python3", f"/src/{PROBE.relative_to(REPO)}", "/work"])
    _run_in_image(engine, src, work, ["python3", "-m", "sandboxes.corruptions", "apply", "--condition",
                                      CLI_CONDITION, "--seed", "7", "--input", "/work/clips",
                                      "--output", "/work/out/seed7_again"])
    return work, before, _tree_digest(work / "clips")


@pytest.fixture(scope="module")
def results(probe):
    return json.loads((probe[0] / "out" / "results.json").read_text())


def _out(probe, name: str) -> np.ndarray:
    return np.load(probe[0] / "out" / f"{name}.npy")


@pytest.mark.docker
def test_the_torch_modules_doctests_pass(results):
    assert results["doctests"] == {"sandboxes.corruptions.audio": [0, 2], "sandboxes.corruptions.video": [0, 4]}


@pytest.mark.docker
@pytest.mark.parametrize("source", ["white", "pink", "bank", "babble"])
def test_noise_is_mixed_at_the_target_snr(results, source):
    targets, measured = results["snr"]["targets"], results["snr"]["measured"][source]
    assert targets == [-5.0, 0.0, 5.0, 10.0, 20.0, 30.0]
    assert measured == pytest.approx(targets, abs=0.05)


def _opencv_mer_blur(frames: np.ndarray, rate: int) -> np.ndarray:
    out = []
    for frame in frames:
        sizes = [frame.shape[:2]]
        for _ in range(int(math.log2(rate))):
            frame = cv2.pyrDown(frame)
            sizes.append(frame.shape[:2])
        for height, width in reversed(sizes[:-1]):
            frame = cv2.pyrUp(frame, dstsize=(width, height))
        out.append(frame)
    return np.stack(out)


@pytest.mark.docker
@pytest.mark.parametrize("rate", [2, 4])
@pytest.mark.parametrize("name", list(FRAME_SHAPES))
def test_mer_blur_matches_opencv(probe, name, rate):
    frames = np.load(probe[0] / "in" / f"{name}.npy")
    ours = _out(probe, f"blur{rate}_{name}")
    reference = _opencv_mer_blur(frames, rate)
    assert ours.shape == frames.shape
    assert np.abs(ours.astype(int) - reference.astype(int)).max() <= 1
    assert not np.array_equal(ours, frames)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255**2 / mse)


@pytest.mark.docker
@pytest.mark.parametrize("name", list(FRAME_SHAPES))
def test_jpeg_changes_the_frames_less_at_higher_quality(probe, name):
    frames = np.load(probe[0] / "in" / f"{name}.npy")
    low, high = _out(probe, f"jpeg50_{name}"), _out(probe, f"jpeg90_{name}")
    assert low.shape == high.shape == frames.shape
    assert not np.array_equal(low, frames)
    assert not np.array_equal(high, frames)
    assert 25 < _psnr(frames, low) < _psnr(frames, high)


def _opencv_jpeg_444(frames: np.ndarray, quality: int) -> np.ndarray:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality,
              cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    out = []
    for frame in frames:
        ok, data = cv2.imencode(".jpg", frame if frame.ndim == 2 else frame[:, :, ::-1], params)
        assert ok
        decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        out.append(decoded if decoded.ndim == 2 else decoded[:, :, ::-1])
    return np.stack(out)


@pytest.mark.docker
@pytest.mark.parametrize("quality", [50, 90])
@pytest.mark.parametrize("name", list(FRAME_SHAPES))
def test_jpeg_is_close_to_libjpeg_without_subsampling(probe, name, quality):
    """libjpeg's integer DCT rounds a few coefficients the other way: pixels differ a little,
    the loss of quality does not."""
    frames = np.load(probe[0] / "in" / f"{name}.npy")
    ours, reference = _out(probe, f"jpeg{quality}_{name}"), _opencv_jpeg_444(frames, quality)
    assert _psnr(reference, ours) > 42
    assert _psnr(frames, ours) == pytest.approx(_psnr(frames, reference), abs=0.3)


@pytest.mark.docker
@pytest.mark.parametrize("name", list(FRAME_SHAPES))
def test_gaussian_blur_matches_opencv(probe, name):
    frames = np.load(probe[0] / "in" / f"{name}.npy")
    reference = np.stack([cv2.GaussianBlur(frame, (0, 0), 1.5) for frame in frames])
    assert np.abs(_out(probe, f"gauss_{name}").astype(int) - reference.reshape(frames.shape)).max() <= 1


@pytest.mark.docker
def test_occlusion_blacks_out_one_square_on_every_frame(probe):
    frames = np.load(probe[0] / "in" / "rgb_64x64.npy")
    occluded = _out(probe, "occlude_rgb_64x64")
    changed = np.argwhere((occluded != frames).any(axis=(0, 3)))
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    assert (bottom - top + 1, right - left + 1) == (16, 16)
    assert (occluded[:, top:bottom + 1, left:right + 1] == 0).all()
    mask = np.ones(frames.shape[1:3], dtype=bool)
    mask[top:bottom + 1, left:right + 1] = False
    assert np.array_equal(occluded[:, mask], frames[:, mask])


@pytest.mark.docker
def test_dropped_frames_repeat_the_last_frame_kept_and_dropout_blanks(results):
    kept = results["drop_kept"]
    assert len(kept) == 16 and kept[0] == 0
    assert all(kept[t] in (kept[t - 1], t) for t in range(1, 16))
    assert 0 < sum(kept[t] != t for t in range(16)) < 16
    assert results["dropout"] == {"muted": True, "blank": True}


@pytest.mark.docker
def test_composition_applies_noise_and_blur(probe, results):
    assert results["composed_snr"] == pytest.approx(10.0, abs=0.05)
    frames = np.load(probe[0] / "in" / "rgb_64x64.npy")
    assert np.array_equal(_out(probe, "composed_rgb_64x64"), _out(probe, "blur2_rgb_64x64"))
    assert np.abs(_out(probe, "composed_rgb_64x64").astype(int) - _opencv_mer_blur(frames, 2)).max() <= 1


@pytest.mark.docker
def test_the_command_line_is_deterministic_and_leaves_the_inputs_alone(probe, results):
    work, before, after = probe
    assert after == before
    assert results["inputs_untouched"] is True
    seed7, again, seed8 = (_tree_digest(work / "out" / name) for name in ("seed7", "seed7_again", "seed8"))
    assert sorted(seed7) == sorted(before)
    assert seed7 == again
    changed = [name for name in seed7 if seed7[name] != seed8[name]]
    assert "clip_a.wav" in changed and "clip_c/0000.png" in changed
    assert seed7["inputs.csv"] == before["inputs.csv"]
    for name in seed7:
        if name.endswith(".wav"):
            assert seed7[name] != before[name]
            assert read_wav(work / "out" / "seed7" / name).shape == read_wav(work / "clips" / name).shape
        elif name.endswith(".png"):
            assert read_png(work / "out" / "seed7" / name).shape == read_png(work / "clips" / name).shape
