"""Fact sheets: questions a phase asks with every submission, answered through the web form, the API and
the CLI alike, refused before any file is read, shown to organisers and (where asked) on the board."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from arena.factsheets.models import Answer, Question, QuestionKind
from arena.leaderboards.models import LeaderboardEntry
from arena.submissions.models import Submission
from arena.submissions.services.scoring import submission_score
from tests.platform.factories import PhaseFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db

PREDICTION = b"name,discrete\ns1,happy\ns2,happy\ns3,angry\ns4,neutral\ns5,sad\n"


@pytest.fixture
def phase():
    phase = PhaseFactory(track__max_per_day=None, track__max_total=None, track__max_in_flight=None)
    Question.objects.create(phase=phase, key="external_data", text="Uses external data?", kind=QuestionKind.YES_NO,
                            order=1, on_leaderboard=True)
    Question.objects.create(phase=phase, key="paper", text="Paper URL", kind=QuestionKind.URL, required=False,
                            order=2)
    Question.objects.create(phase=phase, key="backbone", text="Backbone family", kind=QuestionKind.CHOICE,
                            choices="CNN\nTransformer\nOther", order=3)
    return phase


@pytest.fixture
def member(client, phase):
    user = UserFactory()
    ready_team(challenge=phase.track.challenge, members=[user], name="Owls")
    client.force_login(user)
    return user


def _api(client, phase, answers, *, as_json_text=True):
    data = {"file": SimpleUploadedFile("p.csv", PREDICTION), "method_name": "m"}
    if answers is not None:
        data["answers"] = json.dumps(answers) if as_json_text else answers
    response = client.post(f"/api/v1/phases/{phase.pk}/submissions", data)
    return response.status_code, response.json()


@pytest.mark.parametrize(("answers", "message"), [
    (None, "Answer the fact-sheet question 'external_data' (Uses external data?); it is required."),
    ({"external_data": "maybe", "backbone": "CNN"}, "The answer to 'external_data' must be yes or no, not 'maybe'."),
    ({"external_data": "no", "backbone": "RNN"}, "The answer to 'backbone' must be one of: CNN, Transformer, Other."),
    ({"external_data": "no", "backbone": "CNN", "paper": "ftp://x"},
     "The answer to 'paper' must be a web address starting with https:// or http://."),
    ({"external_data": "no", "backbone": "CNN", "gpu": "yes"},
     "Unknown fact-sheet question 'gpu'; this phase asks: external_data, paper, backbone."),
])
def test_bad_answers_are_refused_by_name_and_change_nothing(client, phase, member, answers, message):
    status, body = _api(client, phase, answers)
    assert (status, body["code"], body["message"], body["details"]["field"]) == (
        400, "invalid_answers", message, "answers")
    assert not Submission.objects.exists() and not Answer.objects.exists()


def test_not_json_is_refused_with_an_example(client, phase, member):
    response = client.post(f"/api/v1/phases/{phase.pk}/submissions", {
        "file": SimpleUploadedFile("p.csv", PREDICTION), "method_name": "m", "answers": "external_data=no"})
    assert response.status_code == 400, response.json()
    assert response.json()["message"] == (
        'Invalid input — answers: Send answers as a JSON object, e.g. {"external_data": "no"}.')
    assert not Submission.objects.exists()


def test_answers_are_stored_normalised_shown_to_the_team_and_on_the_board(client, phase, member):
    status, body = _api(client, phase, {"external_data": "Yes", "backbone": "Transformer", "paper": ""})
    assert status == 201
    assert body["answers"] == {"external_data": "yes", "backbone": "Transformer"}
    submission = Submission.objects.get()
    assert submission_score(submission_id=submission.pk, token=submission.claim_token) == "scored"
    entry = LeaderboardEntry.objects.get(phase=phase, split="public")
    assert entry.answers == {"external_data": "yes"}  # only the question shown on the board
    board = client.get(f"/api/v1/phases/{phase.pk}/leaderboard").json()
    assert board["entries"][0]["answers"] == {"external_data": "yes"}
    csv = client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv").content.decode().splitlines()
    assert csv[0].endswith(",submission_id,external_data") and csv[1].endswith(f",{submission.pk},yes")
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "<dt>Backbone family</dt><dd>Transformer</dd>" in page
    questions = client.get(f"/api/v1/phases/{phase.pk}").json()["fact_sheet"]
    assert questions[2] == {"key": "backbone", "text": "Backbone family", "help": "", "kind": "choice",
                            "choices": ["CNN", "Transformer", "Other"], "required": True}


def test_the_web_form_asks_the_questions_and_names_the_field_at_fault(client, phase, member):
    url = f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/"
    page = client.get(url).content.decode()
    assert 'name="answer_external_data"' in page and 'name="answer_backbone"' in page
    refused = client.post(url, {"kind": "file", "file": SimpleUploadedFile("p.csv", PREDICTION),
                                "method_name": "m", "answer_external_data": "yes"},
                          headers={"accept": "application/json"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "answer_backbone": ["Answer the fact-sheet question 'backbone' (Backbone family); it is required."]}
    assert not Submission.objects.exists()
    accepted = client.post(url, {"kind": "file", "file": SimpleUploadedFile("p.csv", PREDICTION),
                                 "method_name": "m", "answer_external_data": "no", "answer_backbone": "CNN"})
    assert accepted.status_code == 302
    assert dict(Answer.objects.values_list("question__key", "value")) == {"external_data": "no", "backbone": "CNN"}


def test_phases_without_questions_take_submissions_as_before(client, member):
    other = PhaseFactory(track__max_per_day=None)
    ready_team(challenge=other.track.challenge, members=[member], name="Owls 2")
    status, body = _api(client, other, None)
    assert (status, body["answers"]) == (201, {})
    assert _api(client, other, {"x": "1"})[1]["message"] == "Unknown fact-sheet question 'x'; this phase asks: nothing."
