"""Static files: hashed names with far-future cache headers once collected; plain names before."""

from __future__ import annotations

from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings


def test_uncollected_static_names_fall_back_to_the_plain_name():
    assert static("cases/cases.css") == "/static/cases/cases.css"


def test_collected_static_files_are_hashed_and_cached_for_a_year(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path, WHITENOISE_USE_FINDERS=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        url = static("cases/cases.css")
        assert (
            url != "/static/cases/cases.css"
            and url.startswith("/static/cases/cases.")
            and url.endswith(".css")
        )
        response = Client().get(url)
        assert response.status_code == 200
        assert "max-age=315360000" in response["Cache-Control"] and "immutable" in response["Cache-Control"]
        plain = Client().get("/static/cases/cases.css")
        assert plain.status_code == 200 and "immutable" not in plain["Cache-Control"]


def test_a_static_url_kept_by_the_process_follows_a_collection_the_process_makes(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path, WHITENOISE_USE_FINDERS=False):
        assert static("cases/cases.css") == "/static/cases/cases.css"  # kept, before any collection
        call_command("collectstatic", interactive=False, verbosity=0)
        url = static("cases/cases.css")
        assert url != "/static/cases/cases.css" and url.startswith("/static/cases/cases.")
        assert static("cases/cases.css") == url


def test_the_kept_urls_are_bounded():
    from django.contrib.staticfiles.storage import staticfiles_storage

    static("cases/cases.css")  # the storage behind its lazy proxy is made
    storage = staticfiles_storage._wrapped
    for index in range(storage.URLS_KEPT + 5):
        storage.url(f"nowhere/{index}.css")
    assert len(storage._urls) <= storage.URLS_KEPT
    assert storage.url("cases/cases.css") == "/static/cases/cases.css"
