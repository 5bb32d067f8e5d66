import pytest


@pytest.mark.django_db
def test_secretary_home_shows_own_community_not_the_neighbour(client, personas):
    client.force_login(personas.secretary_a)
    page = client.get("/").content.decode()
    assert "康乐居民区" in page
    assert "桂林苑居民区" not in page
