from django import forms


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"placeholder": "Name"}))
    listing_reference = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Listing ref."}),
    )
    address = forms.CharField(
        max_length=300, required=False, widget=forms.TextInput(attrs={"placeholder": "Address"})
    )
    agency = forms.IntegerField(required=False)
