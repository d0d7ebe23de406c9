"""The demo content: both challenges with all their tracks, scored entries, and idempotent loading."""

import pytest
from django.test import Client

from arena.accounts.models import User
from arena.challenges.models import Challenge, Phase, Track
from arena.datasets.models import DatasetFile
from arena.demo.services import demo_load
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
        assert phase.submissions.filter(is_baseline=True, team__isnull=True).count() == 1
        # the demo teams' better models beat the baseline on the public split
        best = max(SubmissionScore.objects.filter(submission__phase=phase, split="public")
                   .values_list("score", flat=True))
        baseline = SubmissionScore.objects.get(submission__phase=phase, submission__is_baseline=True,
                                               split="public").score
        assert best > baseline, phase


def test_loading_again_changes_nothing(demo):
    counts = {m.__name__: m.objects.count() for m in (User, Challenge, Track, Phase, Submission, DatasetFile)}
    refs = list(Phase.objects.order_by("pk").values_list("reference_public", flat=True))
    again = demo_load()
    assert again.created == []
    assert {m.__name__: m.objects.count() for m in (User, Challenge, Track, Phase, Submission, DatasetFile)} == counts
    assert list(Phase.objects.order_by("pk").values_list("reference_public", flat=True)) == refs


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
