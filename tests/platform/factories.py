"""factory_boy factories for the platform's models."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from arena.accounts.models import User
from arena.challenges.models import Challenge, Licence, Phase, Track
from arena.participation.models import Participation, ParticipationStatus
from arena.submissions.models import Submission
from arena.teams.models import Team, TeamMembership, TeamRole

DISCRETE_PUBLIC = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\n"
DISCRETE_PRIVATE = b"name,discrete\ns4,neutral\ns5,worried\n"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ChallengeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Challenge
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"challenge-{n}")
    title = factory.Sequence(lambda n: f"Challenge {n}")
    summary = "A test challenge"
    overview = "Overview text"
    rules = "Rules text"
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    is_published = True

    @factory.post_generation
    def organisers(obj, create, extracted, **kwargs):
        if create and extracted:
            for user in extracted:
                obj.organisers.add(user)
                if not user.is_staff:
                    user.is_staff = True
                    user.save(update_fields=["is_staff"])


class LicenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Licence

    challenge = factory.SubFactory(ChallengeFactory)
    version = 1
    title = "Research licence"
    text = "Use for research only."


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    challenge = factory.SubFactory(ChallengeFactory)
    slug = factory.Sequence(lambda n: f"track-{n}")
    title = factory.Sequence(lambda n: f"Track {n}")
    scorer_key = "mer.discrete"
    scorer_options = factory.LazyFunction(dict)


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    track = factory.SubFactory(TrackFactory)
    slug = factory.Sequence(lambda n: f"phase-{n}")
    title = "Validation"
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=10))
    reference_public = factory.LazyFunction(lambda: ContentFile(DISCRETE_PUBLIC, name="public.csv"))
    reference_private = factory.LazyFunction(lambda: ContentFile(DISCRETE_PRIVATE, name="private.csv"))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    challenge = factory.SubFactory(ChallengeFactory)
    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if not create:
            return
        for index, user in enumerate(extracted or []):
            TeamMembership.objects.create(
                team=obj, user=user, challenge=obj.challenge,
                role=TeamRole.OWNER if index == 0 else TeamRole.MEMBER,
            )

    @factory.post_generation
    def participation(obj, create, extracted, **kwargs):
        if create:
            Participation.objects.create(
                team=obj, challenge=obj.challenge, status=extracted or ParticipationStatus.APPROVED
            )


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    phase = factory.SubFactory(PhaseFactory)
    team = factory.SubFactory(TeamFactory, challenge=factory.SelfAttribute("..phase.track.challenge"))
    method_name = factory.Sequence(lambda n: f"Method {n}")
    file = factory.LazyFunction(
        lambda: ContentFile(b"name,discrete\ns1,happy\ns2,happy\ns3,angry\ns4,neutral\ns5,sad\n",
                            name="predictions.csv")
    )


def ready_team(*, challenge, members, name: str = "Ready team") -> Team:
    """An approved team that accepted the challenge's current licence (created if missing)."""
    from arena.participation.models import LicenceAcceptance

    licence = challenge.licences.order_by("-version").first() or LicenceFactory(challenge=challenge)
    team = TeamFactory(challenge=challenge, name=name, members=members)
    LicenceAcceptance.objects.create(team=team, licence=licence, accepted_by=members[0], full_name="A Person",
                                     affiliation="Lab", accepted_on=timezone.now().date())
    return team
