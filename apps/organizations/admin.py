from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.html import format_html

from apps.organizations.admin_scoping import (
    TenantScopedAdmin,
    TenantScopedInline,
    adopt_saved_instance,
    is_action_confirmed,
    render_action_confirmation,
)
from apps.organizations.models import ApiKey, Membership, Organization
from apps.organizations.scoping import organization_ids_for
from apps.organizations.services import (
    api_key_create,
    api_key_revoke,
    membership_remove,
    membership_set,
)

LAST_OWNER_ERROR = "An organization needs at least one owner."


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Changing the user of a membership would be removing one member and
        # adding another in disguise: do that with two rows instead.
        if self.instance.pk and "user" in self.fields:
            self.fields["user"].disabled = True


class MembershipFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        had_owner = Membership.objects.filter(
            organization=self.instance, role=Membership.Role.OWNER
        ).exists()
        owners_left = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("role") == Membership.Role.OWNER
        ]
        if had_owner and not owners_left:
            raise forms.ValidationError(LAST_OWNER_ERROR)


class MembershipInline(TenantScopedInline):
    model = Membership
    form = MembershipForm
    formset = MembershipFormSet
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    extra = 0
    change_role = "owner"
    add_role = "owner"
    delete_role = "owner"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Users are global; an owner may pick among the members of the
        # organizations they own, never browse every account of the system.
        # New accounts (and their first membership) are a superuser's job.
        if db_field.name == "user" and not request.user.is_superuser:
            owned = organization_ids_for(request.user, "owner")
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(memberships__organization__in=owned)
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Organization)
class OrganizationAdmin(TenantScopedAdmin):
    list_display = (
        "name",
        "slug",
        "auto_register_stations",
        "accept_foreign_tokens",
        "created_at",
    )
    search_fields = ("name", "slug")
    fields = (
        "name",
        "slug",
        "auto_register_stations",
        "accept_foreign_tokens",
        "stop_token_mismatch",
        "heartbeat_interval",
        "local_list_auto_sync",
        "created_at",
    )
    inlines = [MembershipInline]
    change_role = "owner"

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        # Auto-registered stations are matched by the slug: only a superuser
        # may change it.
        if request.user.is_superuser:
            return ("created_at",)
        return ("slug", "created_at")

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("name",)} if request.user.is_superuser else {}

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        organization = form.instance
        # Changes first, removals after, so promoting a new owner and
        # removing the old one in one save never leaves the org ownerless.
        for membership in formset.save(commit=False):
            membership_set(
                organization=organization,
                user=membership.user,
                role=membership.role,
            )
        for membership in formset.deleted_objects:
            membership_remove(organization=organization, user=membership.user)


class ApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("organization", "name", "role", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    """Keys are created here (shown once) and revoked; the hash never shows."""

    list_display = (
        "name",
        "organization",
        "prefix",
        "role",
        "state",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
    )
    list_filter = ("organization", "role")
    search_fields = ("name", "prefix")
    list_select_related = ("organization", "created_by")
    actions = ["revoke_selected"]
    view_role = "owner"
    change_role = "owner"
    add_role = "owner"
    delete_role = "owner"
    organization_choice_role = "owner"

    _add_fields = ("organization", "name", "role", "expires_at")
    _change_fields = (
        "organization",
        "name",
        "role",
        "prefix",
        "state",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self._add_fields if obj is None else self._change_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "organization",
            "prefix",
            "state",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

    @admin.display(description="State")
    def state(self, obj: ApiKey) -> str:
        if obj.revoked_at:
            return "revoked"
        if obj.expires_at and obj.expires_at <= timezone.now():
            return "expired"
        return "active"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        api_key, raw_key = api_key_create(
            organization=obj.organization,
            name=obj.name,
            role=obj.role,
            expires_at=obj.expires_at,
            created_by=request.user,
        )
        adopt_saved_instance(obj, api_key)
        messages.warning(
            request,
            format_html(
                "The new API key is <code>{}</code>. Copy it now: it is shown "
                "only this once and cannot be recovered.",
                raw_key,
            ),
        )

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        queryset = self.writable_queryset(request, queryset).filter(
            revoked_at__isnull=True
        )
        if not queryset:
            self.message_user(request, "No active key selected.", messages.INFO)
            return None
        if not is_action_confirmed(request):
            return render_action_confirmation(
                self,
                request,
                queryset,
                action="revoke_selected",
                title="Revoke API keys",
                question="Programs using these keys will be refused at once. "
                "Revoke them?",
            )
        revoked = [api_key_revoke(api_key=api_key) for api_key in queryset]
        self.message_user(
            request, f"Revoked {len(revoked)} API key(s).", messages.SUCCESS
        )
        return None
