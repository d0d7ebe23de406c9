"""Dataset files: registering stored objects, direct uploads, and signed, logged download links."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_ipv46_address
from django.db import models, transaction
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.models import Challenge
from arena.challenges.permissions import ensure_organiser
from arena.core.errors import Conflict, DomainError, NotFound
from arena.core.keys import private_key, safe_filename
from arena.core.storage import (
    UploadTicket,
    presigned_upload,
    signed_download_url,
    stored_digest,
    supports_direct_upload,
)
from arena.datasets.models import Dataset, DatasetFile, DatasetFileKind, DownloadChannel, DownloadGrant
from arena.datasets.selectors import dataset_files_visible_to
from arena.participation.selectors import data_access

#: Keys an organiser may register: the prefix dataset files are stored under.
REGISTRABLE_PREFIX = "datasets/"
#: S3 accepts at most 5 GB in one POST; larger files go up with a multipart client, then are registered.
DIRECT_UPLOAD_MAX_BYTES = 5 * 1024**3
DIRECT_UPLOAD_SECONDS = 6 * 3600


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: datetime
    sha256: str
    size: int
    grant: DownloadGrant


def _client_ip(value: str | None) -> str | None:
    try:
        validate_ipv46_address(value or "")
    except ValidationError:
        return None
    return value


@transaction.atomic
def dataset_file_download_link(*, user: Any, dataset_file_id: int, ip_address: str | None,
                               user_agent: str, channel: str = DownloadChannel.WEB,
                               challenge: Challenge | None = None) -> DownloadLink:
    """Issue a short-lived signed URL for one dataset file and log it.

    Files the user may not see (hidden test inputs, unpublished challenges, or not of
    ``challenge`` when given) are refused as not found; visible files are refused with the
    reason from ``data_access``.
    """
    files = dataset_files_visible_to(user).select_related("dataset__challenge")
    if challenge is not None:
        files = files.filter(dataset__challenge=challenge)
    dataset_file = files.filter(pk=dataset_file_id).first()
    if dataset_file is None:
        raise NotFound("No such dataset file.", code="not_found")
    challenge = dataset_file.dataset.challenge
    access = data_access(user, challenge, dataset=dataset_file.dataset)
    access.ensure_can_download()
    seconds = settings.ARENA_DOWNLOAD_URL_SECONDS
    issued_at = timezone.now()
    expires_at = issued_at + timedelta(seconds=seconds)
    url = signed_download_url(dataset_file.file.name, seconds=seconds,
                              filename=safe_filename(dataset_file.name))
    grant = DownloadGrant.objects.create(
        challenge=challenge, dataset_file=dataset_file, file_name=dataset_file.name,
        storage_key=dataset_file.file.name, user=user, team=access.team,
        team_name=access.team.name if access.team else "", issued_at=issued_at, expires_at=expires_at,
        ip_address=_client_ip(ip_address), user_agent=(user_agent or "")[:300], channel=channel,
    )
    return DownloadLink(url=url, expires_at=expires_at, sha256=dataset_file.sha256, size=dataset_file.size,
                        grant=grant)


def _registrable_key(key: str) -> str:
    key = (key or "").strip()
    parts = key.split("/")
    if (not key.startswith(REGISTRABLE_PREFIX) or key.endswith("/") or ".." in parts or "" in parts
            or len(key) > 500):
        raise DomainError(
            f"Give the object's key as stored, starting with '{REGISTRABLE_PREFIX}' "
            f"(e.g. {REGISTRABLE_PREFIX}<random>/train.zip).",
            code="invalid_key", details={"field": "key"},
        )
    return key


def _key_in_use(key: str) -> bool:
    """Whether any stored-file field of any model already points at ``key``."""
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and model._default_manager.filter(**{field.name: key}).exists():
                return True
    return False


@transaction.atomic
def dataset_file_register(*, actor: Any, dataset: Dataset, key: str, name: str = "", kind: str,
                          hidden_from_participants: bool = False,
                          release_at: datetime | None = None) -> DatasetFile:
    """Attach an object already in storage to a dataset, recording its size and sha256.

    The object is read once, as a stream. A key that another record (reference, asset,
    submission, agreement, dataset file) already uses is refused, so registering cannot
    expose a file under another name.
    """
    ensure_organiser(actor, dataset.challenge)
    key = _registrable_key(key)
    if kind not in DatasetFileKind.values:
        raise DomainError(f"Unknown kind {kind!r}.", code="invalid", details={"field": "kind"})
    name = " ".join((name or posixpath.basename(key)).split())[:200]
    if DatasetFile.objects.filter(dataset=dataset, name=name).exists():
        raise Conflict(f"This dataset already has a file called '{name}'.", code="name_taken",
                       details={"field": "name"})
    if _key_in_use(key):
        raise Conflict("Another record already uses this key.", code="key_in_use", details={"field": "key"})
    if not default_storage.exists(key):
        raise NotFound(f"Nothing is stored under '{key}'. Check the key (it is case-sensitive).",
                       code="no_such_object", details={"field": "key"})
    sha256, size = stored_digest(key)
    dataset_file = DatasetFile.objects.create(
        dataset=dataset, name=name, kind=kind, file=key, size=size, sha256=sha256,
        hidden_from_participants=hidden_from_participants, release_at=release_at,
    )
    audit_record(
        actor=actor, action="dataset_file.register", target=dataset_file, challenge=dataset.challenge,
        details={"dataset": dataset.slug, "name": name, "key": key, "size": size, "sha256": sha256,
                 "release_at": release_at.isoformat() if release_at else None},
    )
    return dataset_file


def dataset_file_upload_ticket(*, actor: Any, dataset: Dataset, filename: str) -> UploadTicket:
    """A presigned POST for one file of up to 5 GB, to be registered once uploaded (S3 only)."""
    ensure_organiser(actor, dataset.challenge)
    if not supports_direct_upload():
        raise DomainError(
            "Direct uploads need S3 storage. With local storage, upload the file in the dataset's form.",
            code="direct_upload_unavailable",
        )
    key = private_key(REGISTRABLE_PREFIX.rstrip("/"), filename)
    url, fields = presigned_upload(key, max_bytes=DIRECT_UPLOAD_MAX_BYTES, seconds=DIRECT_UPLOAD_SECONDS)
    return UploadTicket(url=url, fields=fields, key=key, max_bytes=DIRECT_UPLOAD_MAX_BYTES,
                        expires_at=timezone.now() + timedelta(seconds=DIRECT_UPLOAD_SECONDS))
