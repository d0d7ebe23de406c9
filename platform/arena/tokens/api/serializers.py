from rest_framework import serializers


class MembershipOut(serializers.Serializer):
    challenge = serializers.CharField(source="challenge.slug")
    team_id = serializers.IntegerField(source="team.id")
    team = serializers.CharField(source="team.name")
    role = serializers.CharField()
    participation_status = serializers.SerializerMethodField()

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
    auth = AuthOut(help_text="How this request was authenticated.")
