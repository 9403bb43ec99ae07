"""Tenant scoping for the Django admin: the base of every ModelAdmin and inline.

The admin is scoped by the same mechanism as the API (``apps.organizations.scoping``):
a staff user sees and edits what their memberships allow, without any Django
model permission; a superuser sees and edits everything.

Use it for every admin in the project::

    from apps.organizations.admin_scoping import TenantScopedAdmin, TenantScopedInline

    class TariffLineInline(TenantScopedInline):
        model = TariffLine

    @admin.register(Tariff)
    class TariffAdmin(TenantScopedAdmin):
        list_display = ("name", "organization", "currency")
        list_filter = ("organization", "currency")
        inlines = [TariffLineInline]
        # Optional, the defaults are shown:
        # view_role = "viewer"; change_role = "operator"
        # add_role = "owner"; delete_role = "owner"
        # organization_choice_role = "operator"

The model must use ``TenantQuerySet`` as its default manager and, when its
organization is not the ``organization`` field, name the path in
``TENANT_FIELD`` (``"charge_point__organization"``).

What the base does:

- ``get_queryset`` is ``visible_to(request.user, view_role)``: other tenants' rows
  are absent from the changelist, and their change pages redirect as missing.
- ``has_{module,view,change,add,delete}_permission`` come from the membership
  role in the object's organization (or in any organization when there is no
  object): viewers view, operators change, owners do everything.
- Foreign-key and many-to-many choices to tenant models list visible rows only;
  ``organization`` choices list the organizations where the user has
  ``organization_choice_role``. ``list_filter`` entries on such relations become
  "related only" filters, so no other tenant's name leaks through a filter.
- Saving an object whose organization the user may not write (after the form
  changed it) is refused: a form error, and ``PermissionDenied`` as a backstop
  in ``save_form``.

What a subclass must still do:

- Admin actions that write: act on ``self.writable_queryset(request, queryset)``
  only; ``render_action_confirmation`` builds the usual "are you sure" page.
- Foreign keys to non-tenant models (users) are not filtered: make them
  read-only or override ``formfield_for_foreignkey``.
- Custom views from ``get_urls`` go through ``self.admin_site.admin_view`` and
  fetch objects with ``self.get_object`` (scoped) and a permission check.
- A ``save_model`` that creates through a service can hand the saved row back
  to the admin with ``adopt_saved_instance``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models
from django.template.response import TemplateResponse

from apps.organizations.models import Organization
from apps.organizations.permissions import organization_id_of
from apps.organizations.scoping import has_any_role, has_role

TENANT_FORM_ERROR = "You may not save objects into this organization."


def tenant_id_of(obj: models.Model) -> int | None:
    """The organization id of ``obj``, or ``None`` if it has none (yet)."""
    try:
        return organization_id_of(obj)
    except (ObjectDoesNotExist, AttributeError):
        return None


def _tenant_id_from_form(
    model: type[models.Model], instance: models.Model, cleaned_data: dict
) -> int | None:
    """The organization the form is about to save ``instance`` into."""
    path = getattr(model, "TENANT_FIELD", "organization").split("__")
    if path == ["id"]:  # the organization itself
        return instance.pk
    head = path[0]
    if head in cleaned_data:
        target = cleaned_data[head]
    else:
        try:
            target = getattr(instance, head)
        except ObjectDoesNotExist:
            return None
    if target is None:
        return None
    for name in path[1:-1]:
        target = getattr(target, name)
    if len(path) == 1:
        return target.pk
    return getattr(target, f"{path[-1]}_id")


def _is_tenant_model(model) -> bool:
    return model is Organization or hasattr(
        getattr(model, "_default_manager", None), "visible_to"
    )


class _TenantScopedMixin:
    view_role = "viewer"
    change_role = "operator"
    add_role = "owner"
    delete_role = "owner"
    organization_choice_role = "operator"

    # --- rows -------------------------------------------------------------
    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user, self.view_role)

    def writable_queryset(self, request, queryset, role: str | None = None):
        """The part of ``queryset`` the user may change (for admin actions)."""
        return queryset.visible_to(request.user, role or self.change_role)

    # --- permissions -----------------------------------------------------
    def _may(self, request, role: str, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if obj is None:
            return has_any_role(user, role)
        return has_role(user, tenant_id_of(obj), role)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may(request, self.view_role, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may(request, self.change_role, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may(request, self.delete_role, obj)

    # --- choices ---------------------------------------------------------
    def _scoped_choices(self, request, model):
        if model is Organization:
            return Organization.objects.visible_to(
                request.user, self.organization_choice_role
            )
        if _is_tenant_model(model):
            return model._default_manager.visible_to(request.user)
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self._scoped_choices(request, db_field.remote_field.model)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self._scoped_choices(request, db_field.remote_field.model)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TenantScopedAdmin(_TenantScopedMixin, admin.ModelAdmin):
    """The ModelAdmin base of the project; see the module docstring."""

    def has_module_permission(self, request) -> bool:
        return self._may(request, self.view_role)

    def has_add_permission(self, request) -> bool:
        return self._may(request, self.add_role)

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [self._related_only(item) for item in filters]

    def _related_only(self, item):
        if not isinstance(item, str):
            return item
        try:
            field = get_fields_from_path(self.model, item)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return item
        if field.is_relation and _is_tenant_model(field.related_model):
            return (item, admin.RelatedOnlyFieldListFilter)
        return item

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        role = self.change_role if change else self.add_role
        return _guarded_form(form_class, request.user, role)

    def save_form(self, request, form, change):
        obj = super().save_form(request, form, change)
        role = self.change_role if change else self.add_role
        if not has_role(request.user, tenant_id_of(obj), role):
            raise DjangoPermissionDenied(TENANT_FORM_ERROR)
        return obj


class TenantScopedInline(_TenantScopedMixin, admin.TabularInline):
    """The inline base of the project: permissions follow the parent object.

    Editing inline rows is editing the parent, so adding and deleting rows
    need ``change_role`` ("operator") by default, not "owner".
    """

    add_role = "operator"
    delete_role = "operator"

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may(request, self.add_role, obj)


def _guarded_form(form_class: type[forms.ModelForm], user, role: str):
    class TenantGuardedForm(form_class):
        def clean(self):
            cleaned = super().clean()
            organization_id = _tenant_id_from_form(
                self._meta.model, self.instance, cleaned
            )
            if organization_id is not None and not has_role(
                user, organization_id, role
            ):
                raise forms.ValidationError(TENANT_FORM_ERROR, code="tenant")
            return cleaned

    TenantGuardedForm.__name__ = form_class.__name__
    TenantGuardedForm.__qualname__ = form_class.__qualname__
    return TenantGuardedForm


def render_action_confirmation(
    modeladmin: admin.ModelAdmin,
    request,
    queryset,
    *,
    action: str,
    title: str,
    question: str,
    confirm_label: str = "Yes, I’m sure",
) -> TemplateResponse:
    """The "are you sure?" page of an admin action.

    The action runs its effect when ``is_action_confirmed(request)`` and
    otherwise returns this page, which posts the same selection back with
    ``post=yes`` (the pattern of Django's ``delete_selected``).
    """
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "confirm_label": confirm_label,
        "objects": list(queryset),
        "opts": opts,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/csms/action_confirmation.html", context)


def is_action_confirmed(request) -> bool:
    return request.method == "POST" and request.POST.get("post") == "yes"


def adopt_saved_instance(target: models.Model, saved: models.Model) -> None:
    """Make the admin's unsaved ``target`` the row a service just created.

    ``ModelAdmin`` logs and redirects with the object it passed to
    ``save_model``; when a service creates the row instead, copy it back.
    """
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db
