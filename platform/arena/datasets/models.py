"""Licence-gated data of a challenge. Reference labels are never here: they belong to phases."""

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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "name"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="dataset_file_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name
