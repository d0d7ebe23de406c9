"""The `docker save` layout check reads an archive once, as a stream, in bounded memory (no engine needed).

The same check refuses a model archive at upload and again on the worker before the engine loads it.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import tracemalloc

import pytest

from sandboxes import SandboxError
from sandboxes.archives import MAX_ENTRIES, MAX_HEADER_BYTES, inspect_image_archive
from tests.sandboxes.archive_factory import CONFIG, CONFIG_ID, LAYER, member, write_archive

LIMIT = 10 * 2**20
CONFIG_NAME = CONFIG_ID.removeprefix("sha256:") + ".json"


def refusal(path, max_bytes: int = LIMIT) -> str:
    with pytest.raises(SandboxError) as caught:
        inspect_image_archive(path, max_bytes=max_bytes)
    assert "\n" not in caught.value.message
    return caught.value.message


def _manifest(**entry) -> bytes:
    return json.dumps([{"Config": CONFIG_NAME, "RepoTags": ["team/model:1"], "Layers": [LAYER], **entry}]).encode()


def test_a_layer_named_through_a_link_inside_the_archive_is_accepted(tmp_path):
    # docker save writes a repeated layer once and links the second place to the first.
    link = member("4567ef/layer.tar", tarfile.SYMTYPE, "../0123abcd/layer.tar")
    path = write_archive(tmp_path / "image.tar", extra=(link,),
                         manifest=_manifest(Layers=[LAYER, "4567ef/layer.tar"]))
    assert inspect_image_archive(path, max_bytes=LIMIT).layers == (LAYER, "4567ef/layer.tar")


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_a_layer_that_links_to_nothing_is_missing(tmp_path, kind):
    target = "../nowhere/layer.tar" if kind == tarfile.SYMTYPE else "nowhere/layer.tar"
    link = member("4567ef/layer.tar", kind, target)
    path = write_archive(tmp_path / "image.tar", extra=(link,), manifest=_manifest(Layers=["4567ef/layer.tar"]))
    assert refusal(path) == "The archive's layer '4567ef/layer.tar' is missing."


def test_a_layer_that_is_a_folder_is_missing(tmp_path):
    path = write_archive(tmp_path / "image.tar", extra=(member("somedir", tarfile.DIRTYPE),),
                         manifest=_manifest(Layers=["somedir"]))
    assert refusal(path) == "The archive's layer 'somedir' is missing."


@pytest.mark.parametrize("layers", [[], None])
def test_an_image_without_layers_is_refused(tmp_path, layers):
    entry = {"Layers": layers} if layers is not None else {}
    manifest = json.dumps([{"Config": CONFIG_NAME, "RepoTags": ["t/m:1"], **entry}]).encode()
    path = write_archive(tmp_path / "image.tar", manifest=manifest)
    assert refusal(path) == (
        "The archive's manifest.json names no layers, so it is not an image archive made by `docker save`."
    )


def test_a_layer_with_a_climbing_name_in_the_manifest_is_refused(tmp_path):
    path = write_archive(tmp_path / "image.tar", manifest=_manifest(Layers=["../../etc/passwd"]))
    assert refusal(path) == (
        "The image archive holds an entry outside it ('../../etc/passwd'); upload an archive made by `docker save`."
    )


def test_too_many_entries_are_refused(tmp_path):
    path = tmp_path / "image.tar"
    with tarfile.open(path, "w") as tar:
        for index in range(MAX_ENTRIES + 1):
            tar.addfile(member(f"d/{index}"), io.BytesIO(b""))
    assert refusal(path) == (
        f"The image archive holds more than {MAX_ENTRIES:,} entries; upload an archive made by `docker save`."
    )


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_a_huge_extended_header_is_refused_before_it_is_read(tmp_path, fmt):
    path = tmp_path / "image.tar"
    with tarfile.open(path, "w", format=fmt) as tar:
        tar.addfile(member("x" * (MAX_HEADER_BYTES + 1)), io.BytesIO(b""))
    message = refusal(path)
    assert message.startswith("The image archive holds an extended header of 1.0 MB, which `docker save` never")


@pytest.mark.parametrize("compression", ["bz2", "xz"])
def test_other_compressions_docker_load_reads_are_accepted(tmp_path, compression):
    plain = write_archive(tmp_path / "image.tar")
    packed = tmp_path / f"image.tar.{compression}"
    with tarfile.open(plain) as source, tarfile.open(packed, f"w:{compression}") as target:
        for info in source:
            target.addfile(info, source.extractfile(info) if info.isfile() else None)
    image = inspect_image_archive(packed, max_bytes=LIMIT)
    assert (image.image_id, image.gzipped) == (CONFIG_ID, False)


@pytest.mark.parametrize("cut", ["inside a header", "at a header", "inside a layer", "gzipped"])
def test_an_archive_cut_short_is_refused(tmp_path, cut):
    data = write_archive(tmp_path / "image.tar", layer_bytes=b"x" * 50_000).read_bytes()
    header = tarfile.BLOCKSIZE + 50_176  # the config's header, after the layer
    cut_data = {"inside a header": data[:header + 100], "at a header": data[:header],
                "inside a layer": data[:30_000], "gzipped": gzip.compress(data)[:-200]}[cut]
    (tmp_path / "cut.tar").write_bytes(cut_data)
    assert refusal(tmp_path / "cut.tar") == "The image archive is cut short; upload the whole archive again."


def test_the_config_is_found_through_a_link(tmp_path):
    link = member("config.json", tarfile.SYMTYPE, CONFIG_NAME)
    path = write_archive(tmp_path / "image.tar", extra=(link,), manifest=_manifest(Config="config.json"))
    assert inspect_image_archive(path, max_bytes=LIMIT).image_id == CONFIG_ID


@pytest.mark.parametrize("gz", [False, True])
def test_a_large_archive_is_checked_in_bounded_memory(tmp_path, gz):
    # 64 MB of layer, with the manifest at the end (as docker save writes it): one pass, a few MB at most.
    path = tmp_path / ("image.tar.gz" if gz else "image.tar")
    layer = 64 * 2**20
    opener = gzip.open(path, "wb", compresslevel=1) if gz else path.open("wb")
    with opener as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
        info = tarfile.TarInfo(LAYER)
        info.size = layer
        tar.addfile(info, io.BytesIO(bytes(range(256)) * (layer // 256)))
        for name, data in ((CONFIG_NAME, CONFIG), ("manifest.json", _manifest())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tracemalloc.start()
    try:
        image = inspect_image_archive(path, max_bytes=2 * layer)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert image.image_id == CONFIG_ID and image.gzipped == gz
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MB held while checking a {layer / 2**20:.0f} MB layer"
