"""Stored leaderboards: an entry stored when its scores change, its place numbered when its board is read."""

from django.db import models
from django.db.models import F, TextField, Value
from django.db.models.functions import Cast, Coalesce, Concat


def _json_integer(field: str):
    return Coalesce(Cast(field, TextField()), Value("null"), output_field=TextField())


def row_json_expression():
    """The entry's API row (``arena.leaderboards.exports.entry_row_json``) in SQL: its stored head, then its
    place as the view numbers it."""
    return Concat(F("row_head"), Value(',"rank":'), _json_integer("rank"), Value(',"public_rank":'),
                  _json_integer("public_rank"), Value(',"position":'), Cast("position", TextField()), Value("}"),
                  output_field=TextField())


class EntryManager(models.Manager):
    """Entries with their API row as ``row_json``."""

    def get_queryset(self):
        return super().get_queryset().annotate(row_json=row_json_expression())


class EntryColumns(models.Model):
    """What an entry of a board holds besides its place."""

    split = models.CharField(max_length=16)
    is_baseline = models.BooleanField(default=False)
    score = models.FloatField()
    metrics = models.JSONField(default=dict)
    #: On a phase with a robustness protocol, the entry's score under each condition (None: it failed).
    conditions = models.JSONField(default=dict, blank=True)
    team_name = models.CharField(max_length=100, blank=True)
    method_name = models.CharField(max_length=100, blank=True)
    submitted_at = models.DateTimeField()
    entries_count = models.PositiveIntegerField(default=0, help_text="Scored submissions of the team.")
    #: The entry's answers to the fact-sheet questions shown on the board, by question key.
    answers = models.JSONField(default=dict, blank=True)
    #: Uncertainty of the entry among the board's others (``arena.leaderboards.statistics``):
    #: ``{"interval": {"low", "high", "level"}, "p_vs_next", "rank_range": [best, worst], "tie_group"}``;
    #: null until computed after the board changed, and on tracks without resampling.
    statistics = models.JSONField(null=True, blank=True)
    #: The row as the API sends it without its end, rendered when the entry is stored: the end (the entry's
    #: ``"rank"``, ``"public_rank"`` and ``"position"``) follows from its place when it is read, as
    #: ``LeaderboardEntry.row_json`` (``row_json_expression``).
    row_head = models.TextField()
    #: The entry's sort key as bytes whose order is the board's (``arena.leaderboards.ranking``): equal
    #: ``rank_key`` share a rank; ``order_key`` (``rank_key``, then the submission time and id) is unique
    #: and ascends with the position.
    rank_key = models.BinaryField(default=b"")
    order_key = models.BinaryField(default=b"")

    class Meta:
        abstract = True


class StoredEntry(EntryColumns):
    """One row of a phase's public or private leaderboard as stored: without its place, which follows from the
    order of the board's keys when it is read (``LeaderboardEntry``). Placing, moving or removing one entry is
    then one row written, whatever the size of the board. Only the services write it.

    The view ``LeaderboardEntry`` reads names this table's columns: a migration that changes them drops the
    view first and creates it again after (SQLite rebuilds a changed table under its name).
    """

    phase = models.ForeignKey("challenges.Phase", on_delete=models.CASCADE, related_name="leaderboard_entries")
    submission = models.ForeignKey("submissions.Submission", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "leaderboards_leaderboardentry"
        constraints = [
            models.UniqueConstraint(fields=["phase", "split", "submission"], name="one_row_per_submission"),
        ]
        # A board's rows are found by the phase and split (the view then numbers them in key order); a move's
        # lookups (``arena.leaderboards.ranking``) are ranges of order keys.
        indexes = [models.Index(fields=["phase", "split", "order_key"], name="board_order_key"),
                   models.Index(fields=["phase", "team", "split"], name="board_team_entries")]

    def __str__(self) -> str:
        return f"{self.phase_id}/{self.split}: {self.team_name or self.method_name}"


class LeaderboardEntry(EntryColumns):
    """One row of a board with its place, as readers get it: a database view over ``StoredEntry``
    (migration 0009) that numbers each board's rows in the order of their keys, read only.

    - ``position``: 1, 2, 3, ... best first (``order_key`` order);
    - ``rank``: competition rank ("1224") among teams, equal ``rank_key`` sharing one; baselines get none;
    - ``public_rank``: on the private board, the same team's rank on the public board.

    Filters on the phase and split reach the view's numbering, so a board's read numbers that board's rows
    only; any other filter (a team, a name) applies to the numbered rows, whose places stay the board's.
    """

    phase = models.ForeignKey("challenges.Phase", on_delete=models.DO_NOTHING, related_name="+",
                              db_constraint=False)
    submission = models.ForeignKey("submissions.Submission", on_delete=models.DO_NOTHING, related_name="+",
                                   db_constraint=False)
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
                             db_constraint=False)
    #: Competition rank ("1224") among teams; baselines are placed by score but have no rank.
    rank = models.PositiveIntegerField(null=True, blank=True)
    #: On the private board, the same team's rank on the public board.
    public_rank = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField()

    #: Entries with their API row as ``row_json``.
    objects = EntryManager()

    class Meta:
        managed = False
        db_table = "leaderboards_board"
        ordering = ["phase", "split", "position"]

    def __str__(self) -> str:
        return f"{self.phase_id}/{self.split} #{self.rank}: {self.team_name or self.method_name}"


class LeaderboardSnapshot(models.Model):
    """What a board's readers need besides its rows: the CSV export and the row count.

    Written by each refresh; reads send it as it is.
    """

    phase = models.ForeignKey("challenges.Phase", on_delete=models.CASCADE, related_name="leaderboard_snapshots")
    split = models.CharField(max_length=16)
    csv = models.TextField()
    rows = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(auto_now=True)
    #: When the entries' statistics were last computed (null: never, or the board changed since).
    statistics_refreshed_at = models.DateTimeField(null=True, blank=True)
    #: Set while a statistics task for the phase is waiting: later changes of the board join it.
    statistics_queued_at = models.DateTimeField(null=True, blank=True)
    #: Set when the rows changed after ``csv`` was rendered; the next reader renders it again
    #: (``arena.leaderboards.exports.snapshot_csv``), so a scoring never renders it under the phase lock.
    csv_stale = models.BooleanField(default=False)
    #: The ranking rule the entries' keys encode (``arena.leaderboards.ranking.ranking_rule``); a board
    #: ranked under another rule (or before keys were stored) is ranked in full once.
    ranked_by = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["phase", "split"], name="one_snapshot_per_board")]

    def __str__(self) -> str:
        return f"{self.phase_id}/{self.split} ({self.rows} rows)"


class SampleRecord(models.Model):
    """What the board's paired statistics need of one scored submission on one split, instead of its file.

    ``scores`` holds the track's primary score under each of ``resamples`` resamples of the split's
    ``samples`` reference samples drawn with ``seed`` (``scorers.stats.paired_resample_scores``): the
    same draws for every submission of the phase split, so entries compare resample by resample.
    Stored as little-endian float64 bytes (NaN: undefined under that resample), 8 bytes a resample.
    """

    submission = models.ForeignKey("submissions.Submission", on_delete=models.CASCADE, related_name="+")
    split = models.CharField(max_length=16)
    seed = models.BigIntegerField()
    resamples = models.PositiveIntegerField()
    samples = models.PositiveIntegerField()
    scores = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "split"], name="one_sample_record_per_split")]

    def __str__(self) -> str:
        return f"submission {self.submission_id}/{self.split}: {self.resamples} resamples of {self.samples}"
