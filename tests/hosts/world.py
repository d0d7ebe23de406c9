"""A second track of the fault suite's challenge, for containerised models (run on the sandbox host).

Run as a script in the environment of a host, after ``tests.faults.world setup``:

    python -m tests.hosts.world models      # prints {"phase"}

The phase's hidden inputs are a .tar.gz holding ``test_inputs.csv`` (one ``name`` per row); a model reads
it at /input and writes /output/predictions.csv. References and inputs go to the site's storage.
"""

from __future__ import annotations

import io
import json
import random
import tarfile

from tests.faults.world import LABELS, _django

ROWS = 60


def models() -> dict:
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from arena.challenges.media import phase_container_inputs_sync
    from arena.challenges.models import Challenge, Phase, Track

    rng = random.Random(23)
    names = [f"clip_{i:05d}" for i in range(ROWS)]
    gold = {n: rng.choice(LABELS) for n in names}
    public = "name,discrete\n" + "".join(f"{n},{gold[n]}\n" for n in names[:30])
    private = "name,discrete\n" + "".join(f"{n},{gold[n]}\n" for n in names[30:])
    inputs = io.BytesIO()
    with tarfile.open(fileobj=inputs, mode="w:gz") as tar:
        data = ("name\n" + "".join(f"{n}\n" for n in names)).encode()
        info = tarfile.TarInfo("test_inputs.csv")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    now = timezone.now()
    challenge = Challenge.objects.get(slug="faults")
    track = Track.objects.create(challenge=challenge, slug="models", title="Models", scorer_key="mer.discrete",
                                 accepts_files=False, accepts_containers=True, container_wall_seconds=60,
                                 container_memory_mb=256, max_image_mb=1024, max_per_day=None, max_total=None,
                                 max_in_flight=None)
    phase = Phase(track=track, slug="test", title="Test", opens_at=now - timedelta(days=1),
                  closes_at=now + timedelta(days=10))
    phase.reference_public.save("public.csv", ContentFile(public.encode()), save=False)
    phase.reference_private.save("private.csv", ContentFile(private.encode()), save=False)
    phase.container_inputs.save("inputs.tar.gz", ContentFile(inputs.getvalue()), save=False)
    phase.save()
    phase_container_inputs_sync(phase=phase)  # as the admin does: workers key their unpacked copy by its digest
    return {"phase": phase.pk}


#: The model: a constant guess for every name it finds in its inputs.
MODEL = """
import csv
label = {label!r}
with open('/input/test_inputs.csv') as f, open('/output/predictions.csv', 'w') as out:
    out.write('name,discrete\\n')
    for row in csv.DictReader(f):
        out.write(row['name'] + ',' + label + '\\n')
print('wrote', label)
"""


def model_archive(label: str, repo: str) -> bytes:
    """A model image built FROM the sandbox base on this machine's engine, as a gzipped `docker save`; the
    image is removed again, so the sandbox host has to load it from the archive it reads from storage."""
    import gzip
    import uuid

    from sandboxes.engine import docker_client

    engine = docker_client()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        cmd = json.dumps(["python3", "-c", MODEL.format(label=label)])
        data = f"FROM arena/sandbox-base:latest\nCMD {cmd}\n".encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = f"{repo}-{uuid.uuid4().hex[:8]}:1"
    image, _ = engine.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, network_mode="none",
                                   pull=False)
    try:
        return gzip.compress(b"".join(image.save(named=tag)), compresslevel=1)
    finally:
        engine.images.remove(image.id, force=True)


if __name__ == "__main__":
    _django()
    print(json.dumps(models()))
