"""Organiser exports: a phase's submissions (zip), the roster and results tables (CSV), checked against the
database exactly; who may ask for them; the signed, expiring download link."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import zipfile
from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.core.errors import DomainError, NotFound, PermissionDenied
from arena.datasets.models import Dataset
from arena.exports.models import Export, ExportKind, ExportStatus
from arena.exports.services import export_build, export_request
from arena.leaderboards.models import LeaderboardEntry
from arena.leaderboards.services import leaderboard_refresh
from arena.participation.models import LicenceAcceptance, ParticipationStatus
from arena.submissions.models import SubmissionScore, SubmissionStatus
from tests.platform.factories import (
    ChallengeFactory,
    LicenceFactory,
    PhaseFactory,
    SubmissionFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FORMULA_TEAM = '=HYPERLINK("http://evil.example","x")'


def _accept(team, licence, user, *, affiliation, approved=False, full_name="A Person"):
    return LicenceAcceptance.objects.create(
        team=team, licence=licence, accepted_by=user, full_name=full_name, affiliation=affiliation,
        accepted_on=date(2026, 3, 1), approved_at=timezone.now() if approved else None)


def _scored(phase, team, *, method, public, private, **extra):
    submission = SubmissionFactory(phase=phase, team=team, method_name=method, status=SubmissionStatus.SCORED,
                                   finished_at=timezone.now(), **extra)
    SubmissionScore.objects.create(submission=submission, split="public", score=public,
                                   metrics={"waf": public, "accuracy": public / 2})
    SubmissionScore.objects.create(submission=submission, split="private", score=private,
                                   metrics={"waf": private, "accuracy": private / 2})
    return submission


@pytest.fixture
def world():
    organiser, organiser_b = UserFactory(username="org"), UserFactory(username="org-b")
    alice, bob, carol = (UserFactory(username=n, email=f"{n}@lab.example") for n in ("alice", "bob", "carol"))
    challenge = ChallengeFactory(slug="mer", title="MER", organisers=[organiser])
    ChallengeFactory(slug="other", title="Other", organisers=[organiser_b])
    phase = PhaseFactory(track__challenge=challenge, track__slug="semi", slug="test")
    challenge_licence = LicenceFactory(challenge=challenge, version=2, title="MER EULA")
    dataset = Dataset.objects.create(challenge=challenge, slug="mer-2025", title="MER 2025")
    dataset_licence = LicenceFactory(challenge=challenge, dataset=dataset, version=1, title="MER 2025 EULA",
                                     requires_approval=True)
    evil = TeamFactory(challenge=challenge, name=FORMULA_TEAM, members=[alice, bob])
    lab = TeamFactory(challenge=challenge, name="Lab", members=[carol], participation=ParticipationStatus.PENDING)
    _accept(evil, challenge_licence, alice, affiliation="@Uni Evil", full_name="Alice A")
    _accept(evil, dataset_licence, bob, affiliation="Dept B", full_name="Bob B", approved=True)
    _accept(lab, challenge_licence, carol, affiliation="Lab Univ", full_name="Carol C")
    _accept(lab, dataset_licence, carol, affiliation="Lab Univ", full_name="Carol C")
    best = _scored(phase, evil, method="=cmd|' /C calc'!A0", public=0.8, private=0.7,
                   paper_url="https://papers.example/1", code_url="https://code.example/1", is_selected=True,
                   method_description="Fusion of audio and video", file_name="preds final.csv", submitted_by=alice)
    second = _scored(phase, lab, method="Baseline-ish", public=0.6, private=0.75)
    baseline = _scored(phase, None, method="Official baseline", public=0.5, private=0.5, is_baseline=True)
    disqualified = _scored(phase, lab, method="Late", public=0.9, private=0.9, disqualified_at=timezone.now(),
                           disqualified_reason="Used the test labels.")
    failed = SubmissionFactory(phase=phase, team=lab, method_name="Broken", status=SubmissionStatus.FAILED)
    leaderboard_refresh(phase_id=phase.pk)
    return {"organiser": organiser, "organiser_b": organiser_b, "participant": alice, "challenge": challenge,
            "phase": phase, "evil": evil, "lab": lab, "dataset_licence": dataset_licence,
            "challenge_licence": challenge_licence,
            "submissions": [best, second, baseline, disqualified, failed]}


def _built(world, kind, **kwargs) -> Export:
    export = export_request(actor=world["organiser"], challenge=world["challenge"], kind=kind, **kwargs)
    assert export_build(export_id=export.pk) == ExportStatus.READY
    export.refresh_from_db()
    return export


def _stored(export: Export) -> bytes:
    with default_storage.open(export.file.name, "rb") as handle:
        return handle.read()


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def _iso(value):
    return value.isoformat() if value else None


# --- contents ---------------------------------------------------------------------------------------------------

def test_submissions_zip_holds_each_file_and_its_metadata_exactly(world):
    from arena.factsheets.models import Answer, Question

    question = Question.objects.create(phase=world["phase"], key="external_data", text="External data?",
                                       kind="yes_no")
    Answer.objects.create(submission=world["submissions"][0], question=question, value="no")
    export = _built(world, ExportKind.SUBMISSIONS, phase=world["phase"])
    data = _stored(export)
    assert export.size == len(data)
    assert export.sha256 == hashlib.sha256(data).hexdigest()
    archive = zipfile.ZipFile(io.BytesIO(data))
    subs = sorted(world["submissions"], key=lambda s: s.pk)
    best = world["submissions"][0]
    expected_names = []
    for s in subs:
        file_member = f"{s.pk}/file/preds_final.csv" if s == best else f"{s.pk}/file/predictions.csv"
        expected_names += [f"{s.pk}/metadata.json", file_member]
        with default_storage.open(s.file.name, "rb") as handle:
            assert archive.read(file_member) == handle.read()
    assert sorted(archive.namelist()) == sorted([*expected_names, "submissions.csv"])

    for s in subs:
        s.refresh_from_db()
        scores = {sc.split: {"score": sc.score, "metrics": sc.metrics} for sc in s.scores.all()}
        assert json.loads(archive.read(f"{s.pk}/metadata.json")) == {
            "id": s.pk, "public_id": str(s.public_id), "team_id": s.team_id,
            "team": s.team.name if s.team else None,
            "submitted_by": s.submitted_by.username if s.submitted_by else None, "kind": "file",
            "method_name": s.method_name, "method_description": s.method_description, "paper_url": s.paper_url,
            "code_url": s.code_url, "status": s.status, "created_at": _iso(s.created_at),
            "finished_at": _iso(s.finished_at), "is_baseline": s.is_baseline, "is_selected": s.is_selected,
            "disqualified_at": _iso(s.disqualified_at), "disqualified_reason": s.disqualified_reason,
            "file_name": s.file_name, "file_size": s.file_size, "file_sha256": s.file_sha256,
            "image_reference": "", "image_digest": "", "scores": scores,
            "answers": {"external_data": "no"} if s == world["submissions"][0] else {},
        }
    best_meta = json.loads(archive.read(f"{best.pk}/metadata.json"))
    assert best_meta["team"] == FORMULA_TEAM and best_meta["is_selected"] is True
    assert best_meta["scores"]["private"] == {"score": 0.7, "metrics": {"waf": 0.7, "accuracy": 0.35}}
    disqualified = world["submissions"][3]
    assert json.loads(archive.read(f"{disqualified.pk}/metadata.json"))["disqualified_reason"] == \
        "Used the test labels."

    index = _csv_rows(archive.read("submissions.csv"))
    assert index[0] == ["id", "team", "method", "method_description", "paper_url", "code_url", "status",
                        "created_at", "finished_at", "baseline", "selected", "disqualified_reason", "file",
                        "public_score", "public_waf", "public_accuracy",
                        "private_score", "private_waf", "private_accuracy", "answer_external_data"]
    assert [int(row[0]) for row in index[1:]] == [s.pk for s in subs]
    first = index[1]
    assert first[12] == f"{best.pk}/file/preds_final.csv"
    assert first[1] == "'" + FORMULA_TEAM and first[2] == "'=cmd|' /C calc'!A0"  # inert in a spreadsheet
    assert first[13:] == ["0.8", "0.8", "0.4", "0.7", "0.7", "0.35", "no"]
    assert index[-1][13:] == [""] * 7  # the failed submission has no score and no answer


def test_roster_rows_match_the_database(world):
    export = _built(world, ExportKind.ROSTER)
    rows = _csv_rows(_stored(export))
    evil, lab = world["evil"], world["lab"]
    inert = "'" + FORMULA_TEAM
    assert rows == [
        ["team_id", "team", "participation", "row", "username", "email", "role", "full_name", "affiliation",
         "licence", "licence_version", "dataset", "accepted_on", "approval"],
        [str(evil.pk), inert, "approved", "member", "alice", "alice@lab.example", "owner", "Alice A",
         "'@Uni Evil", "", "", "", "", ""],
        [str(evil.pk), inert, "approved", "member", "bob", "bob@lab.example", "member", "Bob B", "Dept B",
         "", "", "", "", ""],
        [str(evil.pk), inert, "approved", "licence", "alice", "alice@lab.example", "", "Alice A", "'@Uni Evil",
         "MER EULA", "2", "", "2026-03-01", ""],
        [str(evil.pk), inert, "approved", "licence", "bob", "bob@lab.example", "", "Bob B", "Dept B",
         "MER 2025 EULA", "1", "mer-2025", "2026-03-01", "approved"],
        [str(lab.pk), "Lab", "pending", "member", "carol", "carol@lab.example", "owner", "Carol C", "Lab Univ",
         "", "", "", "", ""],
        [str(lab.pk), "Lab", "pending", "licence", "carol", "carol@lab.example", "", "Carol C", "Lab Univ",
         "MER EULA", "2", "", "2026-03-01", ""],
        [str(lab.pk), "Lab", "pending", "licence", "carol", "carol@lab.example", "", "Carol C", "Lab Univ",
         "MER 2025 EULA", "1", "mer-2025", "2026-03-01", "pending"],
    ]


@pytest.mark.parametrize("split", ["public", "private"])
def test_results_table_rows_equal_the_stored_board(world, split):
    export = _built(world, ExportKind.RESULTS, phase=world["phase"], split=split)
    assert export.split == split
    rows = _csv_rows(_stored(export))
    assert rows[0] == ["rank", "team", "affiliation", "method", "baseline", "score", "waf", "accuracy",
                       "paper_url", "code_url", "submission_id"]
    affiliation = {world["evil"].pk: "'@Uni Evil", world["lab"].pk: "Lab Univ"}
    entries = LeaderboardEntry.objects.filter(phase=world["phase"], split=split).select_related("submission")
    expected = [[
        str(e.rank) if e.rank is not None else "",
        ("'" + e.team_name) if e.team_name.startswith("=") else e.team_name,
        affiliation.get(e.team_id, ""), ("'" + e.method_name) if e.method_name.startswith("=") else e.method_name,
        "yes" if e.is_baseline else "", repr(e.score), repr(e.metrics["waf"]), repr(e.metrics["accuracy"]),
        e.submission.paper_url, e.submission.code_url, str(e.submission_id),
    ] for e in entries.order_by("position")]
    assert rows[1:] == expected
    assert len(expected) == 3  # two teams and the baseline; the disqualified and failed entries are off the board
    best, second, baseline = world["submissions"][:3]
    order = [best, second, baseline] if split == "public" else [second, best, baseline]
    assert [int(r[-1]) for r in rows[1:]] == [s.pk for s in order]
    assert rows[1 if split == "public" else 2][8:10] == ["https://papers.example/1", "https://code.example/1"]


def test_a_formula_like_team_name_comes_out_inert(world):
    text = _stored(_built(world, ExportKind.RESULTS, phase=world["phase"], split="public")).decode()
    assert "\n1,'=HYPERLINK(" in text.replace('"', "")
    assert ",=" not in text and "\n=" not in text


# --- the build task ---------------------------------------------------------------------------------------------

def test_the_build_is_sent_after_commit_and_safe_to_run_twice(world, django_capture_on_commit_callbacks,
                                                               monkeypatch):
    sent = []
    monkeypatch.setattr("arena.exports.services.current_app.send_task",
                        lambda name, args, **kw: sent.append((name, args, kw["queue"])))
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(actor=world["organiser"], challenge=world["challenge"], kind=ExportKind.ROSTER)
        assert sent == []
    assert sent == [("arena.exports.tasks.build_export", [export.pk], "default")]
    assert export.status == ExportStatus.QUEUED
    # Asked again while queued: the same export, nothing new sent.
    again = export_request(actor=world["organiser"], challenge=world["challenge"], kind=ExportKind.ROSTER)
    assert again.pk == export.pk and Export.objects.count() == 1
    # One stuck in the queue for long (its message lost with a broker down) no longer stands in for new ones.
    Export.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    fresh = export_request(actor=world["organiser"], challenge=world["challenge"], kind=ExportKind.ROSTER)
    assert fresh.pk != export.pk and Export.objects.count() == 2
    assert export_build(export_id=export.pk) == ExportStatus.READY
    export.refresh_from_db()
    first = (export.file.name, export.sha256, export.finished_at)
    assert export_build(export_id=export.pk) == "skipped"
    export.refresh_from_db()
    assert (export.file.name, export.sha256, export.finished_at) == first
    assert AuditEntry.objects.filter(action="export.request", target_id=str(export.pk),
                                     actor=world["organiser"]).count() == 1


def test_a_failed_build_is_recorded_with_a_message(world, monkeypatch):
    export = export_request(actor=world["organiser"], challenge=world["challenge"], kind=ExportKind.SUBMISSIONS,
                            phase=world["phase"])

    def broken(phase, out):
        raise OSError("disk full")

    monkeypatch.setattr("arena.exports.builders.submissions_zip", broken)
    assert export_build(export_id=export.pk) == ExportStatus.FAILED
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and "could not be built" in export.error and not export.file


def test_requests_are_checked(world):
    organiser, challenge, phase = world["organiser"], world["challenge"], world["phase"]
    with pytest.raises(DomainError) as error:
        export_request(actor=organiser, challenge=challenge, kind=ExportKind.SUBMISSIONS)
    assert error.value.details == {"field": "phase"}
    other_phase = PhaseFactory()
    with pytest.raises(NotFound):
        export_request(actor=organiser, challenge=challenge, kind=ExportKind.RESULTS, phase=other_phase)
    with pytest.raises(DomainError):
        export_request(actor=organiser, challenge=challenge, kind=ExportKind.RESULTS, phase=phase, split="frozen")
    with pytest.raises(PermissionDenied):
        export_request(actor=world["participant"], challenge=challenge, kind=ExportKind.ROSTER)
    with pytest.raises(PermissionDenied):
        export_request(actor=world["organiser_b"], challenge=challenge, kind=ExportKind.ROSTER)
    assert not Export.objects.exists()
    assert not AuditEntry.objects.filter(action="export.request").exists()


# --- the API ----------------------------------------------------------------------------------------------------

def test_api_organiser_requests_polls_and_downloads(client, world):
    client.force_login(world["organiser"])
    url = reverse("api:challenge-exports", args=["mer"])
    response = client.post(url, {"kind": "results", "phase": world["phase"].pk, "split": "private"},
                           content_type="application/json")
    assert response.status_code == 202
    body = response.json()
    export = Export.objects.get()
    assert body["id"] == export.pk and body["status"] == "queued" and body["download_url"] is None
    assert (body["challenge"], body["phase"], body["kind"], body["split"]) == ("mer", world["phase"].pk,
                                                                               "results", "private")
    detail = reverse("api:export-detail", args=[export.pk])
    assert client.get(detail).json()["download_url"] is None

    export_build(export_id=export.pk)
    export.refresh_from_db()
    body = client.get(detail).json()
    assert body["status"] == "ready" and body["size"] == export.size and body["sha256"] == export.sha256
    download = client.get(body["download_url"].removeprefix("http://testserver"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == _stored(export)

    token = body["download_url"].rstrip("/").rsplit("/", 1)[-1]
    forged = body["download_url"].replace(token, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    assert client.get(forged.removeprefix("http://testserver")).status_code == 404


def test_the_download_link_expires(client, world, settings):
    settings.ARENA_DOWNLOAD_URL_SECONDS = 1
    export = _built(world, ExportKind.ROSTER)
    client.force_login(world["organiser"])
    link = client.get(reverse("api:export-detail", args=[export.pk])).json()["download_url"]
    time.sleep(1.1)
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 403 and b"expired" in response.content


def test_api_validation_errors(client, world):
    client.force_login(world["organiser"])
    url = reverse("api:challenge-exports", args=["mer"])
    assert client.post(url, {"kind": "everything"}, content_type="application/json").status_code == 400
    response = client.post(url, {"kind": "submissions"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["details"] == {"field": "phase"}
    other_phase = PhaseFactory()
    response = client.post(url, {"kind": "submissions", "phase": other_phase.pk}, content_type="application/json")
    assert response.status_code == 404
    assert not Export.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "participant", "organiser_b"])
def test_others_get_the_404_of_an_unknown_challenge_or_export(client, world, who):
    export = _built(world, ExportKind.ROSTER)
    exports, audits = Export.objects.count(), AuditEntry.objects.count()
    if who != "anonymous":
        client.force_login(world[who])
    unknown = client.post(reverse("api:challenge-exports", args=["no-such"]), {"kind": "roster"},
                          content_type="application/json")
    response = client.post(reverse("api:challenge-exports", args=["mer"]), {"kind": "roster"},
                           content_type="application/json")
    assert response.status_code == unknown.status_code == 404
    assert response.json()["code"] == unknown.json()["code"] == "not_found"
    assert response.json()["message"] == unknown.json()["message"].replace("no-such", "mer")
    assert (Export.objects.count(), AuditEntry.objects.count()) == (exports, audits)

    missing = client.get(reverse("api:export-detail", args=[export.pk + 1000]))
    existing = client.get(reverse("api:export-detail", args=[export.pk]))
    assert existing.status_code == missing.status_code == 404
    assert existing.json()["message"] == missing.json()["message"].replace(str(export.pk + 1000), str(export.pk))


# --- the admin --------------------------------------------------------------------------------------------------

def test_admin_actions_queue_exports_and_the_list_is_scoped(client, world):
    client.force_login(world["organiser"])
    phase, challenge = world["phase"], world["challenge"]
    client.post(reverse("admin:challenges_phase_changelist"),
                {"action": "export_submissions", "_selected_action": [phase.pk]})
    client.post(reverse("admin:challenges_phase_changelist"),
                {"action": "export_results", "_selected_action": [phase.pk]})
    client.post(reverse("admin:challenges_challenge_changelist"),
                {"action": "export_roster", "_selected_action": [challenge.pk]})
    assert sorted(Export.objects.values_list("kind", "split", "phase_id")) == [
        ("results", "private", phase.pk), ("results", "public", phase.pk), ("roster", "", None),
        ("submissions", "", phase.pk)]
    roster = Export.objects.get(kind="roster")
    export_build(export_id=roster.pk)

    page = client.get(reverse("admin:exports_export_changelist"))
    assert page.status_code == 200 and len(page.context["cl"].queryset) == 4
    assert b"download</a>" in page.content

    client.force_login(world["organiser_b"])
    page = client.get(reverse("admin:exports_export_changelist"))
    assert page.status_code == 200 and list(page.context["cl"].queryset) == []
    assert client.get(reverse("admin:exports_export_change", args=[roster.pk])).status_code in (302, 403, 404)
    client.post(reverse("admin:challenges_challenge_changelist"),
                {"action": "export_roster", "_selected_action": [challenge.pk]})
    assert Export.objects.count() == 4


def test_the_export_file_is_named_after_what_it_holds(world):
    export = _built(world, ExportKind.RESULTS, phase=world["phase"], split="public")
    assert export.file.name.startswith("exports/") and export.file.name.endswith("/mer-semi-test-results-public.csv")
    assert export.finished_at is not None and export.finished_at - export.created_at < timedelta(minutes=1)


@pytest.mark.s3
def test_on_s3_the_zip_is_built_from_the_bucket_and_offered_by_a_presigned_link(client, s3_storage, settings):
    import requests

    settings.ARENA_DOWNLOAD_URL_SECONDS = 120
    organiser = UserFactory(username="org")
    phase = PhaseFactory(track__challenge__slug="mer", track__challenge__organisers=[organiser])
    team = TeamFactory(challenge=phase.track.challenge, name="Lab", members=[UserFactory()])
    submission = SubmissionFactory(phase=phase, team=team)
    export = export_request(actor=organiser, challenge=phase.track.challenge, kind=ExportKind.SUBMISSIONS,
                            phase=phase)
    assert export_build(export_id=export.pk) == ExportStatus.READY

    client.force_login(organiser)
    body = client.get(reverse("api:export-detail", args=[export.pk])).json()
    assert body["download_url"].startswith(f"{s3_storage.endpoint_url}/{s3_storage.name}/exports/")
    fetched = requests.get(body["download_url"], timeout=30)
    assert fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == body["sha256"]
    with default_storage.open(submission.file.name, "rb") as handle:
        expected = handle.read()
    assert zipfile.ZipFile(io.BytesIO(fetched.content)).read(f"{submission.pk}/file/predictions.csv") == expected
    export.refresh_from_db()
    assert requests.get(s3_storage.unsigned_url(export.file.name), timeout=10).status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.broker
@pytest.mark.postgres
def test_a_real_worker_builds_the_export_sent_after_commit(tmp_path):
    from tests.platform.worker import celery_worker, wait_for

    organiser = UserFactory(username="org")
    challenge = ChallengeFactory(slug="mer", organisers=[organiser])
    TeamFactory(challenge=challenge, name="Lab", members=[UserFactory(username="lab-member")])
    log = tmp_path / "worker.log"
    with celery_worker("filesystem://", queues="default", log_path=log):
        export = export_request(actor=organiser, challenge=challenge, kind=ExportKind.ROSTER)
        wait_for(lambda: Export.objects.get(pk=export.pk).status == ExportStatus.READY, timeout=60,
                 what="the worker to build the export", log_path=log)
    export.refresh_from_db()
    rows = _csv_rows(_stored(export))
    assert [row[3:5] for row in rows[1:]] == [["member", "lab-member"]]
