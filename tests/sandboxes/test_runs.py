"""Ordinary sandbox runs on a real engine: success, the participant's mistakes, clean-up."""

from __future__ import annotations

import signal

import pytest

from sandboxes import SandboxError, SandboxLimits, run_container, sweep_sandboxes
from sandboxes.spec import keeper_container_spec, new_run_id

pytestmark = pytest.mark.docker

COPY_INPUTS = "import shutil; shutil.copy('/input/inputs.csv', '/output/predictions.csv')"


def test_a_normal_run_produces_predictions(sandbox):
    code = COPY_INPUTS + "; import os; os.makedirs('/output/extra'); print('done', os.getuid())"
    result = sandbox.run(code)
    assert result.failure is None
    assert result.succeeded is True
    assert result.exit_code == 0
    assert result.timed_out is False
    assert result.oom_killed is False
    assert result.output_files == ["predictions.csv"]
    assert result.output_truncated is False
    assert result.logs == "done 65534\n"
    assert result.logs_truncated is False
    assert 0 < result.duration_s < 5
    assert (sandbox.output_dir / "predictions.csv").read_text() == "name,value\na,1\nb,2\n"
    assert (sandbox.output_dir / "extra").is_dir()


def test_a_non_zero_exit_fails_with_its_code(sandbox):
    result = sandbox.run(COPY_INPUTS + "; import sys; print('bad input', file=sys.stderr); sys.exit(3)")
    assert result.exit_code == 3
    assert result.output_files == ["predictions.csv"]
    assert result.logs == "bad input\n"
    assert result.failure == (
        "Your model exited with code 3. Check its logs, and run it locally with "
        "`docker run --network none --read-only -v INPUTS:/input:ro` before submitting."
    )


def test_missing_predictions_fail_saying_what_was_written(sandbox):
    result = sandbox.run("open('/output/predictions.txt', 'w').write('a,1')")
    assert result.exit_code == 0
    assert result.output_files == ["predictions.txt"]
    assert result.failure == (
        "Your model finished but did not write /output/predictions.csv. "
        "It wrote: predictions.txt."
    )


def test_an_empty_output_says_nothing_was_written(sandbox, tmp_path):
    sandbox.output_dir = tmp_path / "elsewhere"
    result = sandbox.run("print('thinking')")
    assert result.failure == (
        "Your model finished but did not write /output/predictions.csv. It wrote nothing there."
    )


def test_a_command_that_does_not_exist_fails_with_a_hint(sandbox, engine):
    result = run_container(
        "arena/sandbox-base:latest",
        input_dir=sandbox.input_dir,
        output_dir=sandbox.output_dir,
        limits=SandboxLimits(wall_seconds=10, memory_mb=64, cpus=1),
        client=engine,
        command=["/no/such/program"],
    )
    assert result.exit_code == 127
    assert "exec /no/such/program failed: No such file or directory" in result.logs
    assert result.failure == (
        "Your model exited with code 127 (its command was not found: check ENTRYPOINT and "
        "CMD). Check its logs, and run it locally with "
        "`docker run --network none --read-only -v INPUTS:/input:ro` before submitting."
    )


def test_an_image_the_engine_cannot_start_fails_with_the_engines_reason(sandbox, tiny_image):
    result = run_container(
        tiny_image,
        input_dir=sandbox.input_dir,
        output_dir=sandbox.output_dir,
        limits=SandboxLimits(wall_seconds=10, memory_mb=64, cpus=1),
        client=sandbox.client,
    )
    assert result.exit_code is None
    assert result.failure == (
        "Your image could not be started: No command specified. Check its ENTRYPOINT and CMD, "
        "and that it runs as a non-root user with a read-only file system."
    )


def test_a_missing_image_is_the_platforms_error(sandbox, engine):
    with pytest.raises(SandboxError) as caught:
        run_container(
            "sha256:" + "0" * 64,
            input_dir=sandbox.input_dir,
            output_dir=sandbox.output_dir,
            limits=SandboxLimits(wall_seconds=10, memory_mb=64, cpus=1),
            client=engine,
        )
    assert caught.value.message == f"the image sha256:{'0' * 64} is not on this worker"


def test_a_non_empty_output_folder_is_refused(sandbox):
    sandbox.output_dir.mkdir()
    (sandbox.output_dir / "old.csv").write_text("x")
    with pytest.raises(SandboxError) as caught:
        sandbox.run(COPY_INPUTS)
    assert caught.value.message == f"the output folder {sandbox.output_dir} is not empty"


def test_keyboard_interrupt_mid_run_still_removes_everything(sandbox, run_ids):
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            sandbox.run("import time; time.sleep(60)", wall_seconds=30)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert len(run_ids) == 1  # the fixture then checks that nothing of it is left


def test_sweep_removes_what_a_crashed_worker_left(engine):
    limits = SandboxLimits(wall_seconds=10, memory_mb=64, cpus=1)
    run_id = new_run_id()
    engine.containers.create(**keeper_container_spec(limits, run_id)).start()
    label = {"label": f"arena.sandbox.run={run_id}"}
    assert len(engine.containers.list(all=True, filters=label)) == 1
    assert sweep_sandboxes(client=engine, older_than_s=3600, run_id=run_id) == 0
    assert len(engine.containers.list(all=True, filters=label)) == 1
    assert sweep_sandboxes(client=engine, run_id=run_id) == 1
    assert engine.containers.list(all=True, filters=label) == []
    assert engine.volumes.list(filters=label) == []
