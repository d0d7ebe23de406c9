"""The demo content: both challenges with all their tracks, scored entries, and idempotent loading."""

import pytest
from django.test import Client
from django.utils import timezone

from arena.accounts.models import User
from arena.challenges.models import BoardVisibility, Challenge, EntryRule, Licence, Phase, Track
from arena.datasets.models import Dataset, DatasetFile
from arena.demo.services import demo_load
from arena.participation.models import LicenceAcceptance
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus

pytestmark = pytest.mark.django_db(transaction=False)

MER_TRACKS = {"mer-multi": "mer.multi", "mer-noise": "mer.multi", "mer-semi": "mer.discrete",
              "mer-ov": "mer.ov-wheel", "mer-prefer": "mer.prefer"}
ABAW_TRACKS = {"va": "abaw.va", "expr": "abaw.expr", "au": "abaw.au", "mtl": "abaw.mtl",
               "ce": "abaw.ce", "emi": "abaw.emi", "ah": "abaw.ah"}


@pytest.fixture
def demo():
    return demo_load()


def test_demo_has_both_challenges_with_all_tracks(demo):
    assert set(Challenge.objects.values_list("slug", flat=True)) == {"mer-style", "abaw-style"}
    for slug, tracks in (("mer-style", MER_TRACKS), ("abaw-style", ABAW_TRACKS)):
        got = dict(Track.objects.filter(challenge__slug=slug).values_list("slug", "scorer_key"))
        assert got == tracks
    assert not Phase.objects.filter(reference_public="").exists()
    assert Track.objects.get(slug="mer-ov").assets.filter(path="format.csv").exists()
    container_tracks = Track.objects.filter(accepts_containers=True)
    assert set(container_tracks.values_list("slug", flat=True)) == {"mer-noise", "va"}
    assert not Phase.objects.filter(track__in=container_tracks, container_inputs="").exists()
    assert DatasetFile.objects.filter(dataset__challenge__slug="mer-style", kind="unlabelled_pool").exists()
    assert all(f.size > 0 and len(f.sha256) == 64 for f in DatasetFile.objects.all())


def test_demo_entries_are_scored_and_baselines_marked(demo):
    entries = Submission.objects.all()
    assert entries.exists()
    assert set(entries.values_list("status", flat=True)) == {SubmissionStatus.SCORED}
    assert SubmissionScore.objects.count() == 2 * entries.count()
    open_phases = Phase.objects.filter(submissions__isnull=False).distinct()
    for phase in open_phases:
        # MER-style phases show a second, weaker baseline
        expected = ["Organiser baseline"] + (["Weak baseline: acoustic features only"]
                                             if phase.track.challenge.slug == "mer-style" else [])
        assert list(phase.submissions.filter(is_baseline=True, team__isnull=True).order_by("pk").values_list(
            "method_name", flat=True)) == expected
        # the demo teams' better models beat the organisers' baseline on the public split
        best = max(SubmissionScore.objects.filter(submission__phase=phase, split="public")
                   .values_list("score", flat=True))
        baseline = SubmissionScore.objects.get(submission__phase=phase, submission__method_name="Organiser baseline",
                                               split="public").score
        assert best > baseline, phase


MODELS = (User, Challenge, Track, Phase, Submission, DatasetFile, Dataset, Licence, LicenceAcceptance)
PHASE_FIELDS = ("pk", "reference_public", "candidates", "board_visibility", "entry_rule", "max_selected",
                "max_total", "reveal_at_close", "opens_at", "closes_at")


def test_loading_again_changes_nothing(demo):
    counts = {m.__name__: m.objects.count() for m in MODELS}
    phases = list(Phase.objects.order_by("pk").values_list(*PHASE_FIELDS))
    licences = list(Licence.objects.order_by("pk").values_list("pk", "dataset", "version", "title"))
    acceptances = list(LicenceAcceptance.objects.order_by("pk").values_list("pk", "licence", "signed_agreement"))
    again = demo_load()
    assert again.created == []
    assert {m.__name__: m.objects.count() for m in MODELS} == counts
    assert list(Phase.objects.order_by("pk").values_list(*PHASE_FIELDS)) == phases
    assert list(Licence.objects.order_by("pk").values_list("pk", "dataset", "version", "title")) == licences
    assert list(LicenceAcceptance.objects.order_by("pk").values_list("pk", "licence", "signed_agreement")) \
        == acceptances


def test_the_first_load_reports_the_dataset_licences_it_creates(demo):
    assert [c for c in demo.created if c.startswith("dataset licence ")] == [
        "dataset licence abaw-style/aff-wild-demo", "dataset licence abaw-style/mimicry-demo"]


def test_demo_pages_and_admin_work_for_the_demo_accounts(demo, settings):
    client = Client()
    assert client.login(username="alice", password=settings.ARENA_DEMO_PASSWORD)
    for path in ("/", "/c/mer-style/", "/c/abaw-style/", "/c/mer-style/t/mer-ov/", "/c/abaw-style/t/ah/",
                 "/c/mer-style/team/"):
        assert client.get(path).status_code == 200, path
    organiser = Client()
    assert organiser.login(username="mer-organiser", password=settings.ARENA_DEMO_PASSWORD)
    response = organiser.get("/admin/challenges/track/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == len(MER_TRACKS)


def test_mer_semi_hides_its_test_clips_in_a_published_pool(demo):
    import scorers

    phases = Phase.objects.filter(track__slug="mer-semi")
    assert phases.count() == 2 and not phases.filter(candidates="").exists()
    pool = DatasetFile.objects.get(dataset__challenge__slug="mer-style", kind="unlabelled_pool")
    scorer = scorers.get_scorer("mer.discrete")
    for phase in phases:
        listed = phase.candidates.open("rb").read()
        assert listed == pool.file.open("rb").read()  # the pool teams download is the published list
        assert len(listed.splitlines()) == 1 + 400
        references = [phase.reference_public.open("rb").read(), phase.reference_private.open("rb").read()]
        scorer.check_references(references, candidates=listed)  # the list covers the test clips
    assert not Phase.objects.exclude(track__slug="mer-semi").exclude(candidates="").exists()


def _rules(phase):
    return (phase.board_visibility, phase.entry_rule, phase.max_selected, phase.max_total, phase.reveal_at_close)


def test_mer_phases_rank_selected_entries_and_the_mer_semi_final_test_is_blind(demo):
    phases = Phase.objects.filter(track__challenge__slug="mer-style").select_related("track")
    assert phases.count() == 2 * len(MER_TRACKS)
    for phase in phases:
        blind = (phase.track.slug, phase.slug) == ("mer-semi", "test")
        expected = ("hidden", "selected", 2, None, True) if blind else ("live", "selected", 2, None, False)
        assert _rules(phase) == expected, (phase.track.slug, phase.slug)
        assert phase.frozen_at is None and phase.private_revealed_at is None
        phase.full_clean()
    semi_test = Phase.objects.get(track__slug="mer-semi", slug="test")
    assert semi_test.board_visibility == BoardVisibility.HIDDEN and semi_test.entry_rule == EntryRule.SELECTED
    assert semi_test.candidates and semi_test.reference_public and semi_test.reference_private
    assert not semi_test.is_revealed()


def test_abaw_test_phases_are_blind_and_count_the_best_hidden_entry_of_at_most_three(demo, settings):
    phases = Phase.objects.filter(track__challenge__slug="abaw-style").select_related("track")
    assert phases.count() == 2 * len(ABAW_TRACKS)
    for phase in phases:
        if phase.slug == "test":
            assert _rules(phase) == ("hidden", "best_hidden", 1, 3, True), phase.track.slug
            assert phase.limit("max_total") == 3 <= settings.ARENA_BEST_HIDDEN_MAX_TOTAL
            assert phase.opens_at <= timezone.now() < phase.closes_at  # open now: the demo shows it blind
            # every team stays within the total limit
            for team_id in phase.submissions.exclude(team=None).values_list("team", flat=True).distinct():
                assert phase.submissions.filter(team=team_id).count() <= 3
        else:
            assert _rules(phase) == ("live", "best_public", 1, None, False), phase.track.slug
            assert phase.limit("max_total") == 100
        assert not phase.is_revealed()
        phase.full_clean()
    assert Phase.objects.filter(track__challenge__slug="abaw-style", slug="test",
                                submissions__isnull=False).distinct().count() == len(ABAW_TRACKS)


def test_abaw_datasets_have_their_own_licences_and_the_demo_teams_accepted_one(demo):
    abaw = Challenge.objects.get(slug="abaw-style")
    own = Licence.objects.filter(challenge=abaw, dataset__isnull=False).order_by("dataset__order")
    assert [(lic.dataset.slug, lic.version, lic.title, lic.requires_signed_agreement, lic.requires_approval)
            for lic in own] == [
        ("aff-wild-demo", 1, "Aff-Wild-style demo EULA", True, False),
        ("mimicry-demo", 1, "Mimicry-style demo licence", False, False),
    ]
    assert all(lic.text.startswith("DEMO ONLY.") for lic in own)
    # the challenge licence is still the only one without a dataset
    assert list(Licence.objects.filter(challenge=abaw, dataset__isnull=True).values_list("version", "title")) == [
        (1, "ABAW-style demo end-user licence agreement")]
    assert not Licence.objects.filter(challenge__slug="mer-style", dataset__isnull=False).exists()
    accepted = LicenceAcceptance.objects.filter(licence__dataset__isnull=False).order_by("team__name")
    assert [(a.team.name, a.licence.dataset.slug, bool(a.signed_agreement)) for a in accepted] == [
        ("Affective Minds", "aff-wild-demo", True),
        ("Frame Wizards", "aff-wild-demo", False),
    ]


def test_the_hidden_abaw_test_board_is_refused_to_participants_and_shown_to_the_organiser(demo, settings):
    phase = Phase.objects.get(track__challenge__slug="abaw-style", track__slug="va", slug="test")
    url = f"/api/v1/phases/{phase.pk}/leaderboard"
    participant = Client()
    assert participant.login(username="alice", password=settings.ARENA_DEMO_PASSWORD)
    for client in (participant, Client()):
        for split in ("public", "private"):
            response = client.get(url, {"split": split})
            assert response.status_code == 403, response.content
            assert response.json()["code"] == "board_hidden"
    organiser = Client()
    assert organiser.login(username="abaw-organiser", password=settings.ARENA_DEMO_PASSWORD)
    for split in ("public", "private"):
        response = organiser.get(url, {"split": split})
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["board_visibility"], body["revealed"]) == ("hidden", False)
    # the validation phase's board stays live for participants
    validation = Phase.objects.get(track__challenge__slug="abaw-style", track__slug="va", slug="validation")
    assert participant.get(f"/api/v1/phases/{validation.pk}/leaderboard").status_code == 200


def test_mer_final_tests_ask_a_fact_sheet_and_show_one_answer_on_the_board(demo):
    from arena.factsheets.models import Question

    for phase in Phase.objects.filter(track__challenge__slug="mer-style"):
        questions = list(Question.objects.filter(phase=phase).values_list("key", "kind", "required", "on_leaderboard"))
        if phase.slug == "test":
            assert questions == [("external_data", "yes_no", True, True), ("closed_llm", "yes_no", True, False),
                                 ("modalities", "choice", True, False), ("paper_url", "url", False, False)]
        else:
            assert questions == []
    assert not Question.objects.filter(phase__track__challenge__slug="abaw-style").exists()
    before = Question.objects.count()
    demo_load()
    assert Question.objects.count() == before
