"""What each export holds, read from the database and the stored files (no writes).

Every CSV goes through ``SafeCsvWriter``: team, method and affiliation names are typed by
participants and must come out inert in an organiser's spreadsheet.
"""

from __future__ import annotations

import io
import json
import posixpath
import shutil
import zipfile
from datetime import datetime
from typing import Any, BinaryIO

from django.core.files.storage import default_storage

import scorers
from arena.challenges.models import Challenge, Phase
from arena.core.csv_safety import SafeCsvWriter
from arena.core.keys import safe_filename
from arena.factsheets.selectors import factsheet_questions
from arena.leaderboards.models import LeaderboardEntry
from arena.participation.models import LicenceAcceptance
from arena.submissions.models import ScoreSplit, Submission
from arena.teams.models import Team

ROSTER_HEADER = ["team_id", "team", "participation", "row", "username", "email", "role", "full_name",
                 "affiliation", "licence", "licence_version", "dataset", "accepted_on", "approval"]
SUBMISSION_INDEX = "submissions.csv"
_COPY_CHUNK = 1 << 20


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    SafeCsvWriter(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def metric_names_of(phase: Phase) -> list[str]:
    return list(scorers.get_scorer(phase.track.scorer_key).metric_names)


def acceptance_approval(acceptance: LicenceAcceptance) -> str:
    """A dataset licence acceptance's approval: approved, pending or not required; blank for the
    challenge licence (the team's participation carries its approval)."""
    licence = acceptance.licence
    if licence.dataset_id is None:
        return ""
    if not licence.requires_approval:
        return "not required"
    return "approved" if acceptance.approved_at is not None else "pending"


def roster_rows(challenge: Challenge) -> list[list[Any]]:
    """The roster, header first: per team one row per member, then one per licence acceptance.

    A member's name and affiliation are those of their latest acceptance (of the challenge
    licence when they accepted it); an acceptance row names who accepted it.
    """
    teams = (Team.objects.filter(challenge=challenge).order_by("name", "id").select_related("participation")
             .prefetch_related("memberships__user"))
    acceptances: dict[int, list[LicenceAcceptance]] = {}
    for acceptance in (LicenceAcceptance.objects.filter(team__challenge=challenge)
                       .select_related("licence__dataset", "accepted_by").order_by("created_at", "id")):
        acceptances.setdefault(acceptance.team_id, []).append(acceptance)
    rows: list[list[Any]] = [ROSTER_HEADER]
    for team in teams:
        participation = getattr(team, "participation", None)
        head = [team.pk, team.name, participation.status if participation else ""]
        own = acceptances.get(team.pk, [])
        members = sorted(team.memberships.all(), key=lambda m: (m.joined_at, m.pk))
        for membership in members:
            user = membership.user
            given = [a for a in own if a.accepted_by_id == user.pk]
            given.sort(key=lambda a: a.licence.dataset_id is None)  # the challenge licence's wins
            latest = given[-1] if given else None
            rows.append([*head, "member", user.username, user.email, membership.role,
                         latest.full_name if latest else "", latest.affiliation if latest else "",
                         "", "", "", "", ""])
        if not members:
            rows.append([*head, "team", *[""] * (len(ROSTER_HEADER) - 4)])
        for acceptance in own:
            licence, user = acceptance.licence, acceptance.accepted_by
            rows.append([*head, "licence", user.username, user.email, "", acceptance.full_name,
                         acceptance.affiliation, licence.title, licence.version,
                         licence.dataset.slug if licence.dataset_id else "", acceptance.accepted_on.isoformat(),
                         acceptance_approval(acceptance)])
    return rows


def roster_csv(challenge: Challenge) -> bytes:
    return _csv(roster_rows(challenge))


def team_affiliations(challenge: Challenge) -> dict[int, str]:
    """Each team's affiliation as given in its latest acceptance of the challenge licence."""
    found: dict[int, str] = {}
    for team_id, affiliation in (LicenceAcceptance.objects
                                 .filter(team__challenge=challenge, licence__dataset__isnull=True)
                                 .order_by("created_at", "id").values_list("team_id", "affiliation")):
        found[team_id] = affiliation
    return found


def results_rows(phase: Phase, split: str) -> list[list[Any]]:
    """A phase's stored board as a paper's results table, header first, best first."""
    metric_names = metric_names_of(phase)
    affiliations = team_affiliations(phase.track.challenge)
    rows: list[list[Any]] = [["rank", "team", "affiliation", "method", "baseline", "score", *metric_names,
                              "paper_url", "code_url", "submission_id"]]
    entries = (LeaderboardEntry.objects.filter(phase=phase, split=split).order_by("position")
               .select_related("submission"))
    for entry in entries:
        metrics = entry.metrics or {}
        rows.append([
            entry.rank if entry.rank is not None else "", entry.team_name,
            affiliations.get(entry.team_id, "") if entry.team_id else "", entry.method_name,
            "yes" if entry.is_baseline else "", float(entry.score),
            *[float(metrics[m]) if metrics.get(m) is not None else "" for m in metric_names],
            entry.submission.paper_url, entry.submission.code_url, entry.submission_id,
        ])
    return rows


def results_csv(phase: Phase, split: str) -> bytes:
    return _csv(results_rows(phase, split))


def submission_metadata(submission: Submission) -> dict[str, Any]:
    """One submission as its ``metadata.json`` in the submissions zip (scores of every split)."""
    s = submission
    return {
        "id": s.pk, "public_id": str(s.public_id), "team_id": s.team_id, "team": s.team.name if s.team else None,
        "submitted_by": s.submitted_by.username if s.submitted_by else None, "kind": s.kind,
        "method_name": s.method_name, "method_description": s.method_description, "paper_url": s.paper_url,
        "code_url": s.code_url, "status": s.status, "created_at": _iso(s.created_at),
        "finished_at": _iso(s.finished_at), "is_baseline": s.is_baseline, "is_selected": s.is_selected,
        "disqualified_at": _iso(s.disqualified_at), "disqualified_reason": s.disqualified_reason,
        "file_name": s.file_name, "file_size": s.file_size, "file_sha256": s.file_sha256,
        "image_reference": s.image_reference, "image_digest": s.image_digest,
        "scores": {score.split: {"score": score.score, "metrics": score.metrics} for score in s.scores.all()},
        "answers": {answer.question.key: answer.value for answer in s.answers.all()},
    }


def submission_member_name(submission: Submission) -> str:
    """The zip member holding a submission's file: ``<id>/file/<file name as uploaded, made safe>`` (a folder
    of its own, so that no upload's name can clash with ``metadata.json``)."""
    name = submission.file_name or posixpath.basename(submission.file.name)
    return f"{submission.pk}/file/{safe_filename(name)}"


def phase_submissions(phase: Phase):
    return (Submission.objects.filter(phase=phase).order_by("id")
            .select_related("team", "submitted_by").prefetch_related("scores", "answers__question"))


def submissions_zip(phase: Phase, out: BinaryIO) -> int:
    """Write a phase's submissions to ``out`` as a zip; returns how many.

    Per submission, ``<id>/metadata.json`` and its prediction file in ``<id>/file/`` (model archives of
    containerised entries stay out: they run to gigabytes; their image reference and digest are in the
    metadata); ``submissions.csv`` lists them all with their scores per split. Files are copied in
    chunks, so the archive never sits in memory.
    """
    metric_names = metric_names_of(phase)
    questions = list(factsheet_questions(phase).values_list("key", flat=True))
    splits = [ScoreSplit.PUBLIC.value, ScoreSplit.PRIVATE.value]
    index: list[list[Any]] = [[
        "id", "team", "method", "method_description", "paper_url", "code_url", "status", "created_at",
        "finished_at", "baseline", "selected", "disqualified_reason", "file",
        *[f"{split}_{name}" for split in splits for name in ["score", *metric_names]],
        *[f"answer_{key}" for key in questions],
    ]]
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for submission in phase_submissions(phase).iterator(chunk_size=200):
            metadata = submission_metadata(submission)
            archive.writestr(f"{submission.pk}/metadata.json",
                             json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
            member = ""
            if submission.file:
                member = submission_member_name(submission)
                with default_storage.open(submission.file.name, "rb") as source, \
                        archive.open(member, "w", force_zip64=True) as target:
                    shutil.copyfileobj(source, target, _COPY_CHUNK)
            scores = metadata["scores"]
            index.append([
                submission.pk, metadata["team"] or "", submission.method_name, submission.method_description,
                submission.paper_url, submission.code_url, submission.status, metadata["created_at"],
                metadata["finished_at"] or "", "yes" if submission.is_baseline else "",
                "yes" if submission.is_selected else "", submission.disqualified_reason, member,
                *[_score_cell(scores.get(split), name) for split in splits for name in ["score", *metric_names]],
                *[metadata["answers"].get(key, "") for key in questions],
            ])
            count += 1
        archive.writestr(SUBMISSION_INDEX, _csv(index))
    return count


def _score_cell(score: dict | None, name: str) -> Any:
    if score is None:
        return ""
    value = score["score"] if name == "score" else score["metrics"].get(name)
    return float(value) if value is not None else ""
