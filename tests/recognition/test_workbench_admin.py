"""Recognition from the workbench: nominating with a scoped member picker; writing, illustrating, publishing
and unpublishing member stories (script in the text is shown as text, not run)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kangle.core.roles import Role
from kangle.recognition.models import Nomination, Story, StoryPhoto, StoryStatus
from personas import make_user

pytestmark = pytest.mark.django_db


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_nominating_with_the_member_picker(client, personas, member_a, member_b):
    client.force_login(personas.secretary_a)
    page = client.get("/recognition/nominations/", {"q": member_a.name})
    assert list(page.context["matches"]) == [member_a]
    assert list(client.get("/recognition/nominations/", {"q": member_b.name}).context["matches"]) == []
    response = client.post(
        "/recognition/nominations/",
        {
            "action": "nominate",
            "member": member_a.pk,
            "honour": "excellent_member",
            "reason": "服务时长全街道第一",
        },
    )
    assert response.status_code == 302
    assert Nomination.objects.filter(member=member_a).exists()
    # A member outside the secretary's community: 404, nothing written.
    response = client.post(
        "/recognition/nominations/",
        {"action": "nominate", "member": member_b.pk, "honour": "excellent_member", "reason": "x"},
    )
    assert response.status_code == 404 and not Nomination.objects.filter(member=member_b).exists()


def test_writing_illustrating_publishing_a_story(client, personas):
    client.force_login(personas.secretary_a)
    response = client.post(
        "/recognition/manage/stories/",
        {
            "org": "KJ-C01",
            "title": "楼道里的灯",
            "summary": "",
            "body": "<script>alert('x')</script>王师傅修好了灯",
        },
    )
    assert response.status_code == 302
    story = Story.objects.get(title="楼道里的灯")
    response = client.post(
        f"/recognition/manage/stories/{story.pk}/photos/", {"photo": SimpleUploadedFile("a.png", png())}
    )
    assert response.status_code == 302
    photo = StoryPhoto.objects.get(story=story)
    # Not an image: refused, nothing stored.
    client.post(
        f"/recognition/manage/stories/{story.pk}/photos/", {"photo": SimpleUploadedFile("b.png", b"MZ..")}
    )
    assert StoryPhoto.objects.filter(story=story).count() == 1
    client.logout()
    assert client.get(f"/files/story-photo/{photo.pk}/").status_code == 404  # a draft's photo is not public
    client.force_login(personas.secretary_a)
    client.post(f"/recognition/manage/stories/{story.pk}/publish/", {"publish": "1"})
    assert Story.objects.get(pk=story.pk).status == StoryStatus.PUBLISHED
    client.logout()
    page = client.get(f"/recognition/stories/{story.pk}/").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert client.get(f"/files/story-photo/{photo.pk}/").status_code == 200
    client.force_login(personas.secretary_a)
    client.post(f"/recognition/manage/stories/{story.pk}/publish/", {"publish": "0"})
    client.logout()
    assert client.get(f"/recognition/stories/{story.pk}/").status_code == 404


def test_the_member_navigation_links_to_the_public_stories(client, personas):
    client.force_login(personas.member)
    # Five tabs at most: the stories page is reached from 我的, which lists every phone page not in the bar.
    page = client.get("/accounts/me/").content.decode()
    assert 'href="/recognition/stories/"' in page


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary_b", "other_admin"])
def test_wrong_roles_and_outsiders(client, personas, who):
    story = Story.objects.create(
        org=personas.tree.community_a, title="草稿", body="x", created_at="2026-06-01T00:00:00Z"
    )
    if who == "other_admin":
        client.force_login(make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street))
    elif who != "anonymous":
        client.force_login(getattr(personas, who))
    # A member is refused the staff page outright (403); staff outside the story's subtree get a 404.
    expected = {"anonymous": 302, "member": 403}.get(who, 404)
    assert client.get(f"/recognition/manage/stories/{story.pk}/").status_code == expected
    assert (
        client.post(f"/recognition/manage/stories/{story.pk}/publish/", {"publish": "1"}).status_code
        == expected
    )
    response = client.post(
        f"/recognition/manage/stories/{story.pk}/photos/", {"photo": SimpleUploadedFile("a.png", png())}
    )
    assert response.status_code == expected
    assert Story.objects.get(pk=story.pk).status == StoryStatus.DRAFT and not StoryPhoto.objects.exists()
    if who in ("secretary_b", "other_admin"):
        assert story not in client.get("/recognition/manage/stories/").context["stories"]
