"""Pages for employer Party organisation accounts: street admins create them; an account picks its branch."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kangle.accounts.models import User
from kangle.core.errors import UserError, form_error
from kangle.core.forms import BilingualForm, errors_text
from kangle.members import party_accounts
from kangle.members.forms import PartyLinkForm
from kangle.members.models import EmployerPartyOrg
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404


class PartyAccountForm(BilingualForm):
    party_orgs = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Party organisations it acts for"),
        queryset=EmployerPartyOrg.objects.select_related("employer").order_by("name"),
        widget=forms.CheckboxSelectMultiple,
    )
    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=30, required=False)
    org = forms.CharField(label=gettext_lazy("Unit code"), max_length=64)


def _require(request) -> None:
    if not party_accounts.can_manage_party_accounts(request.user):
        raise Http404


@login_required
def party_orgs(request):
    _require(request)
    form = PartyAccountForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = get_in_scope_or_404(
                request.user, OrgUnit.objects.all(), path_field="path", code=data["org"].strip()
            )
        except Http404:
            form_error(
                form,
                UserError("unknown_org", gettext_lazy("No unit with this code in your area."), field="org"),
            )
        else:
            try:
                issued = party_accounts.party_org_account_create(
                    actor=request.user,
                    party_orgs=list(data["party_orgs"]),
                    org=org,
                    username=data["username"],
                    display_name=data["display_name"],
                    phone=data["phone"],
                )
            except UserError as exc:
                form_error(form, exc)
            else:
                form = PartyAccountForm()
    rows = EmployerPartyOrg.objects.select_related("employer", "account").order_by("name")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "members/party_orgs.html",
        {"page": page, "form": form, "issued": issued},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def party_org_link(request):
    _require(request)
    form = PartyLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return redirect("members:party-orgs")
    user = User.objects.filter(username=form.cleaned_data["username"]).first()
    chosen = list(EmployerPartyOrg.objects.filter(pk__in=form.cleaned_data["party_orgs"]))
    try:
        if user is None:
            raise UserError("unknown_user", gettext_lazy("No user with this username"), field="username")
        party_accounts.party_org_account_link(actor=request.user, party_orgs=chosen, user=user)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The account now acts for these Party organisations."))
    return redirect("members:party-orgs")
