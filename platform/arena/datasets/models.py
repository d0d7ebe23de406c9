"""Licence-gated data of a challenge. Reference labels are never here: they belong to phases."""

from django.conf import settings
from django.db import models

from arena.core.keys import private_key


def _dataset_key(instance, filename: str) -> str:
    return private_key("datasets", filename)


class Dataset(models.Model):
    challenge = models.ForeignKey("challenges.Challenge", on_delete=models.CASCADE, related_name="datasets")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["challenge", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "slug"], name="dataset_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class DatasetFileKind(models.TextChoices):
    TRAIN = "train", "Training data"
    UNLABELLED_POOL = "unlabelled_pool", "Unlabelled pool"
    TEST_INPUTS = "test_inputs", "Test inputs"
    NOISY_TEST_INPUTS = "noisy_test_inputs", "Noisy test inputs"
    OTHER = "other", "Other"


class DatasetFile(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=DatasetFileKind.choices)
    file = models.FileField(upload_to=_dataset_key, max_length=500)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    hidden_from_participants = models.BooleanField(
        default=False, help_text="Hidden test inputs of container tracks: only the sandbox reads them."
    )
    release_at = models.DateTimeField(
        null=True, blank=True,
        help_text="Participants see and download the file from this time on (organisers always do). "
        "Empty: released now.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "name"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="dataset_file_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DownloadChannel(models.TextChoices):
    WEB = "web", "Web page"
    API = "api", "API"


class DownloadGrant(models.Model):
    """One signed download URL issued to a person: who, which file, when, from where, until when.

    Names are copied so that the log still reads correctly after a file or team is deleted.
    """

    challenge = models.ForeignKey("challenges.Challenge", on_delete=models.CASCADE, related_name="+")
    dataset_file = models.ForeignKey(
        DatasetFile, null=True, on_delete=models.SET_NULL, related_name="download_grants"
    )
    file_name = models.CharField(max_length=200)
    storage_key = models.CharField(max_length=500)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="download_grants"
    )
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team_name = models.CharField(max_length=100, blank=True, help_text="Empty for organisers.")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    channel = models.CharField(max_length=8, choices=DownloadChannel.choices)

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["challenge", "issued_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} for {self.user} at {self.issued_at:%Y-%m-%d %H:%M}"
