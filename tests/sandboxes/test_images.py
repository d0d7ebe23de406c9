"""Loading image archives and pulling images on a real engine."""

from __future__ import annotations

import gzip

import pytest

from sandboxes import SandboxError, image_present, load_image_archive, pull_image
from sandboxes.archives import inspect_image_archive

pytestmark = pytest.mark.docker


@pytest.fixture
def saved(engine, tiny_image, tmp_path):
    """The tiny image as a `docker save` archive, and its id; the image is back afterwards."""
    image = engine.images.get(tiny_image)
    path = tmp_path / "image.tar"
    with path.open("wb") as out:
        for chunk in image.save(named=True):
            out.write(chunk)
    yield path, image.id
    if not image_present(image.id, engine):
        with path.open("rb") as archive:
            engine.images.load(archive)


def _remove(engine, image_id):
    engine.images.remove(image_id, force=True)
    assert image_present(image_id, engine) is False


@pytest.mark.parametrize("gz", [False, True])
def test_an_archive_is_loaded_and_pinned_by_its_id(engine, saved, tiny_image, gz):
    path, image_id = saved
    if gz:
        path.with_suffix(".tar.gz").write_bytes(gzip.compress(path.read_bytes()))
        path = path.with_suffix(".tar.gz")
    assert inspect_image_archive(path, max_bytes=10**7).repo_tags == (tiny_image,)
    _remove(engine, image_id)
    assert load_image_archive(path, max_bytes=10**7, client=engine) == image_id
    assert image_present(image_id, engine) is True
    assert engine.images.get(image_id).tags == [tiny_image]


def test_an_image_already_present_is_not_loaded_again(engine, saved, monkeypatch):
    path, image_id = saved

    def refuse(*args, **kwargs):
        raise AssertionError("the archive was loaded again")

    monkeypatch.setattr(engine.images, "load", refuse)
    assert load_image_archive(path, max_bytes=10**7, client=engine) == image_id


def test_an_oversize_archive_never_reaches_the_engine(engine, saved, monkeypatch):
    path, image_id = saved
    _remove(engine, image_id)
    with pytest.raises(SandboxError) as caught:
        load_image_archive(path, max_bytes=1000, client=engine)
    assert caught.value.message.endswith("this track accepts at most 1,000 bytes.")
    assert image_present(image_id, engine) is False


def test_an_allowed_but_unreachable_registry_fails_the_pull(engine):
    with pytest.raises(SandboxError) as caught:
        pull_image("127.0.0.1:9/team/model:1", allowlist=["127.0.0.1:9"], client=engine)
    assert caught.value.message.startswith("Could not pull 127.0.0.1:9/team/model:1: ")
    assert "connection refused" in caught.value.message


def test_image_present_knows_ids_and_tags(engine, tiny_image):
    image_id = engine.images.get(tiny_image).id
    assert image_present(image_id, engine) is True
    assert image_present(tiny_image, engine) is True
    assert image_present("sha256:" + "0" * 64, engine) is False
    assert image_present("arena-test/none:missing", engine) is False
