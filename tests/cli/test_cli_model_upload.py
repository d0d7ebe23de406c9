"""``arena submit --image-archive``: model archives straight to S3 with a ticket, or through the site."""

import json

import pytest

from arena.submissions.models import Submission
from tests.platform.s3 import s3_server, s3_storage  # noqa: F401
from tests.sandboxes.archive_factory import write_archive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model_phase(world):
    track = world["phase"].track
    track.accepts_containers, track.max_image_mb = True, 2
    track.save()
    return world["phase"]


@pytest.fixture
def archive(cli):
    return write_archive(cli.home / "model.tar.gz", gz=True)


def _mine():
    return Submission.objects.exclude(team__name="Rivals")


@pytest.mark.s3
@pytest.mark.usefixtures("s3_storage")
def test_a_large_archive_goes_straight_to_storage(signed_in, model_phase, archive):
    result = signed_in.run("submit", "--json", "--phase", str(model_phase.pk), "--image-archive", str(archive),
                           env={"ARENA_DIRECT_UPLOAD_MB": "0", "ARENA_PROGRESS": "1"})
    assert result.returncode == 0, result.stderr
    submission = _mine().get()
    body = json.loads(result.stdout)
    assert (body["id"], body["kind"], body["status"], body["method_name"]) == (submission.pk, "container", "queued",
                                                                                "model")
    assert submission.image_archive.name.startswith(f"model-uploads/{submission.team_id}/{model_phase.pk}/")
    assert submission.image_archive.read() == archive.read_bytes()
    assert "uploading model.tar.gz [##############################] 100%" in result.stderr


def test_without_s3_the_archive_goes_through_the_site(signed_in, model_phase, archive):
    result = signed_in.run("submit", "--json", "--phase", str(model_phase.pk), "--image-archive", str(archive),
                           "--method", "CNN", env={"ARENA_DIRECT_UPLOAD_MB": "0"})
    assert result.returncode == 0, result.stderr
    submission = _mine().get()
    assert (submission.kind, submission.method_name, submission.file_name) == ("container", "CNN", "model.tar.gz")
    assert not submission.image_archive.name.startswith("model-uploads/")
    assert submission.image_archive.read() == archive.read_bytes()


def test_a_file_and_an_archive_together_is_a_usage_error(signed_in, model_phase, archive):
    result = signed_in.run("submit", "--phase", str(model_phase.pk), str(archive), "--image-archive", str(archive))
    assert result.returncode == 2
    assert result.stderr.strip() == "arena: Give either a prediction file or --image-archive PATH."
    assert not _mine().exists()
