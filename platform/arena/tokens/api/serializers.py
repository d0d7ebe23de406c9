from rest_framework import serializers


class NextStepOut(serializers.Serializer):
    """A state of ``arena.participation.standing`` with what to do next."""

    state = serializers.CharField(help_text="Stable: sign_in, no_team, revoked, denied, no_licence, accept_licence, "
                                  "upload_agreement, awaiting_approval, no_phase, phase_not_open, phase_closed, "
                                  "limit_reached, ready, dataset_licence.")
    text = serializers.CharField(help_text="What to do next, in a line.")
    url = serializers.CharField(help_text="The page (a path on this site) where to do it; may be empty.")
    detail = serializers.CharField(help_text="Why, in the rule's own words; may be empty.")
    can_submit = serializers.BooleanField()


class LimitOut(serializers.Serializer):
    limit = serializers.ChoiceField(choices=["total", "per_day", "in_flight"])
    allowed = serializers.IntegerField(allow_null=True, help_text="null: no limit.")
    used = serializers.IntegerField(help_text="Failed and cancelled submissions do not count.")
    left = serializers.IntegerField(allow_null=True, help_text="null: no limit.")
    resets_at = serializers.DateTimeField(allow_null=True, help_text="When the daily count starts again (UTC).")


class OpenPhaseOut(serializers.Serializer):
    id = serializers.IntegerField(source="phase.id", help_text="The id `arena submit --phase` takes.")
    title = serializers.CharField(source="phase.title")
    track = serializers.CharField(source="phase.track.slug")
    closes_at = serializers.DateTimeField(source="phase.closes_at")
    url = serializers.CharField()
    next_step = NextStepOut(source="step")
    limits = LimitOut(many=True, help_text="Empty while the team may not submit at all.")


class RecentSubmissionOut(serializers.Serializer):
    id = serializers.IntegerField()
    challenge = serializers.CharField(source="phase.track.challenge.slug")
    track = serializers.CharField(source="phase.track.slug")
    phase = serializers.IntegerField(source="phase_id")
    phase_title = serializers.CharField(source="phase.title")
    team = serializers.CharField(source="team.name")
    method_name = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class MembershipOut(serializers.Serializer):
    challenge = serializers.CharField(source="challenge.slug")
    team_id = serializers.IntegerField(source="team.id")
    team = serializers.CharField(source="team.name")
    role = serializers.CharField()
    participation_status = serializers.SerializerMethodField()
    next_step = NextStepOut(help_text="The team's one next step (see `state`).")
    open_phases = OpenPhaseOut(many=True, help_text="The challenge's open phases, each with the team's limits.")
    dataset_steps = NextStepOut(many=True, help_text="Datasets whose own licence still needs a step before "
                                "their files can be downloaded.")

    def get_participation_status(self, membership) -> str | None:
        participation = getattr(membership.team, "participation", None)
        return participation.status if participation else None


class AuthOut(serializers.Serializer):
    method = serializers.ChoiceField(choices=["token", "session"])
    token_name = serializers.CharField(allow_null=True)
    token_prefix = serializers.CharField(allow_null=True, help_text="The visible part: arena_<prefix>_…")
    token_expires_at = serializers.DateTimeField(allow_null=True)


class MeOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    affiliation = serializers.CharField()
    organises = serializers.ListField(child=serializers.SlugField(), help_text="Slugs of challenges you organise.")
    teams = MembershipOut(many=True)
    submissions = RecentSubmissionOut(many=True, help_text="Your newest 20 submissions across challenges.")
    auth = AuthOut(help_text="How this request was authenticated.")
