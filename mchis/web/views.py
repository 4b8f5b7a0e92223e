from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mchis.core.cards import home_cards, returned_to_me


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Home page per role: each role sees the cards of its own work."""
    return render(
        request,
        "web/home.html",
        {"cards": home_cards(request.user), "returned": returned_to_me(request.user)},
    )
