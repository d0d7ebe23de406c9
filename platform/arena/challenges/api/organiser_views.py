"""The organiser API: what the admin lets a challenge's organisers do, for scripts.

Every endpoint answers 404, with the same body as an unknown challenge or phase, to anyone who does not
organise the challenge: nobody learns from it which challenges or phases exist. Each action calls the
service the admin calls, so the rules and the audit trail are the same.
"""

from __future__ import annotations

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.challenges.models import Challenge, Phase, SubmissionKind
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenge_current_licence
from arena.challenges.services import phase_hide_results, phase_reveal_results, phase_set_robustness_protocol
from arena.core.errors import NotFound
from arena.core.uploads import limit_uploads
from arena.participation.models import LicenceAcceptance, Participation, ParticipationStatus
from arena.participation.services import participation_approve, participation_deny, participation_revoke
from arena.submissions.api.serializers import SubmissionOut
from arena.submissions.models import COUNTED_STATUSES, Submission
from arena.submissions.services.actions import submission_rerun
from arena.submissions.services.baselines import baseline_create
from arena.submissions.services.uploads import prediction_upload_limit
from arena.teams.models import Team


def organised_challenge(user, slug: str) -> Challenge:
    """The challenge ``slug`` when ``user`` organises it; otherwise the 404 of an unknown challenge."""
    challenge = Challenge.objects.filter(slug=slug).first()
    if challenge is None or not is_organiser(user, challenge):
        raise NotFound(f"No challenge '{slug}'.", code="not_found")
    return challenge


def organised_phase(user, phase_id: int) -> Phase:
    phase = Phase.objects.select_related("track__challenge").filter(pk=phase_id).first()
    if phase is None or not is_organiser(user, phase.track.challenge):
        raise NotFound("No such phase.", code="not_found")
    return phase


class TeamMemberOut(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()
    role = serializers.CharField()


class TeamStandingOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    members = TeamMemberOut(many=True)
    participation = serializers.CharField(help_text="pending, approved, denied, revoked; or none (never asked).")
    decision_reason = serializers.CharField()
    licence_accepted = serializers.BooleanField(help_text="Accepted the challenge's current licence.")
    agreement_uploaded = serializers.BooleanField(help_text="Uploaded the signed agreement for it.")
    submissions = serializers.IntegerField(help_text="Submissions that count (not failed or cancelled).")


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "deny", "revoke"])
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="Required to deny or revoke; e-mailed to the team.")


class ChangedOut(serializers.Serializer):
    changed = serializers.BooleanField(help_text="False when it already was so.")


class RevealIn(serializers.Serializer):
    revealed = serializers.BooleanField(help_text="true: reveal the results; false: hide them again.")


class RerunOut(serializers.Serializer):
    queued = serializers.IntegerField()


class ChallengeTeamsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="organiser_teams", tags=["organisers"], responses=TeamStandingOut(many=True),
                   summary="Organisers: the challenge's teams and where each stands")
    def get(self, request, slug: str):
        challenge = organised_challenge(request.user, slug)
        licence = challenge_current_licence(challenge)
        accepted = dict(LicenceAcceptance.objects.filter(licence=licence).values_list(
            "team_id", "agreement_uploaded_at")) if licence else {}
        teams = Team.objects.filter(challenge=challenge).select_related("participation").prefetch_related(
            "memberships__user").annotate(
            counted=Count("submissions", filter=Q(submissions__status__in=COUNTED_STATUSES))).order_by("name")
        rows = []
        for team in teams:
            participation = getattr(team, "participation", None)
            rows.append({
                "id": team.pk, "name": team.name, "created_at": team.created_at,
                "members": [{"username": m.user.username, "email": m.user.email, "role": m.role}
                            for m in team.memberships.all()],
                "participation": participation.status if participation else "none",
                "decision_reason": participation.decision_reason if participation else "",
                "licence_accepted": team.pk in accepted, "agreement_uploaded": bool(accepted.get(team.pk)),
                "submissions": team.counted,
            })
        return Response(TeamStandingOut(rows, many=True).data)


class TeamDecisionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="organiser_team_decision", tags=["organisers"], request=DecisionIn,
                   responses=ChangedOut, summary="Organisers: approve, deny or revoke a team")
    def post(self, request, slug: str, team_id: int):
        challenge = organised_challenge(request.user, slug)
        participation = Participation.objects.select_related("team", "challenge").filter(
            challenge=challenge, team_id=team_id).first()
        if participation is None:
            if not Team.objects.filter(challenge=challenge, pk=team_id).exists():
                raise NotFound("No such team in this challenge.", code="not_found")
            participation = Participation.objects.create(team_id=team_id, challenge=challenge,
                                                         status=ParticipationStatus.PENDING)
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        decision, reason = data.validated_data["decision"], data.validated_data["reason"]
        if decision == "approve":
            changed = participation_approve(actor=request.user, participation=participation)
        elif decision == "deny":
            changed = participation_deny(actor=request.user, participation=participation, reason=reason)
        else:
            changed = participation_revoke(actor=request.user, participation=participation, reason=reason)
        return Response({"changed": changed})


class PhaseRevealView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="organiser_phase_reveal", tags=["organisers"], request=RevealIn,
                   responses=ChangedOut, summary="Organisers: reveal or hide a phase's results")
    def post(self, request, phase_id: int):
        phase = organised_phase(request.user, phase_id)
        data = RevealIn(data=request.data)
        data.is_valid(raise_exception=True)
        act = phase_reveal_results if data.validated_data["revealed"] else phase_hide_results
        return Response({"changed": act(actor=request.user, phase=phase)})


class PhaseRerunView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="organiser_phase_rerun", tags=["organisers"], request=None, responses=RerunOut,
                   summary="Organisers: score every prediction file of a phase again")
    def post(self, request, phase_id: int):
        phase = organised_phase(request.user, phase_id)
        queued = submission_rerun(actor=request.user, submissions=Submission.objects.filter(
            phase=phase, kind=SubmissionKind.FILE, disqualified_at__isnull=True).select_related(
            "phase__track__challenge"))
        return Response({"queued": queued})


class BaselineIn(serializers.Serializer):
    file = serializers.FileField(help_text="The baseline's prediction file, in the track's format.")
    method_name = serializers.CharField(max_length=100, help_text="Shown on the board, marked as a baseline.")
    method_description = serializers.CharField(required=False, allow_blank=True, default="")


class PhaseBaselinesView(APIView):
    """The body is read within the track's upload limit, and only once the caller organises the phase."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            django_request = request._request
            limit_uploads(django_request, lambda: {"file": prediction_upload_limit(
                organised_phase(django_request.user, kwargs["phase_id"]).track)})
        super().initial(request, *args, **kwargs)

    @extend_schema(operation_id="organiser_phase_baseline", tags=["organisers"],
                   request={"multipart/form-data": BaselineIn}, responses={201: SubmissionOut},
                   summary="Organisers: post a baseline prediction file (scored, shown marked and unranked)")
    def post(self, request, phase_id: int):
        phase = organised_phase(request.user, phase_id)
        data = BaselineIn(data=request.data)
        data.is_valid(raise_exception=True)
        submission = baseline_create(actor=request.user, phase=phase, method_name=data.validated_data["method_name"],
                                     file=data.validated_data["file"],
                                     description=data.validated_data["method_description"])
        return Response(SubmissionOut(submission, context={"request": request}).data, status=201)


class PhaseSetupOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    robustness_protocol = serializers.JSONField(help_text="{} when the phase has no robustness protocol.")
    container_inputs = serializers.BooleanField(help_text="Whether the phase has container inputs.")
    container_inputs_sha256 = serializers.CharField(help_text="SHA-256 of the stored container inputs; empty: none.")
    condition_map = serializers.BooleanField(help_text="Whether the phase has a condition map.")


class PhaseSetupIn(serializers.Serializer):
    robustness_protocol = serializers.JSONField(
        allow_null=True, help_text="The protocol (conditions, seed, summary, on_failure); {} or null removes it. "
        "Checked as in the admin: a mistake answers 400 naming it.")


def _phase_setup(phase: Phase) -> dict:
    return {"id": phase.pk, "slug": phase.slug, "title": phase.title,
            "robustness_protocol": phase.robustness_protocol or {}, "container_inputs": bool(phase.container_inputs),
            "container_inputs_sha256": phase.container_inputs_sha256, "condition_map": bool(phase.condition_map)}


class PhaseSetupView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="organiser_phase_setup", tags=["organisers"], responses=PhaseSetupOut,
                   summary="Organisers: a phase's robustness protocol and container inputs")
    def get(self, request, phase_id: int):
        return Response(PhaseSetupOut(_phase_setup(organised_phase(request.user, phase_id))).data)

    @extend_schema(operation_id="organiser_phase_setup_update", tags=["organisers"], request=PhaseSetupIn,
                   responses=PhaseSetupOut, summary="Organisers: set or remove a phase's robustness protocol")
    def patch(self, request, phase_id: int):
        phase = organised_phase(request.user, phase_id)
        data = PhaseSetupIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "robustness_protocol" in data.validated_data:
            phase_set_robustness_protocol(actor=request.user, phase=phase,
                                          protocol=data.validated_data["robustness_protocol"])
        return Response(PhaseSetupOut(_phase_setup(phase)).data)
