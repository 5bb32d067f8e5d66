"""Static files with content hashes in their names, so browsers may keep them for a year.

`kangle up` collects the static files into ``STATIC_ROOT`` with a manifest of hashed names; whitenoise
then serves those names with far-future, immutable cache headers. Where nothing was collected (tests,
``kangle manage runserver``), a name falls back to the plain one, served by whitenoise from the app
folders with its short default cache time, instead of failing the page.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: no manifest entry and no file to hash
            return name
