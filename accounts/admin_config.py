"""django.contrib.admin with our site, named in INSTALLED_APPS: the staff sign-in rules of
accounts/admin_site.py, extended with sections, audit and dashboard by backoffice/site.py."""

from django.contrib.admin.apps import AdminConfig


class PhotoListingAdminConfig(AdminConfig):
    default_site = "backoffice.site.AdminSite"
