"""Admin classes that show organisers only the challenges they organise.

Organisers are staff users without Django model permissions: access is decided by the
challenge's ``organisers`` relation, resolved through ``challenge_path`` on each model.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from arena.audit.services import audit_record
from arena.challenges.models import Challenge
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenges_organised_by
from arena.core.keys import sha256_of

# Foreign keys whose choices are narrowed to the organiser's own challenges.
_SCOPED_FK = {
    "challenge": "",
    "track": "challenge",
    "phase": "track__challenge",
    "team": "challenge",
    "dataset": "challenge",
}


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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        path = _SCOPED_FK.get(db_field.name)
        if path is not None and not request.user.is_superuser:
            organised = challenges_organised_by(request.user).values("pk")
            lookup = f"{path}__in" if path else "pk__in"
            kwargs["queryset"] = db_field.related_model.objects.filter(**{lookup: organised})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            audit_record(
                actor=request.user,
                action=f"admin.{'change' if change else 'add'}.{obj._meta.model_name}",
                target=obj, challenge=self._challenge_of(obj),
                details={"fields": sorted(form.changed_data)},
            )

    def save_formset(self, request, form, formset, change) -> None:
        instances = formset.save(commit=False)
        for instance in instances:
            fill_file_digest(instance)
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


def fill_file_digest(instance: models.Model) -> None:
    """Record size and sha256 of a freshly uploaded ``file`` on rows that carry them."""
    upload = getattr(instance, "file", None)
    if upload and hasattr(instance, "sha256") and not getattr(upload, "_committed", True):
        instance.sha256, instance.size = sha256_of(upload)


class OrganiserScopedInline:
    """Inline rows are editable by whoever may change the parent object."""

    def has_view_permission(self, request, obj=None) -> bool:
        return self._parent_allows(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._parent_allows(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._parent_allows(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._parent_allows(request, obj)

    def _parent_allows(self, request, obj) -> bool:
        if not is_any_organiser(request.user):
            return False
        if obj is None:
            return True
        challenge = obj if isinstance(obj, Challenge) else _resolve(obj, self.parent_challenge_path)
        return is_organiser(request.user, challenge)

    #: Path from the parent object to its Challenge.
    parent_challenge_path = "challenge"


class ScopedTabularInline(OrganiserScopedInline, admin.TabularInline):
    extra = 0


class ScopedStackedInline(OrganiserScopedInline, admin.StackedInline):
    extra = 0
