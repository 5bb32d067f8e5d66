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

    # A name's URL, kept by the process. A page names two to five static files, and each lookup cost 17 µs with
    # a manifest (the manifest's entry, the quoting, the join with STATIC_URL) and 22 µs without one (the
    # fallback's exception). The manifest is read once per process, so a name's URL changes only when this
    # process collects again (``save_manifest``).
    URLS_KEPT = 1000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force:
            return super().url(name, force)
        found = self._urls.get(name)
        if found is None:
            if len(self._urls) >= self.URLS_KEPT:
                self._urls.clear()
            found = self._urls[name] = super().url(name)
        return found

    def save_manifest(self):
        super().save_manifest()
        self._urls.clear()
