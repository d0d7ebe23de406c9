"""Admin classes that show organisers only the challenges they organise.

Organisers are staff users without Django model permissions: access is decided by the
challenge's ``organisers`` relation, resolved through ``challenge_path`` on each model.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from arena.accounts.permissions import can_host_challenges
from arena.audit.services import audit_record
from arena.challenges.models import Challenge
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenges_organised_by
from arena.core.keys import sha256_of

#: Lookup path from each challenge-owned model to its Challenge ("" for Challenge itself):
#: choices and filters of these models are narrowed to the organiser's own challenges.
CHALLENGE_PATHS = {
    "challenges.challenge": "",
    "challenges.licence": "challenge",
    "challenges.datasetlicence": "challenge",
    "challenges.track": "challenge",
    "challenges.phase": "track__challenge",
    "challenges.announcement": "challenge",
    "teams.team": "challenge",
    "datasets.dataset": "challenge",
    "datasets.datasetfile": "dataset__challenge",
}


def organiser_scope(model: type[models.Model], user) -> Q | None:
    """The condition that keeps rows of ``model`` to the challenges ``user`` organises.

    None for superusers (everything). Accounts, and models not tied to a challenge, get a
    condition no row meets: organisers never see lists of people or of other challenges' rows.
    """
    if user.is_superuser:
        return None
    path = CHALLENGE_PATHS.get(model._meta.label_lower)
    if path is None:
        return Q(pk__in=[])
    organised = challenges_organised_by(user).values("pk")
    return Q(**{f"{path}__in" if path else "pk__in": organised})


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter on a challenge, track, phase or team that offers only the organiser's own."""

    def field_choices(self, field, request, model_admin):
        scope = organiser_scope(field.related_model, request.user)
        if scope is None:
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to=scope)


def scoped_filter(field_path: str) -> tuple[str, type[admin.RelatedFieldListFilter]]:
    """A ``list_filter`` entry for a foreign key to a challenge-owned model."""
    return (field_path, ScopedRelatedFieldListFilter)


def _resolve(obj, path: str):
    for part in filter(None, path.split("__")):
        obj = getattr(obj, part)
    return obj


def is_any_organiser(user) -> bool:
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.organised_challenges.exists()


class OrganiserScopedAdmin(admin.ModelAdmin):
    #: Lookup path from the model to its Challenge ("" for Challenge itself).
    challenge_path = "challenge"
    #: Whether organisers may add and delete rows (superusers always may).
    organiser_can_add = True
    organiser_can_delete = True

    def _challenge_of(self, obj) -> Challenge:
        return _resolve(obj, self.challenge_path)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        lookup = f"{self.challenge_path}__in" if self.challenge_path else "pk__in"
        return qs.filter(**{lookup: challenges_organised_by(request.user).values("pk")})

    def has_module_permission(self, request) -> bool:
        return is_any_organiser(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        if not is_any_organiser(request.user):
            return False
        return obj is None or is_organiser(request.user, self._challenge_of(obj))

    has_change_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser or (self.organiser_can_add and is_any_organiser(request.user))

    def has_delete_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        return self.organiser_can_delete and self.has_change_permission(request, obj)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return with_time_zone_help(db_field, super().formfield_for_dbfield(db_field, request, **kwargs))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **_scoped_choices(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, **_scoped_choices(db_field, request, kwargs))

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # Form-only fields (e.g. a co-organiser to add) are audited by the service they call.
        model_fields = {f.name for f in obj._meta.get_fields()}
        changed = sorted(name for name in form.changed_data if name in model_fields)
        if not change or changed:
            audit_record(
                actor=request.user,
                action=f"admin.{'change' if change else 'add'}.{obj._meta.model_name}",
                target=obj, challenge=self._challenge_of(obj),
                details={"fields": changed},
            )

    def delete_model(self, request, obj) -> None:
        _audit_delete(request.user, obj, self._challenge_of(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            _audit_delete(request.user, obj, self._challenge_of(obj))
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change) -> None:
        """Save inline rows (licence versions, track assets, phases, dataset files), each audited."""
        challenge = self._challenge_of(form.instance)
        parent = str(form.instance)
        instances = formset.save(commit=False)
        row_forms = {id(row.instance): row for row in formset.forms}
        added = {id(obj) for obj in formset.new_objects}
        for instance in instances:
            fill_file_digest(instance)
            instance.save()
            details = {"fields": sorted(row_forms[id(instance)].changed_data), "parent": parent}
            if getattr(instance, "sha256", ""):
                details["sha256"] = instance.sha256
            verb = "add" if id(instance) in added else "change"
            audit_record(actor=request.user, action=f"admin.{verb}.{instance._meta.model_name}",
                         target=instance, challenge=challenge, details=details)
        for deleted in formset.deleted_objects:
            _audit_delete(request.user, deleted, challenge, parent=parent)
            deleted.delete()
        formset.save_m2m()


def _scoped_choices(db_field, request, kwargs: dict) -> dict:
    model = db_field.related_model
    label = model._meta.label_lower
    scope = None
    if label in CHALLENGE_PATHS or label == settings.AUTH_USER_MODEL.lower():
        scope = organiser_scope(model, request.user)
    if scope is not None:
        kwargs["queryset"] = model._default_manager.filter(scope)
    return kwargs


def _audit_delete(actor, obj: models.Model, challenge, **details) -> None:
    """Recorded before the row goes, while it still has its id."""
    audit_record(actor=actor, action=f"admin.delete.{obj._meta.model_name}", target=obj, challenge=challenge,
                 details={"name": str(obj), **details})


def fill_file_digest(instance: models.Model) -> None:
    """Record size and sha256 of a freshly uploaded ``file`` on rows that carry them."""
    upload = getattr(instance, "file", None)
    if upload and hasattr(instance, "sha256") and not getattr(upload, "_committed", True):
        instance.sha256, instance.size = sha256_of(upload)


def with_time_zone_help(db_field, formfield):
    """Say in a date-time field's help which time zone its times are in (organisers live in many)."""
    if formfield is not None and isinstance(db_field, models.DateTimeField):
        note = f"Times are in {timezone.get_current_timezone_name()}."
        formfield.help_text = f"{formfield.help_text} {note}" if formfield.help_text else note
    return formfield


def time_column(name: str, description: str):
    """A ``list_display`` column showing a date-time field with its time zone ("2026-12-04 03:00 UTC")."""

    @admin.display(description=description, ordering=name)
    def column(obj) -> str:
        value = getattr(obj, name)
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else "-"

    column.__name__ = f"{name}_with_zone"
    return column


class OrganiserScopedInline:
    """Inline rows are editable by whoever may change the parent object."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return with_time_zone_help(db_field, super().formfield_for_dbfield(db_field, request, **kwargs))

    def has_view_permission(self, request, obj=None) -> bool:
        return self._parent_allows(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._parent_allows(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._parent_allows(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._parent_allows(request, obj)

    def _parent_allows(self, request, obj) -> bool:
        if obj is None:  # the add page: open to organisers, and to hosts creating their first challenge
            return is_any_organiser(request.user) or (request.user.is_staff and can_host_challenges(request.user))
        if not is_any_organiser(request.user):
            return False
        challenge = obj if isinstance(obj, Challenge) else _resolve(obj, self.parent_challenge_path)
        return is_organiser(request.user, challenge)

    #: Path from the parent object to its Challenge.
    parent_challenge_path = "challenge"


class ScopedTabularInline(OrganiserScopedInline, admin.TabularInline):
    extra = 0


class ScopedStackedInline(OrganiserScopedInline, admin.StackedInline):
    extra = 0
