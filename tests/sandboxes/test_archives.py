"""Checking image archives before the engine sees them (no engine needed)."""

from __future__ import annotations

import tarfile

import pytest

from sandboxes import SandboxError
from sandboxes.archives import ArchiveImage, inspect_image_archive
from tests.sandboxes.archive_factory import CONFIG_ID, LAYER, member, write_archive

LIMIT = 10 * 2**20


def refusal(path, max_bytes: int = LIMIT) -> str:
    with pytest.raises(SandboxError) as caught:
        inspect_image_archive(path, max_bytes=max_bytes)
    return caught.value.message


@pytest.mark.parametrize("gz", [False, True])
def test_a_docker_save_archive_is_described(tmp_path, gz):
    path = write_archive(tmp_path / "image.tar", gz=gz)
    assert inspect_image_archive(path, max_bytes=LIMIT) == ArchiveImage(
        image_id=CONFIG_ID, repo_tags=("team/model:1",), layers=(LAYER,), gzipped=gz
    )


def test_links_between_layers_inside_the_archive_are_accepted(tmp_path):
    link = member("4567ef/layer.tar", tarfile.SYMTYPE, "../0123abcd/layer.tar")
    path = write_archive(tmp_path / "image.tar", extra=(link,))
    assert inspect_image_archive(path, max_bytes=LIMIT).image_id == CONFIG_ID


def test_an_oversize_archive_is_refused(tmp_path):
    path = write_archive(tmp_path / "image.tar", layer_bytes=b"x" * 300_000)
    size = path.stat().st_size
    assert refusal(path, max_bytes=200 * 1024) == (
        f"The image archive is {size / 2**20:.1f} MB; this track accepts at most 0.2 MB."
    )
    assert refusal(path, max_bytes=1000) == (
        f"The image archive is {size / 2**20:.1f} MB; this track accepts at most 1,000 bytes."
    )


def test_a_gzip_bomb_is_refused(tmp_path):
    path = write_archive(tmp_path / "image.tar.gz", gz=True, layer_bytes=b"\0" * (4 * 2**20))
    assert path.stat().st_size < 100_000
    assert refusal(path, max_bytes=200_000) == (
        "The image archive expands to more than 1.5 MB; this track does not accept it."
    )


def test_a_file_that_is_not_an_archive_is_refused(tmp_path):
    path = tmp_path / "image.tar"
    path.write_bytes(b"this is not a tar file at all" * 40)
    assert refusal(path).startswith(
        "The file is not an image archive (a tar or tar.gz made by `docker save`): "
    )
    broken_gzip = tmp_path / "image.tar.gz"
    broken_gzip.write_bytes(b"\x1f\x8b" + b"garbage" * 50)
    assert refusal(broken_gzip).startswith("The file is not an image archive")


@pytest.mark.parametrize("name", ["../evil", "blobs/../../evil", "/etc/cron.d/evil"])
def test_entries_outside_the_archive_are_refused(tmp_path, name):
    path = write_archive(tmp_path / "image.tar", extra=(member(name),))
    assert refusal(path) == (
        f"The image archive holds an entry outside it ({name!r}); "
        "upload an archive made by `docker save`."
    )


@pytest.mark.parametrize(
    ("kind", "target"),
    [(tarfile.SYMTYPE, "../../etc/shadow"), (tarfile.SYMTYPE, "/etc/shadow"),
     (tarfile.LNKTYPE, "../outside")],
)
def test_links_leaving_the_archive_are_refused(tmp_path, kind, target):
    path = write_archive(tmp_path / "image.tar", extra=(member("abc/layer.tar", kind, target),))
    assert refusal(path) == (
        f"The image archive holds a link that points outside it ('abc/layer.tar' -> "
        f"{target!r}); upload an archive made by `docker save`."
    )


def test_device_files_are_refused(tmp_path):
    path = write_archive(tmp_path / "image.tar", extra=(member("dev/sda", tarfile.BLKTYPE),))
    assert refusal(path) == (
        "The image archive holds a device or special file ('dev/sda'); "
        "upload an archive made by `docker save`."
    )


def test_several_images_are_refused(tmp_path):
    path = write_archive(tmp_path / "image.tar", images=2)
    assert refusal(path) == "The archive holds 2 images; save exactly one (`docker save IMAGE`)."


def test_an_archive_without_manifest_or_parts_is_refused(tmp_path):
    no_manifest = tmp_path / "a.tar"
    with tarfile.open(no_manifest, "w") as tar:
        tar.addfile(member("hello.txt"))
    assert refusal(no_manifest) == (
        "The archive has no manifest.json, so it is not an image archive made by `docker save`."
    )
    bad_json = write_archive(tmp_path / "b.tar", manifest=b"{not json")
    assert refusal(bad_json).startswith("The archive's manifest.json is not valid JSON: ")
    no_config = write_archive(tmp_path / "c.tar", with_config=False)
    assert refusal(no_config) == (
        f"The archive's image config '{CONFIG_ID.removeprefix('sha256:')}.json' is missing."
    )
    no_layer = write_archive(tmp_path / "d.tar", with_layer=False)
    assert refusal(no_layer) == f"The archive's layer '{LAYER}' is missing."


@pytest.mark.parametrize("tag", ["arena/sandbox-base:latest", "docker.io/arena/keeper:1"])
def test_names_in_the_platform_namespace_are_refused(tmp_path, tag):
    path = write_archive(tmp_path / "image.tar", tags=("team/model:1", tag))
    assert refusal(path) == (
        f"The image is named {tag!r}, in the arena/ namespace that the platform keeps for its "
        "own images; tag it with another name before saving it."
    )
