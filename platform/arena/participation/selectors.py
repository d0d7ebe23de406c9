"""A person's standing for a challenge's data: what they may download, and if not, why not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from arena.challenges.models import Challenge, Licence
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenge_current_licence, dataset_current_licence
from arena.core.errors import PermissionDenied
from arena.participation.models import ChallengeBar, LicenceAcceptance, Participation, ParticipationStatus
from arena.teams.models import Team
from arena.teams.selectors import team_of


@dataclass(frozen=True)
class DataAccess:
    """Everything the licence flow and the download checks need to know, read once."""

    challenge: Challenge
    is_organiser: bool
    team: Team | None
    participation: Participation | None
    licence: Licence | None
    #: The team's acceptance of the current licence version, if any.
    acceptance: LicenceAcceptance | None
    #: The team's latest acceptance of an older version (shown when a new version needs acceptance).
    previous_acceptance: LicenceAcceptance | None
    #: Why downloads are refused; None when they are allowed.
    refusal: PermissionDenied | None
    #: The organisers' bar on this person (after a revocation), until lifted.
    bar: ChallengeBar | None = None
    #: The team's standing on the dataset's own licence, when asked about one dataset.
    dataset_standing: DatasetLicenceStanding | None = None

    @property
    def can_download(self) -> bool:
        return self.refusal is None

    @property
    def needs_acceptance(self) -> bool:
        return self.team is not None and self.licence is not None and self.acceptance is None

    @property
    def needs_agreement(self) -> bool:
        return (self.challenge.requires_signed_agreement and self.acceptance is not None
                and not self.acceptance.signed_agreement)

    def ensure_can_download(self) -> None:
        if self.refusal is not None:
            raise self.refusal


@dataclass(frozen=True)
class DatasetLicenceStanding:
    """Where a team stands on one dataset's own licence."""

    dataset: Any
    #: The dataset's current licence; None when only the challenge licence applies.
    licence: Licence | None
    acceptance: LicenceAcceptance | None
    #: The team's latest acceptance of an older version.
    previous_acceptance: LicenceAcceptance | None
    #: What is still missing, as the refusal a download would get; None when nothing is.
    refusal: PermissionDenied | None

    @property
    def accepted(self) -> bool:
        return self.acceptance is not None

    @property
    def needs_agreement(self) -> bool:
        return (self.licence is not None and self.licence.requires_signed_agreement
                and self.acceptance is not None and not self.acceptance.signed_agreement)


def dataset_licence_standing(team: Team | None, dataset: Any, *, organiser: bool = False) -> DatasetLicenceStanding:
    """The team's standing on ``dataset``'s own licence: accepted, signed, approved, or what is
    missing (nothing for the challenge's organisers)."""
    licence = dataset_current_licence(dataset)
    acceptance = licence_acceptance_of(team, licence)
    previous = None
    if team is not None and licence is not None and acceptance is None:
        previous = (LicenceAcceptance.objects.filter(team=team, licence__dataset=dataset)
                    .select_related("licence").order_by("-licence__version").first())
    return DatasetLicenceStanding(dataset=dataset, licence=licence, acceptance=acceptance,
                                  previous_acceptance=previous,
                                  refusal=None if organiser else _dataset_refusal(dataset, licence, acceptance,
                                                                                  previous))


def datasets_with_licence_standing(access: DataAccess, datasets: list) -> list:
    """``datasets``, each given ``licence_standing`` (its own licence, for ``access``'s team) and
    ``can_download`` (the challenge rules and that licence both allow it)."""
    for dataset in datasets:
        dataset.licence_standing = dataset_licence_standing(access.team, dataset, organiser=access.is_organiser)
        dataset.can_download = access.can_download and dataset.licence_standing.refusal is None
    return datasets


def _dataset_refusal(dataset, licence, acceptance, previous) -> PermissionDenied | None:
    if licence is None:
        return None
    if acceptance is None:
        changed = (f" (now version {licence.version}; your team accepted version {previous.licence.version})"
                   if previous is not None else "")
        return PermissionDenied(
            f"'{dataset.title}' has its own licence{changed}: accept it for your team on its licence page "
            "before downloading its files.",
            code="dataset_licence_not_accepted",
        )
    if licence.requires_signed_agreement and not acceptance.signed_agreement:
        return PermissionDenied(
            f"Upload the signed agreement (PDF) for the licence of '{dataset.title}' before downloading its files.",
            code="dataset_agreement_missing",
        )
    if licence.requires_approval and acceptance.approved_at is None:
        return PermissionDenied(
            f"The organisers have yet to approve your team's acceptance of the licence of '{dataset.title}'; "
            "you will get an e-mail.",
            code="dataset_approval_pending",
        )
    return None


def licence_acceptance_of(team: Team | None, licence: Licence | None) -> LicenceAcceptance | None:
    if team is None or licence is None:
        return None
    return LicenceAcceptance.objects.filter(team=team, licence=licence).first()


def challenge_bar_of(user: Any, challenge: Challenge) -> ChallengeBar | None:
    """The bar that keeps ``user`` out of ``challenge``, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (ChallengeBar.objects.filter(challenge=challenge, user=user, lifted_at__isnull=True)
            .select_related("challenge").first())


def challenge_bar_refusal(bar: ChallengeBar) -> PermissionDenied:
    """What a barred person is told, wherever they are refused."""
    reason = f": {bar.reason.rstrip('.')}" if bar.reason else ""
    return PermissionDenied(
        f"The organisers of '{bar.challenge.title}' revoked your access{reason}; contact them to have it restored.",
        code="participation_revoked",
    )


def ensure_not_barred(user: Any, challenge: Challenge) -> None:
    bar = challenge_bar_of(user, challenge)
    if bar is not None:
        raise challenge_bar_refusal(bar)


#: What the refusal messages say the person is trying to do.
ACTIONS = {"download": ("download data", "downloading", "downloads"),
           "submit": ("submit", "submitting", "submissions")}


#: ``data_access`` answers by question, inside ``data_access_once`` (None outside: every call reads).
_ANSWERED: ContextVar[dict | None] = ContextVar("arena_data_access_answered", default=None)


@contextmanager
def data_access_once() -> Iterator[None]:
    """Within the block (one request), ``data_access`` reads each question (user, challenge, action, dataset) once:
    an upload is checked before its body is read, to refuse without reading it, and again by the service that
    takes it in, with nothing in between that could change the answer."""
    token = _ANSWERED.set({})
    try:
        yield
    finally:
        _ANSWERED.reset(token)


def data_access(user: Any, challenge: Challenge, *, action: str = "download",
                dataset: Any = None) -> DataAccess:
    """The standing of ``user`` in ``challenge``: the one eligibility rule for downloads and submissions
    (``action`` only words the refusal: "download" or "submit").

    Organisers may always download. A participant may download once their team is
    approved (or auto-approved), has accepted the current licence version and, where the
    challenge requires it, has uploaded the signed agreement, and while the organisers have
    not barred them (a revocation bars every member of the team, whatever team they join later).
    With ``dataset`` (downloads of its files), the team must also have accepted that dataset's
    own current licence, if it has one, with the signed copy and approval that licence requires.
    """
    answered = _ANSWERED.get()
    question = (getattr(user, "pk", None), challenge.pk, action, getattr(dataset, "pk", None))
    if answered is not None and question in answered:
        return answered[question]
    access = _data_access(user, challenge, action=action, dataset=dataset)
    if answered is not None:
        answered[question] = access
    return access


def _data_access(user: Any, challenge: Challenge, *, action: str, dataset: Any) -> DataAccess:
    organiser = is_organiser(user, challenge)
    bar = None if organiser else challenge_bar_of(user, challenge)
    team = None if organiser else team_of(user, challenge)
    participation = Participation.objects.filter(team=team).first() if team else None
    licence = challenge_current_licence(challenge)
    acceptance = licence_acceptance_of(team, licence)
    previous = None
    if team is not None and acceptance is None:
        previous = (LicenceAcceptance.objects
                    .filter(team=team, licence__challenge=challenge, licence__dataset__isnull=True)
                    .select_related("licence").order_by("-licence__version").first())
    refusal = None if organiser else _refusal(user, challenge, team, participation, licence, acceptance,
                                              previous, bar, ACTIONS[action])
    standing = dataset_licence_standing(team, dataset, organiser=organiser) if dataset is not None else None
    if refusal is None and standing is not None and not organiser:
        refusal = standing.refusal
    return DataAccess(challenge=challenge, is_organiser=organiser, team=team, participation=participation,
                      licence=licence, acceptance=acceptance, previous_acceptance=previous, refusal=refusal,
                      bar=bar, dataset_standing=standing)


def _refusal(user, challenge, team, participation, licence, acceptance, previous,
             bar, action: tuple[str, str, str]) -> PermissionDenied | None:
    verb, doing, things = action
    if not getattr(user, "is_authenticated", False):
        return PermissionDenied(f"Sign in to {verb}.", code="not_authenticated")
    if bar is not None:
        return challenge_bar_refusal(bar)
    if team is None:
        return PermissionDenied(
            f"Join or create a team for '{challenge.title}' before {doing}.",
            code="not_in_team",
        )
    status = participation.status if participation else ParticipationStatus.PENDING
    if status == ParticipationStatus.REVOKED:
        return PermissionDenied(
            "The organisers revoked your team's access to the data"
            + (f": {participation.decision_reason}" if participation.decision_reason else "."),
            code="participation_revoked",
        )
    if status == ParticipationStatus.DENIED:
        return PermissionDenied(
            "The organisers did not approve your team"
            + (f": {participation.decision_reason}" if participation.decision_reason else "."),
            code="participation_denied",
        )
    if licence is None:
        return PermissionDenied(
            f"The organisers have not published the licence yet; {things} open once they do.",
            code="no_licence",
        )
    if acceptance is None:
        if previous is not None:
            return PermissionDenied(
                f"The licence changed (now version {licence.version}; your team accepted version "
                f"{previous.licence.version}): accept the new version before {doing}.",
                code="licence_not_accepted",
            )
        return PermissionDenied(f"Accept the licence for your team before {doing}.",
                                code="licence_not_accepted")
    if challenge.requires_signed_agreement and not acceptance.signed_agreement:
        return PermissionDenied(
            "Upload the licence agreement signed by a lab head or faculty member (PDF).",
            code="agreement_missing",
        )
    if status != ParticipationStatus.APPROVED:
        return PermissionDenied(
            "Your team is waiting for the organisers' approval; you will get an e-mail.",
            code="approval_pending",
        )
    return None
