"""The recognition section of the member file: letters and honour nominations with their results."""

from kangle.recognition.models import CommendationLetter, Nomination


def member_panel(request, member) -> dict | None:
    letters = list(CommendationLetter.objects.filter(member=member).order_by("-id")[:10])
    nominations = list(Nomination.objects.filter(member=member).order_by("-nominated_at")[:10])
    if not letters and not nominations:
        return None
    return {"letters": letters, "nominations": nominations}
