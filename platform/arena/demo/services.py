"""Loading the demo challenges of ``fixtures.demo`` into the database. Safe to run again.

A second run changes nothing that already exists: rows are found by their slugs and
stored files are kept, so the demo never loses what someone did with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from arena.accounts.models import User
from arena.accounts.permissions import host_challenges_permission
from arena.challenges.media import phase_container_inputs_sync
from arena.challenges.models import Announcement, Challenge, Licence, Phase, Track, TrackAsset
from arena.challenges.selectors import dataset_current_licence
from arena.challenges.services import track_validate_scorer_config
from arena.datasets.models import Dataset, DatasetFile
from arena.factsheets.models import Question
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.scoring import submission_score
from arena.teams.models import Team, TeamMembership, TeamRole
from fixtures.demo.specs import DEMO_CHALLENGES, ChallengeSpec, TrackSpec
from fixtures.demo.synthetic import TrackFiles, generate_track_files, perturbed_prediction

REPO_DIR = Path(settings.REPO_DIR)

#: (username, e-mail, role): role "admin" is a superuser; "organiser:<slug>" organises a challenge.
DEMO_USERS = (
    ("admin", "admin@demo.affectarena.test", "admin"),
    ("mer-organiser", "mer-organiser@demo.affectarena.test", "organiser:mer-style"),
    ("abaw-organiser", "abaw-organiser@demo.affectarena.test", "organiser:abaw-style"),
    ("alice", "alice@demo.affectarena.test", "participant"),
    ("bob", "bob@demo.affectarena.test", "participant"),
)
#: Demo accounts a site admin has granted the right to host challenges (they may create and clone them).
DEMO_HOSTS = ("mer-organiser",)
#: Demo teams: (challenge slug, team name, members, prediction quality of their entries,
#: whether the team uploaded signed agreements). In ABAW-style, which requires one, Frame
#: Wizards has not, so the demo shows both a team that may download and one that may not yet.
DEMO_TEAMS = (
    ("mer-style", "Affective Minds", ("alice",), 0.85, False),
    ("mer-style", "Valence Vanguard", ("bob",), 0.7, False),
    ("abaw-style", "Affective Minds", ("alice",), 0.8, True),
    ("abaw-style", "Frame Wizards", ("bob",), 0.65, False),
)
DEMO_AGREEMENT = b"%PDF-1.4\n% AffectArena demo: signed licence agreement\n%%EOF\n"
#: Datasets whose own licence every demo team accepts (signed where the licence needs it, by the
#: teams that signed the challenge licence). The other datasets with a licence of their own
#: (ABAW-style's mimicry-demo) stay unaccepted, so the demo shows a team missing a dataset licence.
DEMO_ACCEPTED_DATASET_LICENCES = ("aff-wild-demo",)


@dataclass
class DemoSummary:
    created: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.created.append(what)


def demo_load(*, now=None, with_submissions: bool = True) -> DemoSummary:
    """Create the demo users, challenges, tracks, phases, datasets and scored entries."""
    now = now or timezone.now()
    summary = DemoSummary()
    users = _load_users(summary)
    for spec in DEMO_CHALLENGES:
        with transaction.atomic():
            challenge = _load_challenge(spec, now, users, summary)
            track_files = {}
            for order, track_spec in enumerate(spec.tracks):
                files = generate_track_files(spec.slug, track_spec)
                track_files[track_spec.slug] = files
                _load_track(challenge, track_spec, order, files, now, summary)
            _load_datasets(challenge, spec, track_files, summary)
            teams = _load_teams(challenge, users, summary)
            _load_announcements(challenge, spec, now, users, summary)
        if with_submissions:
            for track_spec in spec.tracks:
                _load_entries(challenge, track_spec, track_files[track_spec.slug], teams, users, summary,
                              extra_baselines=spec.extra_baselines)
    return summary


def _load_users(summary: DemoSummary) -> dict[str, User]:
    users = {}
    for username, email, role in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username, email=email, password=settings.ARENA_DEMO_PASSWORD,
                is_staff=role != "participant", is_superuser=role == "admin",
                affiliation="AffectArena demo",
            )
            summary.add(f"user {username}")
        if username in DEMO_HOSTS:
            user.user_permissions.add(host_challenges_permission())
        users[username] = user
        summary.users.append(f"{username} ({role.split(':')[0]})")
    return users


def _load_challenge(spec: ChallengeSpec, now, users, summary) -> Challenge:
    track_days = [p.closes_days for t in spec.tracks for p in t.phases]
    start_days = [p.opens_days for t in spec.tracks for p in t.phases]
    challenge, created = Challenge.objects.get_or_create(
        slug=spec.slug,
        defaults=dict(
            title=spec.title, summary=spec.summary, overview=spec.overview, rules=spec.rules,
            starts_at=now + timedelta(days=min(start_days)), ends_at=now + timedelta(days=max(track_days) + 7),
            is_published=True, requires_approval=spec.requires_approval,
            requires_signed_agreement=spec.requires_signed_agreement, max_team_size=spec.max_team_size,
        ),
    )
    if created:
        summary.add(f"challenge {spec.slug}")
    for username, _email, role in DEMO_USERS:
        if role == f"organiser:{spec.slug}":
            challenge.organisers.add(users[username])
    Licence.objects.get_or_create(
        challenge=challenge, dataset=None, version=1, defaults={"title": spec.licence_title, "text": spec.licence_text}
    )
    return challenge


def _load_track(challenge: Challenge, spec: TrackSpec, order: int, files: TrackFiles, now, summary) -> Track:
    options = track_validate_scorer_config(
        scorer_key=spec.scorer_key, scorer_options=dict(spec.scorer_options),
        tie_break_metrics=list(spec.tie_break_metrics),
    )
    track, created = Track.objects.get_or_create(
        challenge=challenge, slug=spec.slug,
        defaults=dict(
            title=spec.title, summary=spec.summary, order=order, scorer_key=spec.scorer_key,
            scorer_options=options, tie_break_metrics=list(spec.tie_break_metrics),
            accepts_files=spec.accepts_files, accepts_containers=spec.accepts_containers,
            max_per_day=spec.max_per_day, max_total=spec.max_total, max_in_flight=spec.max_in_flight,
            max_upload_mb=spec.max_upload_mb, allow_compressed=spec.allow_compressed,
        ),
    )
    if created:
        summary.add(f"track {challenge.slug}/{spec.slug}")
    if spec.assets:
        for path in sorted((REPO_DIR / spec.assets).iterdir()):
            if path.is_file() and path.suffix in {".csv", ".xlsx"}:
                data = path.read_bytes()
                if not TrackAsset.objects.filter(track=track, path=path.name).exists():
                    TrackAsset.objects.create(
                        track=track, path=path.name, file=ContentFile(data, name=path.name),
                        size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    )
    for order_, phase_spec in enumerate(spec.phases):
        phase = Phase.objects.filter(track=track, slug=phase_spec.slug).first()
        created = phase is None
        if created:
            phase = Phase(
                track=track, slug=phase_spec.slug, title=phase_spec.title, kind=phase_spec.kind, order=order_,
                opens_at=now + timedelta(days=phase_spec.opens_days),
                closes_at=now + timedelta(days=phase_spec.closes_days),
                board_visibility=phase_spec.board_visibility, entry_rule=phase_spec.entry_rule,
                max_selected=phase_spec.max_selected, max_total=phase_spec.max_total,
                reveal_at_close=phase_spec.reveal_at_close,
                robustness_protocol=dict(phase_spec.robustness or {}),
            )
            # The board rules must fit together (e.g. best-on-hidden needs a hidden board and a small total).
            phase.full_clean()
            phase.save()
        if not phase.reference_public:
            phase.reference_public.save("reference-public.csv", ContentFile(files.reference_public), save=False)
            phase.reference_private.save("reference-private.csv", ContentFile(files.reference_private), save=False)
            phase.save(update_fields=["reference_public", "reference_private"])
        if spec.publishes_candidates and not phase.candidates:
            # The unlabelled pool participants download is the list the test clips hide in.
            phase.candidates.save("candidates.csv", ContentFile(files.dataset_files[spec.data.test_inputs]),
                                  save=False)
            phase.save(update_fields=["candidates"])
        if spec.accepts_containers and not phase.container_inputs:
            if files.container_inputs:
                # The track's hidden test media (clips and the list of names), unpacked at /input.
                name, inputs = "test-media.tar.gz", files.container_inputs
            else:
                # Models read the same test inputs participants download for file submissions.
                name = f"{spec.data.test_inputs.replace('_', '-')}.csv"
                inputs = files.dataset_files[spec.data.test_inputs]
            phase.container_inputs.save(name, ContentFile(inputs), save=False)
            phase.save(update_fields=["container_inputs"])
        if phase.container_inputs and not phase.container_inputs_sha256:
            phase_container_inputs_sync(phase=phase)
        if phase_spec.robustness and not phase.robustness_protocol:
            # A demo loaded before the phase had a protocol gets it, checked like any change.
            phase.robustness_protocol = dict(phase_spec.robustness)
            phase.full_clean()
            phase.save(update_fields=["robustness_protocol"])
        if created:
            phase.full_clean()  # again, now that the phase has its reference files
        for question_order, question in enumerate(phase_spec.fact_sheet):
            Question.objects.get_or_create(phase=phase, key=question.key, defaults=dict(
                text=question.text, kind=question.kind, required=question.required,
                choices="\n".join(question.choices), on_leaderboard=question.on_leaderboard, order=question_order))
    return track


def _load_datasets(challenge: Challenge, spec: ChallengeSpec, track_files: dict[str, TrackFiles], summary) -> None:
    for order, dataset_spec in enumerate(spec.datasets):
        dataset, _ = Dataset.objects.get_or_create(
            challenge=challenge, slug=dataset_spec.slug,
            defaults=dict(title=dataset_spec.title, description=dataset_spec.description, order=order),
        )
        if dataset_spec.licence is not None:
            licence = dataset_spec.licence
            _, created = Licence.objects.get_or_create(
                challenge=challenge, dataset=dataset, version=1,
                defaults=dict(title=licence.title, text=licence.text,
                              requires_signed_agreement=licence.requires_signed_agreement,
                              requires_approval=licence.requires_approval),
            )
            if created:
                summary.add(f"dataset licence {challenge.slug}/{dataset_spec.slug}")
        for file_spec in dataset_spec.files:
            if DatasetFile.objects.filter(dataset=dataset, name=file_spec.name).exists():
                continue
            data = track_files[file_spec.track_slug].dataset_files[file_spec.generator]
            DatasetFile.objects.create(
                dataset=dataset, name=file_spec.name, kind=file_spec.kind,
                file=ContentFile(data, name=file_spec.name), size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
            summary.add(f"dataset file {challenge.slug}/{file_spec.name}")


def _load_announcements(challenge: Challenge, spec: ChallengeSpec, now, users, summary) -> None:
    """The spec's announcements, found again by title on later runs. Stored directly: loading the demo
    sends no e-mail."""
    organiser = next((users[name] for name, _email, role in DEMO_USERS if role == f"organiser:{spec.slug}"), None)
    for item in spec.announcements:
        _, created = Announcement.objects.get_or_create(
            challenge=challenge, title=item.title,
            defaults={"body": item.body, "published_at": now - timedelta(days=item.days_ago), "created_by": organiser},
        )
        if created:
            summary.add(f"announcement {challenge.slug}/{item.title}")


def _load_teams(challenge: Challenge, users, summary) -> dict[str, tuple[Team, float]]:
    from arena.participation.models import Participation, ParticipationStatus

    teams = {}
    for slug, name, members, quality, signed in DEMO_TEAMS:
        if slug != challenge.slug:
            continue
        team, created = Team.objects.get_or_create(
            challenge=challenge, name=name, defaults={"created_by": users[members[0]]}
        )
        for index, username in enumerate(members):
            TeamMembership.objects.get_or_create(
                challenge=challenge, user=users[username],
                defaults={"team": team, "role": TeamRole.OWNER if index == 0 else TeamRole.MEMBER},
            )
        Participation.objects.get_or_create(
            team=team, defaults={"challenge": challenge, "status": ParticipationStatus.APPROVED},
        )
        owner = users[members[0]]
        _accept_licence(team, challenge.licences.filter(dataset__isnull=True).order_by("-version").first(), owner,
                        sign=signed and challenge.requires_signed_agreement)
        for dataset in challenge.datasets.filter(slug__in=DEMO_ACCEPTED_DATASET_LICENCES):
            licence = dataset_current_licence(dataset)
            if licence is not None:
                _accept_licence(team, licence, owner, sign=signed and licence.requires_signed_agreement)
        if created:
            summary.add(f"team {challenge.slug}/{name}")
        teams[name] = (team, quality)
    return teams


def _accept_licence(team: Team, licence: Licence, owner: User, *, sign: bool) -> None:
    """The team owner's acceptance of ``licence``, with the demo's signed agreement when ``sign``
    (only when the acceptance is new: a second run keeps what exists)."""
    from arena.participation.models import LicenceAcceptance

    acceptance, created = LicenceAcceptance.objects.get_or_create(
        team=team, licence=licence,
        defaults={"accepted_by": owner, "full_name": owner.username.title(),
                  "affiliation": "AffectArena demo", "accepted_on": timezone.now().date()},
    )
    if created and sign:
        acceptance.signed_agreement.save("agreement.pdf", ContentFile(DEMO_AGREEMENT), save=False)
        acceptance.agreement_size = len(DEMO_AGREEMENT)
        acceptance.agreement_sha256 = hashlib.sha256(DEMO_AGREEMENT).hexdigest()
        acceptance.agreement_uploaded_at = timezone.now()
        acceptance.agreement_uploaded_by = owner
        acceptance.save()


def _load_entries(challenge, spec: TrackSpec, files: TrackFiles, teams, users, summary, *,
                  extra_baselines: tuple[tuple[str, float], ...] = ()) -> None:
    """Scored baselines and one entry per demo team in every phase that is open now."""
    track = challenge.tracks.get(slug=spec.slug)
    organiser = challenge.organisers.order_by("pk").first()
    now = timezone.now()
    for phase in track.phases.filter(opens_at__lte=now):
        entries = [("Organiser baseline", None, files.baseline_prediction)]
        for seed, (name, quality) in enumerate(extra_baselines, start=1000):
            entries.append((name, None, perturbed_prediction(files, spec, quality, seed)))
        for seed, (name, (team, quality)) in enumerate(sorted(teams.items())):
            entries.append((f"{name} demo model", team, perturbed_prediction(files, spec, quality, seed)))
        for method, team, data in entries:
            if Submission.objects.filter(phase=phase, team=team, method_name=method).exists():
                continue
            submission = Submission.objects.create(
                phase=phase, team=team, is_baseline=team is None,
                submitted_by=organiser if team is None else team.created_by,
                method_name=method, file_name="predictions.csv", file_size=len(data),
                file_sha256=hashlib.sha256(data).hexdigest(),
                file=ContentFile(data, name="predictions.csv"),
            )
            token = lifecycle.submission_mark_queued(submission_id=submission.pk)
            status = submission_score(submission_id=submission.pk, token=token)
            if status != SubmissionStatus.SCORED:
                submission.refresh_from_db()
                raise RuntimeError(
                    f"demo entry {method!r} on {challenge.slug}/{spec.slug} was not scored: "
                    f"{submission.error_message}"
                )
            summary.add(f"entry {challenge.slug}/{spec.slug}/{phase.slug}: {method}")
