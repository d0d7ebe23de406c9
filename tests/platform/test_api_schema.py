"""The OpenAPI schema: valid without a warning, documents every operation, and holds under a property-based run.

The schemathesis run sends generated requests (valid and invalid ones) to every operation of the
schema on a live server, as an approved participant, as the organiser (both with tokens) and
anonymously, on random ids and on the ids of real objects: no answer may be a 5xx, and every 4xx
must be the API's error shape.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from arena.datasets.models import Dataset, DatasetFile
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import SubmissionScore, SubmissionStatus
from arena.tokens.services import api_token_create
from tests.conftest import require
from tests.platform.factories import ChallengeFactory, PhaseFactory, SubmissionFactory, UserFactory, ready_team

#: Generated cases per operation, identity, generation mode and id choice; the whole run takes about a minute.
EXAMPLES = 5


@pytest.fixture
def schema():
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def test_the_schema_is_valid_without_warnings(tmp_path):
    out = tmp_path / "schema.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))
    schema = json.loads(out.read_text())
    assert schema["info"]["title"] == "AffectArena API" and schema["info"]["version"] == "1.0.0"
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "A personal API token from /accounts/tokens/, sent as `Token arena_…` "
                       "(`Bearer arena_…` works too).",
    }


def test_every_operation_is_documented_with_a_summary_and_the_token_scheme(schema):
    operations = {(path, method): op for path, item in schema["paths"].items() for method, op in item.items()}
    for (path, method), op in operations.items():
        assert op.get("summary"), f"{method.upper()} {path} has no summary"
        assert {"apiToken": []} in op.get("security", []), f"{method.upper()} {path} does not name tokens"
    names = {(path, method) for path, method in operations}
    assert {("/api/v1/challenges", "get"), ("/api/v1/challenges/{slug}", "get"), ("/api/v1/me", "get"),
            ("/api/v1/challenges/{slug}/team", "get"), ("/api/v1/phases/{phase_id}", "get"),
            ("/api/v1/phases/{phase_id}/submissions", "post"), ("/api/v1/submissions/{submission_id}", "get"),
            ("/api/v1/submissions/{submission_id}/cancel", "post"),
            ("/api/v1/submissions/{submission_id}/select", "post"),
            ("/api/v1/phases/{phase_id}/leaderboard", "get"), ("/api/v1/phases/{phase_id}/leaderboard.csv", "get"),
            ("/api/v1/dataset-files/{file_id}/download-url", "post")} <= names
    upload = operations[("/api/v1/phases/{phase_id}/submissions", "post")]
    file_field = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][file_field]["properties"]["file"]["format"] == "binary"
    assert [p["name"] for p in upload["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]


@pytest.mark.django_db
def test_the_docs_page_and_the_schema_are_served(client):
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    served = client.get("/api/v1/schema", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert served.status_code == 200
    assert "/api/v1/me" in served.json()["paths"]


def _world() -> dict:
    organiser, member = UserFactory(username="organiser"), UserFactory(username="member")
    phase = PhaseFactory(track__challenge__slug="mer", track__challenge__organisers=[organiser])
    challenge = phase.track.challenge
    team = ready_team(challenge=challenge, members=[member], name="Team")
    submission = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
    SubmissionScore.objects.create(submission=submission, split="public", score=0.5, metrics={"waf": 0.5})
    SubmissionScore.objects.create(submission=submission, split="private", score=0.4, metrics={"waf": 0.4})
    leaderboard_refresh(phase_id=phase.pk)
    dataset = Dataset.objects.create(challenge=challenge, slug="train", title="Train", description="")
    data = b"name,label\nv1,0\n"
    dataset_file = DatasetFile.objects.create(dataset=dataset, name="train.csv", kind="train", size=len(data),
                                              file=ContentFile(data, name="train.csv"),
                                              sha256=hashlib.sha256(data).hexdigest())
    ChallengeFactory(slug="draft", is_published=False)
    return {
        "identities": {
            "member": {"Authorization": f"Token {api_token_create(user=member, name='fuzz').raw}"},
            "organiser": {"Authorization": f"Token {api_token_create(user=organiser, name='fuzz').raw}"},
            "anonymous": {},
        },
        "known": {"phase_id": phase.pk, "slug": challenge.slug, "submission_id": submission.pk,
                  "file_id": dataset_file.pk},
    }


def _shape_problem(response) -> str | None:
    """Why a 4xx answer is not the API's error shape (None when it is)."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]!r}"
    if not isinstance(body, dict) or set(body) != {"code", "message", "details"}:
        return f"not the error shape: {body!r}"[:300]
    if not (isinstance(body["code"], str) and isinstance(body["message"], str) and body["message"]
            and isinstance(body["details"], dict)):
        return f"wrong types: {body!r}"[:300]
    return None


@pytest.mark.django_db(transaction=True)
def test_property_based_run_finds_no_server_error(live_server, settings):
    require(importlib.util.find_spec("schemathesis") is not None,
            "needs schemathesis (dev extra): pip install -e '.[dev]'")
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis.errors import Unsatisfiable

    # Throttling is etiquette; the run sends far more requests than a script should.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "submissions": None}}
    world = _world()
    api = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema")
    session = requests.Session()
    failures: list[str] = []
    calls = {"count": 0}

    def check(case, headers) -> None:
        response = case.call(base_url=live_server.url, session=session, headers=headers, timeout=30)
        calls["count"] += 1
        where = f"{case.method} {case.formatted_path} query={case.query} ({response.status_code})"
        if response.status_code >= 500:
            failures.append(f"{where}: server error {response.text[:300]!r}")
        elif response.status_code >= 400:
            problem = _shape_problem(response)
            if problem:
                failures.append(f"{where}: {problem}")

    def explore(strategy, headers) -> None:
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            check(case, headers)

        try:
            run()
        except Unsatisfiable:
            pass  # nothing of this operation can be made invalid (e.g. a GET without parameters)

    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 19
    try:
        for operation in operations:
            names = {parameter.name for parameter in operation.path_parameters}
            known = {name: value for name, value in world["known"].items() if name in names}
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                strategies = [operation.as_strategy(generation_mode=mode)]
                if known:
                    strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=known))
                for headers in world["identities"].values():
                    for strategy in strategies:
                        explore(strategy, headers)
    finally:
        # Ends the kept-alive connection, so the server's request thread closes its database connection.
        session.close()
    assert not failures, f"{len(failures)} of {calls['count']} requests failed:\n" + "\n".join(failures[:20])
    assert calls["count"] > 500
