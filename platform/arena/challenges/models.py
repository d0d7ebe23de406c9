"""Challenges, their licences, tracks (each naming a scorer) and phases (each with its reference)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from arena.challenges.condition_maps import condition_map_error
from arena.challenges.protocol_checks import phase_protocol_problem
from arena.core.keys import private_key


def _reference_key(instance: Phase, filename: str) -> str:
    return private_key("references", filename)


def _candidates_key(instance: Phase, filename: str) -> str:
    return private_key("candidates", filename)


def _asset_key(instance: TrackAsset, filename: str) -> str:
    return private_key("track-assets", filename)


def _at_most(value: int, setting: str, what: str) -> None:
    limit = getattr(settings, setting)
    if value > limit:
        raise ValidationError(f"{what} can be at most {limit} on this site ({setting}); choose a smaller value.")


def validate_upload_mb(value: int) -> None:
    _at_most(value, "ARENA_MAX_UPLOAD_MB", "The upload limit in MB")


def validate_container_wall_seconds(value: int) -> None:
    _at_most(value, "ARENA_MAX_CONTAINER_WALL_SECONDS", "A model's wall-clock limit in seconds")


def validate_image_mb(value: int) -> None:
    _at_most(value, "ARENA_MAX_IMAGE_MB", "The model archive limit in MB")


class Challenge(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    overview = models.TextField(blank=True)
    rules = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    entry_deadline = models.DateTimeField(
        null=True, blank=True,
        help_text="After it no team may be formed and nobody may join one (leaving stays possible). "
        "Between the start and the end of the challenge; empty: entry is open until the end.",
    )
    is_published = models.BooleanField(
        default=False, help_text="Shown to everyone. Unpublished challenges are seen by organisers only."
    )
    requires_approval = models.BooleanField(
        default=False, help_text="Organisers approve each team before it may download data or submit."
    )
    requires_signed_agreement = models.BooleanField(
        default=False, help_text="Teams upload the licence signed by a lab head or faculty member (PDF)."
    )
    max_team_size = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="organised_challenges", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="challenge_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(entry_deadline__isnull=True)
                | Q(entry_deadline__gte=F("starts_at"), entry_deadline__lte=F("ends_at")),
                name="challenge_entry_deadline_within_dates",
                violation_error_message="The entry deadline must lie between the challenge's start and end.",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Licence(models.Model):
    """A version of a challenge's end-user licence agreement, or of one dataset's own licence
    (``dataset`` set). A new version needs new acceptance.

    The challenge licence follows the challenge's signed-agreement and approval settings; a
    dataset licence carries its own.
    """

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="licences")
    dataset = models.ForeignKey(
        "datasets.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="licences",
        help_text="Empty for the challenge licence; set for a dataset's own licence.",
    )
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    text = models.TextField()
    requires_signed_agreement = models.BooleanField(
        default=False, help_text="Dataset licence only: teams upload it signed (PDF) before downloading."
    )
    requires_approval = models.BooleanField(
        default=False, help_text="Dataset licence only: organisers approve each team's acceptance."
    )
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["challenge", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "version"], condition=Q(dataset__isnull=True),
                                    name="licence_version_unique"),
            models.UniqueConstraint(fields=["dataset", "version"], condition=Q(dataset__isnull=False),
                                    name="dataset_licence_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class DatasetLicence(Licence):
    """Dataset licences, as organisers manage them in the admin (the same rows as ``Licence``)."""

    class Meta:
        proxy = True
        verbose_name = "dataset licence"


class SubmissionKind(models.TextChoices):
    FILE = "file", "Prediction file"
    CONTAINER = "container", "Containerised model"


class BoardVisibility(models.TextChoices):
    LIVE = "live", "Live: the public board is shown as entries are scored"
    HIDDEN = "hidden", "Hidden: teams see no scores and no board until the results are revealed"
    FROZEN = "frozen", "Frozen: the public board stops at the freeze time; later entries appear at the reveal"


class EntryRule(models.TextChoices):
    """Which of a team's scored entries counts on the private (final) board."""

    BEST_PUBLIC = "best_public", "The team's best entry on the public split"
    SELECTED = "selected", "The best of the entries the team selects as final"
    LAST = "last", "The team's last scored entry"
    BEST_HIDDEN = "best_hidden", "The team's best entry on the hidden split (hidden board, small total limit)"


class Track(models.Model):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="tracks")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    scorer_key = models.CharField(max_length=64, help_text="Which official metric scores this track.")
    scorer_options = models.JSONField(default=dict, blank=True)
    tie_break_metrics = models.JSONField(
        default=list, blank=True, help_text="Metric names that break ties after the primary score."
    )
    # Board statistics (intervals, tie groups); empty: the site's settings.
    board_resamples = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(100), MaxValueValidator(10_000)],
        help_text="Bootstrap resamples of the board statistics, 100 to 10,000. "
        "Empty: the site default (ARENA_BOARD_RESAMPLES, 1,000).",
    )
    board_alpha = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.001), MaxValueValidator(0.2)],
        help_text="Significance level of the board statistics, 0.001 to 0.2 (0.05: 95% intervals). "
        "Empty: the site default (ARENA_BOARD_ALPHA, 0.05).",
    )

    accepts_files = models.BooleanField(default=True)
    accepts_containers = models.BooleanField(default=False)
    max_upload_mb = models.PositiveIntegerField(default=50, validators=[MinValueValidator(1), validate_upload_mb])
    allow_compressed = models.BooleanField(default=True, help_text="Accept .gz and .zip uploads.")

    # Submission limits, counted per team and phase; failed and cancelled entries do not count.
    max_per_day = models.PositiveIntegerField(null=True, blank=True, default=5)
    max_total = models.PositiveIntegerField(null=True, blank=True, default=100)
    max_in_flight = models.PositiveIntegerField(null=True, blank=True, default=2)

    # Limits of a containerised model's run.
    container_wall_seconds = models.PositiveIntegerField(
        default=600, validators=[MinValueValidator(1), validate_container_wall_seconds])
    container_memory_mb = models.PositiveIntegerField(default=2048, validators=[MinValueValidator(16)])
    container_cpus = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    container_gpus = models.PositiveSmallIntegerField(default=0)
    container_pids = models.PositiveIntegerField(default=256, validators=[MinValueValidator(8)])
    max_image_mb = models.PositiveIntegerField(default=4096, validators=[MinValueValidator(1), validate_image_mb])
    show_container_logs = models.BooleanField(
        default=True, help_text="Logs can leak test data: switch off to hide them from participants."
    )
    image_allowlist = models.TextField(
        blank=True, help_text="Registries or repository prefixes models may be pulled from, one per line "
        "(e.g. ghcr.io/my-lab); added to the site's ARENA_IMAGE_ALLOWLIST. Empty: archives only.",
    )

    class Meta:
        ordering = ["challenge", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "slug"], name="track_slug_unique"),
            models.CheckConstraint(
                condition=Q(accepts_files=True) | Q(accepts_containers=True),
                name="track_accepts_some_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challenge.slug} / {self.title}"

    @property
    def accepted_kinds(self) -> list[str]:
        kinds = []
        if self.accepts_files:
            kinds.append(SubmissionKind.FILE)
        if self.accepts_containers:
            kinds.append(SubmissionKind.CONTAINER)
        return kinds


class TrackAsset(models.Model):
    """A file the scorer needs (e.g. the emotion-wheel sheets), placed at ``path`` in its folder."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="assets")
    path = models.CharField(max_length=200, help_text="File name inside the scorer's asset folder.")
    file = models.FileField(upload_to=_asset_key, max_length=500)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["track", "path"]
        constraints = [
            models.UniqueConstraint(fields=["track", "path"], name="track_asset_path_unique"),
        ]

    def __str__(self) -> str:
        return self.path


class PhaseKind(models.TextChoices):
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"


class Phase(models.Model):
    """A window of a track with its own reference labels, split into a public and a private (hidden)
    part; a phase may have the private part only. Its board visibility and entry rule say what teams see
    before the results are revealed and which entry of each team counts."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="phases")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=PhaseKind.choices, default=PhaseKind.VALIDATION)
    order = models.PositiveSmallIntegerField(default=0)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    reference_public = models.FileField(upload_to=_reference_key, max_length=500, blank=True)
    reference_private = models.FileField(upload_to=_reference_key, max_length=500, blank=True)
    private_revealed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the organisers revealed the results (the private board, and "
        "for hidden or frozen boards everything else). Set by the reveal action, or at the close when "
        "\"reveal at close\" is on.")
    board_visibility = models.CharField(
        max_length=16, choices=BoardVisibility.choices, default=BoardVisibility.LIVE,
        help_text="What teams see before the results are revealed. Organisers always see every board.")
    frozen_at = models.DateTimeField(
        null=True, blank=True, help_text="Frozen boards only: entries submitted from this time on stay off the "
        "public board until the reveal. Between the phase's opening and closing.")
    reveal_at_close = models.BooleanField(
        default=False, help_text="Reveal the results automatically when the phase closes.")
    entry_rule = models.CharField(
        max_length=16, choices=EntryRule.choices, default=EntryRule.BEST_PUBLIC,
        help_text="Which entry of each team counts on the private board. \"Best on the hidden split\" needs a "
        "hidden board and a total limit of at most ARENA_BEST_HIDDEN_MAX_TOTAL entries (otherwise teams could "
        "fit the hidden split); \"best public\" needs a public reference.")
    max_selected = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Selected entries only: how many a team may "
        "select as final.")
    container_inputs = models.FileField(
        upload_to=_reference_key, max_length=500, blank=True,
        help_text="Hidden test inputs that containerised models read at /input: one file, or a .zip or "
        ".tar.gz unpacked there. Never downloadable by participants.",
    )
    candidates = models.FileField(
        upload_to=_candidates_key, max_length=500, blank=True,
        help_text="A published candidate list (CSV, first column the track's key column) that hides the test "
        "keys among other candidates: uploads must then have one row per candidate and no other key, and every "
        "message names candidates only. Public: teams can download it from the phase page.",
    )
    container_inputs_sha256 = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="SHA-256 of the stored container inputs (empty: none); workers key their unpacked copy by it. "
        "Kept by the platform whenever the inputs change.",
    )
    container_inputs_media = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="The media check of the container inputs (readable WAV and PNG files), for the SHA-256 it "
        "names; made once per upload, shown by the readiness check.",
    )
    robustness_protocol = models.JSONField(
        default=dict, blank=True,
        help_text="Empty: no protocol (models see the clean inputs). Otherwise the named conditions models are "
        "evaluated under, the seed of the corruptions and how the summary score is formed.",
    )
    condition_map = models.FileField(
        upload_to=_reference_key, max_length=500, blank=True,
        help_text="Prediction-file tracks with a robustness protocol: a private CSV \"key,condition\" saying which "
        "protocol condition each test key was recorded under, for the per-condition scores. Never downloadable "
        "by participants.",
    )

    # Limits of this phase; empty: the track's.
    max_per_day = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the track's limit.")
    max_total = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the track's limit.")
    max_in_flight = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the track's limit.")
    max_refused_per_hour = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Refused uploads (invalid files) a team may make per hour; they use none of its limits. "
        "Empty: the site's ARENA_REFUSED_UPLOADS_PER_HOUR.")

    class Meta:
        ordering = ["track", "order", "opens_at"]
        constraints = [
            models.UniqueConstraint(fields=["track", "slug"], name="phase_slug_unique"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="phase_closes_after_open"
            ),
            models.CheckConstraint(
                condition=~Q(board_visibility=BoardVisibility.FROZEN)
                | Q(frozen_at__isnull=False, frozen_at__gte=F("opens_at"), frozen_at__lte=F("closes_at")),
                name="phase_frozen_at_within_window",
                violation_error_message="A frozen board needs a freeze time between the phase's opening and "
                "closing.",
            ),
            models.CheckConstraint(
                condition=~Q(entry_rule=EntryRule.BEST_HIDDEN) | Q(board_visibility=BoardVisibility.HIDDEN),
                name="phase_best_hidden_needs_hidden_board",
                violation_error_message="\"Best on the hidden split\" needs a hidden board: with scores shown, "
                "teams could pick entries by them.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.track} / {self.title}"

    @property
    def challenge(self) -> Challenge:
        return self.track.challenge

    @property
    def has_public_split(self) -> bool:
        return bool(self.reference_public)

    def is_revealed(self, now: datetime | None = None) -> bool:
        """Whether the results are out: revealed by the organisers, or the phase has closed with
        "reveal at close" on (true from that moment, whether or not the beat has stamped it yet)."""
        if self.private_revealed_at is not None:
            return True
        return self.reveal_at_close and self.closes_at <= (now or timezone.now())

    def is_frozen(self, now: datetime | None = None) -> bool:
        """Whether teams see the board as it stood at ``frozen_at`` (until the reveal)."""
        now = now or timezone.now()
        return (self.board_visibility == BoardVisibility.FROZEN and self.frozen_at is not None
                and self.frozen_at <= now and not self.is_revealed(now))

    def clean(self) -> None:
        errors = {}
        if self.entry_rule == EntryRule.BEST_HIDDEN:
            cap = settings.ARENA_BEST_HIDDEN_MAX_TOTAL
            total = self.limit("max_total") if self.track_id else self.max_total
            if total is None or total > cap:
                errors["max_total"] = (
                    f"\"Best on the hidden split\" lets each team fit the hidden split with every entry, so it "
                    f"needs a total limit of at most {cap} (ARENA_BEST_HIDDEN_MAX_TOTAL); this phase allows "
                    f"{'no limit' if total is None else total}. Set a smaller total limit, or choose another rule.")
        if self.entry_rule == EntryRule.BEST_PUBLIC and not self.reference_public and (
                self.reference_private or self.candidates):
            errors["entry_rule"] = ("This phase has no public reference, so there is no best public entry; choose "
                                    "the last entry, selected entries or the best on the hidden split.")
        if self.board_visibility == BoardVisibility.FROZEN and self.frozen_at is None:
            errors["frozen_at"] = "A frozen board needs the time it freezes."
        if self.track_id is not None:
            problem = phase_protocol_problem(self)
            if problem is not None:
                errors["robustness_protocol"] = problem
        if self.track_id is not None and "robustness_protocol" not in errors:
            map_problem = condition_map_error(self)
            if map_problem is not None:
                errors["condition_map"] = map_problem
        if errors:
            raise ValidationError(errors)

    def limit(self, name: str) -> int | None:
        """This phase's ``max_per_day``, ``max_total`` or ``max_in_flight``, else the track's."""
        own = getattr(self, name)
        return own if own is not None else getattr(self.track, name)


class Announcement(models.Model):
    """News from the organisers, shown on the challenge page and e-mailed to the teams' members when
    published (``announcement_publish``). The body is Markdown."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="announcements")
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown. Sent by e-mail to every member of every team who has not "
                            "turned announcement e-mails off.")
    published_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title
