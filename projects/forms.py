from django import forms
from django.utils.translation import gettext_lazy as _


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"placeholder": _("Name")}))
    listing_reference = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Listing ref.")}),
    )
    address = forms.CharField(
        max_length=300, required=False, widget=forms.TextInput(attrs={"placeholder": _("Address")})
    )
    agency = forms.IntegerField(required=False)
