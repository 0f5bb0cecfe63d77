from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Agency, Invitation, Membership, User
from accounts.services import invitation_resend, user_disable, user_sessions_end
from photolisting.errors import ApplicationError


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]
    actions = ["disable_users", "end_sessions"]

    @admin.action(description=_("Disable selected users and end their sessions"))
    def disable_users(self, request, queryset) -> None:
        users = list(queryset.exclude(pk=request.user.pk))
        ended = sum(user_disable(user=user) for user in users)
        self.message_user(
            request,
            ngettext(
                "%(users)d user disabled, %(sessions)d session(s) ended.",
                "%(users)d users disabled, %(sessions)d session(s) ended.",
                len(users),
            )
            % {"users": len(users), "sessions": ended},
            messages.SUCCESS,
        )

    @admin.action(description=_("Sign selected users out everywhere (browser and apps)"))
    def end_sessions(self, request, queryset) -> None:
        ended = sum(user_sessions_end(user=user) for user in queryset)
        self.message_user(
            request,
            ngettext("%(sessions)d session ended.", "%(sessions)d sessions ended.", ended)
            % {"sessions": ended},
            messages.SUCCESS,
        )


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(ordering="member_count", description="members")
    def member_count(self, agency: Agency) -> int:
        return agency.member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "agency"]
    search_fields = ["user__email", "agency__name"]
    autocomplete_fields = ["user", "agency"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "agency", "role", "invited_by", "expires_at", "accepted_at"]
    list_filter = ["role", "accepted_at"]
    list_select_related = ["agency", "invited_by"]
    search_fields = ["email", "agency__name"]
    fields = ["email", "agency", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    readonly_fields = fields  # invitations are made by agency admins on the team page
    actions = ["resend"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Send selected invitations again"))
    def resend(self, request, queryset) -> None:
        sent = 0
        for invitation in queryset:
            try:
                invitation_resend(invitation=invitation)
                sent += 1
            except ApplicationError as error:
                self.message_user(request, f"{invitation.email}: {error.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext("%d invitation sent again.", "%d invitations sent again.", sent) % sent,
            messages.SUCCESS,
        )
