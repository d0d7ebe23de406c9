"""Conditional reads of stored boards: ``ETag``/``Last-Modified`` from the board's refresh marker, and 304s
answered without reading a single row.

What a reader gets from a board is decided by the stored board's refresh time
(``LeaderboardSnapshot.refreshed_at``; a refresh moves it only when that board's content changed), the
phase's settings and visibility state, the split and query asked for, and who asks. The validators are formed
from exactly those, before any row is read: a conditional request costs the phase and snapshot queries and
nothing more, and a refresh between the validators and the rows only costs the client one full answer later.

A refusal (a hidden board, the private board before the reveal) has a validator made from the phase's state
alone, so it does not move with the scores nobody may see yet.

Shared caches (``Cache-Control: public``) may hold only what an anonymous reader gets, for
``ARENA_BOARD_CACHE_SECONDS``; everything else is ``private``, and organisers' views (hidden boards) are never
stored at all.

Each web process also keeps the full answers it rendered (``board_bodies``), by path and ETag: the ETag is
formed from everything an answer shows, so an answer stored under it is current exactly as long as a 304 for it
would be, and a refresh (which moves ``refreshed_at``) retires it on the very next read. Only answers every
holder of the ETag may see are stored: never a refusal, never an organiser's, never a page naming its reader.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache, wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from arena.challenges.models import Phase
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenge_is_visible_to
from arena.challenges.visibility import (
    board_to_read,
    default_split,
    describe_board,
    describe_entry_rule,
    visible_boards,
)
from arena.core.errors import DomainError
from arena.factsheets.selectors import factsheet_questions
from arena.leaderboards.exports import snapshot_csv
from arena.leaderboards.models import LeaderboardSnapshot
from arena.teams.selectors import team_of

# What a board shows of its phase, track and challenge besides the rows (a change moves the ETag). Only
# these: a hash over every field would move when an organiser replaces the hidden reference.
PHASE_FIELDS = ("slug", "title", "board_visibility", "frozen_at", "private_revealed_at", "reveal_at_close",
                "closes_at", "entry_rule", "max_selected", "robustness_protocol")
TRACK_FIELDS = ("slug", "title", "scorer_key", "tie_break_metrics")
CHALLENGE_FIELDS = ("slug", "title")
VARY = ("Cookie", "Authorization")
#: What the board API reads of a phase, its track and its challenge: the fields above, visibility and the
#: answer's head. A board read selects these columns only (a phase with its track and challenge is ~80).
BOARD_PHASE_COLUMNS = (
    *PHASE_FIELDS, "track", "opens_at", "reference_public",
    *(f"track__{name}" for name in TRACK_FIELDS), "track__challenge",
    *(f"track__challenge__{name}" for name in CHALLENGE_FIELDS), "track__challenge__is_published",
)
#: What validators and readers need of a snapshot (its CSV is read only when sent).
SNAPSHOT_COLUMNS = ("phase", "split", "rows", "refreshed_at", "statistics_refreshed_at")


def board_phases() -> QuerySet[Phase]:
    """Phases with their track and challenge, holding the columns a board read needs and no others."""
    return Phase.objects.select_related("track__challenge").only(*BOARD_PHASE_COLUMNS)


class CompiledRead:
    """``queryset(*args).first()`` (or ``.all()``) with the queryset compiled once per process and database.

    Building and compiling a query is most of what a board read costs in Python (more than the round trip):
    the board's validator queries keep the SQL the ORM wrote for them and only send new parameters. The SQL is
    the ORM's own for ``queryset``, rows become models as the ORM makes them (``Model.from_db``, the database's
    converters, related models set in place), so nothing here knows a column."""

    def __init__(self, queryset: Callable[..., QuerySet]):
        self.queryset = queryset
        self._compiled: dict[tuple[str, bool], tuple] = {}

    def first(self, *args):
        models = self._read(args, first=True)
        return models[0] if models else None

    def all(self, *args) -> list:
        """``list(queryset(*args))``, compiled likewise."""
        return self._read(args, first=False)

    def _read(self, args: tuple, *, first: bool) -> list:
        alias = DEFAULT_DB_ALIAS
        compiled = self._compiled.get((alias, first))
        if compiled is None:
            queryset = self.queryset(*args)[:1] if first else self.queryset(*args)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            if tuple(params) != args:  # the parameters are not the arguments as given: no shortcut
                return list(queryset)
            columns = [column for column, _, _ in compiler.select]
            compiled = (sql, compiler.klass_info, columns, list(compiler.get_converters(columns).items()))
            self._compiled[(alias, first)] = compiled
        sql, klass_info, columns, converters = compiled
        connection = connections[alias]
        with _preparing_cursor(connection) as cursor:
            cursor.execute(sql, args)
            rows = cursor.fetchall()
        models: list = []
        related: dict = {}
        for row in rows:
            row = list(row)
            for position, (functions, expression) in converters:
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            models.append(self._model(klass_info, columns, row, alias, related))
        return models

    def _model(self, klass_info: dict, columns: list, row: list, alias: str, related: dict, *, top: bool = True):
        # A related row met again in the same read (the phase of each of its snapshots) is one instance.
        positions = klass_info["select_fields"]
        model = klass_info["model"]
        names, values = [columns[i].target.attname for i in positions], [row[i] for i in positions]
        key = (model, values[names.index(model._meta.pk.attname)])
        if not top and key in related:
            return related[key]
        obj = model.from_db(alias, names, values)
        for related_info in klass_info.get("related_klass_infos", ()):
            related_info["local_setter"](obj, self._model(related_info, columns, row, alias, related, top=False))
        if not top:
            related[key] = obj
        return obj


@cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, **options):
            return super().execute(query, params, prepare=True, **options)

    return PreparingCursor


@contextmanager
def _preparing_cursor(connection):
    """Django's cursor (health check, database errors, query log) whose statements PostgreSQL prepares: it parses
    and plans each compiled read once per connection instead of on every read (the phase with its track and
    challenge: 0.15 ms of the database's CPU a read, 0.04 prepared; benchmarks/bench_prepared_reads.py). Django
    leaves statements unprepared for the sake of poolers; a transaction-pooling PgBouncer in front needs
    ``max_prepared_statements`` (1.21+)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = connection.connection
            if raw.prepare_threshold is None:  # Django's "never": now only what asks is prepared (nothing by count)
                raw.prepare_threshold = 2**31 - 1
            cursor.cursor.close()
            cursor.cursor = _preparing_cursor_class()(raw)
        yield cursor


_board_phase = CompiledRead(lambda phase_id: board_phases().filter(pk=phase_id))
_board_snapshot = CompiledRead(lambda phase_id, board: LeaderboardSnapshot.objects.filter(
    phase_id=phase_id, split=board).order_by("pk").only(*SNAPSHOT_COLUMNS))


def board_phase(*, phase_id: int) -> Phase | None:
    """The phase with its track and challenge as ``board_phases()`` reads it, or None."""
    return _board_phase.first(phase_id)


# The phase reached from each of its boards' snapshots: with both in one round trip.
_board_phase_snapshots = CompiledRead(lambda phase_id: LeaderboardSnapshot.objects.filter(
    phase_id=phase_id).select_related("phase__track__challenge").only(
    *SNAPSHOT_COLUMNS, *(f"phase__{name}" for name in BOARD_PHASE_COLUMNS)).order_by("pk"))


def board_phase_and_snapshots(*, phase_id: int) -> tuple[Phase | None, dict[str, LeaderboardSnapshot]]:
    """``board_phase`` and the snapshots of the phase's stored boards by board (CSV deferred), by one query once
    the phase has a stored board (before that, the phase's own query)."""
    snapshots = _board_phase_snapshots.all(phase_id)
    if not snapshots:
        return board_phase(phase_id=phase_id), {}
    return snapshots[0].phase, {snapshot.split: snapshot for snapshot in snapshots}


# Chained filters: the SQL's parameters in the arguments' order.
_page_phase = CompiledRead(lambda slug, track_slug, phase_slug: Phase.objects.select_related(
    "track__challenge").filter(track__challenge__slug=slug).filter(track__slug=track_slug).filter(slug=phase_slug))


def board_page_phase(*, user, slug: str, track_slug: str, phase_slug: str) -> Phase | None:
    """The phase (with its track and challenge, in full) a board page's URL names, if its challenge is visible to
    ``user``: ``phase_visible_by_slugs`` by one compiled query, the challenge's visibility checked in Python."""
    return board_page_phase_and_snapshots(user=user, slug=slug, track_slug=track_slug, phase_slug=phase_slug)[0]


#: What a snapshot holds besides what its readers need (``SNAPSHOT_COLUMNS``): never read with its phase.
_SNAPSHOT_UNREAD = tuple(field.name for field in LeaderboardSnapshot._meta.concrete_fields
                         if field.name not in SNAPSHOT_COLUMNS and not field.primary_key)
_page_phase_snapshots = CompiledRead(lambda slug, track_slug, phase_slug: LeaderboardSnapshot.objects.select_related(
    "phase__track__challenge").filter(phase__track__challenge__slug=slug).filter(phase__track__slug=track_slug).filter(
    phase__slug=phase_slug).defer(*_SNAPSHOT_UNREAD).order_by("pk"))


def board_page_phase_and_snapshots(*, user, slug: str, track_slug: str,
                                   phase_slug: str) -> tuple[Phase | None, dict[str, LeaderboardSnapshot]]:
    """``board_page_phase`` and the snapshots of the phase's stored boards by board (as
    ``board_phase_and_snapshots``), by one query once the phase has a stored board."""
    snapshots = _page_phase_snapshots.all(slug, track_slug, phase_slug)
    phase = snapshots[0].phase if snapshots else _page_phase.first(slug, track_slug, phase_slug)
    if phase is None or not challenge_is_visible_to(phase.track.challenge, user):
        return None, {}
    return phase, {snapshot.split: snapshot for snapshot in snapshots}


# The fact-sheet questions a board shows (``factsheet_questions`` of the phase, on the board).
_board_questions = CompiledRead(lambda phase_id, shown: factsheet_questions(phase_id).filter(
    on_leaderboard=shown).only("key", "text"))


@dataclass(frozen=True)
class BoardRead:
    """One reader's view of one board, as far as it is known without its rows."""

    phase: Phase
    split: str
    organiser: bool
    visible_splits: list[str]
    #: The stored board behind ``split`` (None when refused).
    board: str | None
    #: The stored board's snapshot without its CSV (None when refused or before the first refresh).
    snapshot: LeaderboardSnapshot | None
    #: Why this reader may not see the board (None when they may).
    refusal: DomainError | None


def board_read(*, phase: Phase, split: str, user, now: datetime | None = None,
               snapshots: dict[str, LeaderboardSnapshot] | None = None) -> BoardRead:
    """Which board ``user`` reads when asking for ``split``, and its snapshot (CSV deferred); the rules are
    ``arena.challenges.visibility``'s, asked once. ``snapshots``: the phase's snapshots by board, when already
    read (``board_phase_and_snapshots``)."""
    now = now or timezone.now()
    organiser = is_organiser(user, phase.track.challenge)
    visible = list(visible_boards(phase, organiser=organiser, now=now))
    try:
        board = board_to_read(phase, split, organiser=organiser, now=now)
    except DomainError as exc:
        return BoardRead(phase, split, organiser, visible, None, None, exc)
    snapshot = snapshots.get(board) if snapshots is not None else _board_snapshot.first(phase.pk, board)
    return BoardRead(phase, split, organiser, visible, board, snapshot, None)


def board_csv(read: BoardRead) -> str:
    """The CSV of the board read (empty before its first refresh)."""
    if read.snapshot is None:
        return ""
    return snapshot_csv(snapshot_id=read.snapshot.pk)


@dataclass(frozen=True)
class BoardValidators:
    etag: str
    last_modified: datetime | None
    cache_control: str


def _fields(obj, names: Iterable[str]) -> list:
    return [getattr(obj, name) for name in names]


def board_validators(request: HttpRequest, read: BoardRead, *, representation: str,
                     extra: Iterable = (), now: datetime | None = None) -> BoardValidators:
    """The validators and caching rule of ``representation`` ("api", "csv", "html") of a board for this
    request; ``extra``: whatever else the representation shows (the HTML page: the reader)."""
    now = now or timezone.now()
    phase = read.phase
    track = phase.track
    key: list = [representation, phase.pk, read.split, read.organiser, read.visible_splits,
                 phase.has_public_split, phase.is_revealed(now), phase.is_frozen(now),
                 _fields(phase, PHASE_FIELDS), _fields(track, TRACK_FIELDS), _fields(track.challenge, CHALLENGE_FIELDS),
                 sorted(request.GET.lists()), list(extra)]
    last_modified = None
    if read.refusal is not None:
        key += ["refused", read.refusal.code]
    else:
        snapshot = read.snapshot
        key += [read.board, (snapshot.pk, snapshot.refreshed_at, snapshot.rows) if snapshot else None]
        # Besides refreshes, the board a reader gets changes when it freezes and when the results are revealed.
        moments = [snapshot.refreshed_at if snapshot else phase.opens_at, phase.private_revealed_at]
        if phase.reveal_at_close and phase.closes_at <= now:
            moments.append(phase.closes_at)
        if phase.frozen_at is not None and phase.frozen_at <= now:
            moments.append(phase.frozen_at)
        last_modified = max(m for m in moments if m is not None)
    etag = '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:32] + '"'
    if read.organiser:
        cache_control = "private, no-store"  # hidden boards, and the splits list that names them
    elif getattr(request.user, "is_authenticated", False):
        cache_control = "private, max-age=0"
    else:
        cache_control = f"public, max-age={settings.ARENA_BOARD_CACHE_SECONDS}"
    return BoardValidators(etag, last_modified, cache_control)


def _has_messages(request: HttpRequest) -> bool:
    # A page carrying a one-off message is neither answered 304 (the message would stay unread) nor shared.
    return len(get_messages(request)) > 0


def _stamp(response: HttpResponse, validators: BoardValidators, *, private: bool = False) -> HttpResponse:
    ok = response.status_code in (200, 304)
    refused = response.status_code in (403, 404)
    if ok or refused:
        response["ETag"] = validators.etag
        if ok and validators.last_modified is not None:
            response["Last-Modified"] = http_date(validators.last_modified.timestamp())
    cache_control = validators.cache_control
    if "no-store" not in cache_control and (private or response.cookies or not (ok or refused)):
        cache_control = "private, max-age=0"  # what a shared cache must never hand to someone else
    response["Cache-Control"] = cache_control
    patch_vary_headers(response, VARY)
    return response


class BoardBodies:
    """Full answers of boards rendered by this process, by path and ETag: a least-recently-used store of at most
    ``ARENA_BOARD_BODY_CACHE_MB`` of content (0: store nothing)."""

    def __init__(self):
        self._answers: OrderedDict[str, tuple[bytes, list[tuple[str, str]]]] = OrderedDict()  # by path and ETag
        self._bytes = 0
        self._lock = threading.Lock()  # threaded workers share the store

    def get(self, key: str) -> HttpResponse | None:
        with self._lock:
            stored = self._answers.get(key)
            if stored is None:
                return None
            self._answers.move_to_end(key)
        content, headers = stored
        response = HttpResponse(content)
        for name, value in headers:
            response[name] = value
        return response

    @property
    def max_bytes(self) -> int:
        return settings.ARENA_BOARD_BODY_CACHE_MB * 1024 * 1024

    def put(self, key: str, response: HttpResponse) -> None:
        content, max_bytes = response.content, self.max_bytes
        if len(content) > max_bytes:
            return
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = (content, list(response.items()))
            self._bytes += len(content)
            while self._bytes > max_bytes:
                _, (dropped, _) = self._answers.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._answers)


#: This process's store of rendered board answers.
board_bodies = BoardBodies()


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    # A full answer that sets nothing for its reader: no cookie now, none the CSRF middleware adds later.
    return (response.status_code == 200 and not response.cookies and not response.streaming
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))


def board_response(request: HttpRequest, read: BoardRead, *, representation: str,
                   render: Callable[[], HttpResponse], extra: Iterable = (), shared: bool = True) -> HttpResponse:
    """``render()``'s response with the board's validators and caching rule, or 304 Not Modified when the
    request's ``If-None-Match``/``If-Modified-Since`` still hold (without calling ``render``).

    ``shared``: whether every reader with the same ETag gets the same answer (false for a page naming its
    reader); then a non-organiser's full answer is kept in ``board_bodies`` and served from there while the
    ETag holds."""
    if not settings.ARENA_BOARD_CONDITIONAL:
        return render()
    validators = board_validators(request, read, representation=representation, extra=extra)
    messages = _has_messages(request)
    keep = shared and read.refusal is None and not read.organiser and not messages and board_bodies.max_bytes > 0
    response = _answer_unrendered(request, read, validators, conditional=not messages, stored=keep)
    if response is not None:
        return response
    response = render()
    if keep and _storable(request, response):
        board_bodies.put(_body_key(request, validators), response)
    return _stamp(response, validators, private=messages)


def unrendered_board_response(request: HttpRequest, read: BoardRead, *, representation: str,
                              extra: Iterable = ()) -> HttpResponse | None:
    """What ``board_response`` answers a request without credentials or cookies (an anonymous reader with no
    one-off message) when that answer needs no rendering: the 304, or the full answer stored under the path and
    ETag; None when only rendering can answer."""
    if not settings.ARENA_BOARD_CONDITIONAL or read.refusal is not None or read.organiser:
        return None
    validators = board_validators(request, read, representation=representation, extra=extra)
    return _answer_unrendered(request, read, validators, conditional=True, stored=board_bodies.max_bytes > 0)


def _body_key(request: HttpRequest, validators: BoardValidators) -> str:
    # The page links back to its own path (e.g. after signing in): an answer is kept per path and ETag.
    return f"{request.path}\n{validators.etag}"


def _answer_unrendered(request: HttpRequest, read: BoardRead, validators: BoardValidators, *, conditional: bool,
                       stored: bool) -> HttpResponse | None:
    """The 304 (when ``conditional`` and the request's validators hold) or the stored full answer (when
    ``stored``), stamped; None when neither."""
    if conditional and read.refusal is None:
        last_modified = int(validators.last_modified.timestamp()) if validators.last_modified else None
        not_modified = get_conditional_response(request, etag=validators.etag, last_modified=last_modified)
        if not_modified is not None:
            return _stamp(not_modified, validators)
    response = board_bodies.get(_body_key(request, validators)) if stored else None
    return _stamp(response, validators) if response is not None else None


def _reader(request: HttpRequest, phase: Phase) -> list:
    """What the HTML page shows of its reader: the header names them and carries a form token bound to the
    sign-in, and their own team's row may stand out."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return [None]
    team = team_of(user, phase.track.challenge)
    session_key = getattr(getattr(request, "session", None), "session_key", None) or ""
    csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    return [user.pk, user.username, user.is_staff, team.pk if team else None,
            hashlib.sha256(f"{session_key}:{csrf}".encode()).hexdigest()]


def board_page_read(request: HttpRequest, *, representation: str, slug: str, track_slug: str,
                    phase_slug: str) -> tuple[BoardRead, list, bool] | None:
    """What a board page ("html": the page, "csv": its CSV link) reads before rendering: the board read, what
    else the answer shows (``extra`` of the validators) and whether every reader with its ETag gets the same
    answer; None when the phase is not visible (the view's 404). ``anonymous_reads`` asks before the view and
    leaves its answer on a request it passes on."""
    read_before = getattr(request, "board_read_before_view", None)
    if read_before is not None:
        return read_before
    phase, snapshots = board_page_phase_and_snapshots(user=request.user, slug=slug, track_slug=track_slug,
                                                      phase_slug=phase_slug)
    if phase is None:
        return None
    read = board_read(phase=phase, split=request.GET.get("split") or default_split(phase), user=request.user,
                      snapshots=snapshots)
    extra: list = []
    if representation == "html":
        now = timezone.now()
        extra = [*_reader(request, phase), describe_board(phase, now), describe_entry_rule(phase),
                 [(question.pk, question.key, question.text) for question in _board_questions.all(phase.pk, True)]]
    shared = not getattr(request.user, "is_authenticated", False)  # the page names its reader
    return read, extra, shared


def board_page_conditional(representation: str):
    """Decorate a board page view (``slug``, ``track_slug``, ``phase_slug``): "html" for the page, "csv"
    for its CSV link. The view itself is unchanged and only called when a full answer is due."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, slug: str, track_slug: str, phase_slug: str):
            def render() -> HttpResponse:
                return view(request, slug, track_slug, phase_slug)

            if not settings.ARENA_BOARD_CONDITIONAL:
                return render()
            page_read = board_page_read(request, representation=representation, slug=slug, track_slug=track_slug,
                                        phase_slug=phase_slug)
            if page_read is None:
                return render()  # the view's own 404
            read, extra, shared = page_read
            request.board_read = read  # the view reads the same phase and snapshot from it, not again
            return board_response(request, read, representation=representation, render=render, extra=extra,
                                  shared=shared)

        return wrapped

    return decorate
