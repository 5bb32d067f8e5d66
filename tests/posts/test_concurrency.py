"""Capacity is exact under concurrency: real threads against PostgreSQL, each with its own connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kangle.accounts.services import user_create
from kangle.core.errors import UserError
from kangle.posts import services
from kangle.posts.models import Claim, ClaimStatus, Post, PostStatus

from .conftest import make_member, make_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


# The server's max_connections is shared with other databases: at most this many threads hold a connection at
# once; all threads start together at a barrier and race for those connections and for the post's row lock.
CONNECTIONS = 25


def _run_all(work, n):
    barrier = threading.Barrier(n)
    slots = threading.BoundedSemaphore(CONNECTIONS)
    outcomes = [None] * n

    def run(i):
        barrier.wait()
        with slots:
            try:
                outcomes[i] = work(i)
            except UserError as exc:
                outcomes[i] = exc.code
            finally:
                connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_hundred_members_claim_a_capacity_ten_post(personas):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, capacity=10)
    users = [user_create(actor=None, username=f"racer{i}", password=None) for i in range(100)]
    for i, user in enumerate(users):
        make_member(t.community_a, user=user, slots=["sat_am"], name=f"党员{i}")

    outcomes = _run_all(
        lambda i: services.claim_create(actor=users[i], post=Post.objects.get(pk=post.pk)).pk, 100
    )

    post.refresh_from_db()
    won = [o for o in outcomes if isinstance(o, int)]
    assert len(won) == 10
    assert sorted(o for o in outcomes if not isinstance(o, int)) == ["post_full"] * 90
    assert Claim.objects.filter(post=post, status=ClaimStatus.CONFIRMED).count() == 10
    assert post.claimed_count == 10 and post.status == PostStatus.FULL


def test_one_member_racing_two_clashing_posts_gets_one(personas):
    t = personas.tree
    user = user_create(actor=None, username="racer", password=None)
    make_member(t.community_a, user=user, slots=["sat_am"])
    posts = [
        make_post(personas.secretary_a, t.community_a, title=f"岗位{i}", weekly_slots=["sat_am"])
        for i in range(8)
    ]

    outcomes = _run_all(
        lambda i: services.claim_create(actor=user, post=Post.objects.get(pk=posts[i].pk)).pk, 8
    )

    assert len([o for o in outcomes if isinstance(o, int)]) == 1
    assert sorted(o for o in outcomes if not isinstance(o, int)) == ["schedule_clash"] * 7
