"""Reading files out of downloaded packages: Debian ``.deb`` (ar + tar), wheels, npm tarballs.

Everything here uses the standard library. A ``.deb`` is an ``ar`` archive whose
``data.tar.*`` member holds the file system tree; ``.xz``/``.gz``/``.bz2`` members are
opened with :mod:`tarfile`, a ``.zst`` member (not used by Debian 12) goes through
``dpkg-deb --fsys-tarfile`` when that tool exists.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

_AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60


class ArchiveError(RuntimeError):
    """A package file is not what its name says."""


def read_ar(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, content)`` for each member of an ``ar`` archive held in memory."""
    if not data.startswith(_AR_MAGIC):
        raise ArchiveError("not an ar archive")
    pos = len(_AR_MAGIC)
    while pos + _AR_HEADER <= len(data):
        header = data[pos : pos + _AR_HEADER]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        pos += _AR_HEADER
        yield name, data[pos : pos + size]
        pos += size + (size % 2)


def _member(deb: Path, prefix: str) -> tuple[str, bytes]:
    for name, content in read_ar(deb.read_bytes()):
        if name.startswith(prefix):
            return name, content
    raise ArchiveError(f"{deb.name}: no {prefix}* member")


def _open_tar(name: str, content: bytes, deb: Path) -> tarfile.TarFile:
    if name.endswith(".zst"):
        if shutil.which("dpkg-deb") is None:
            raise ArchiveError(f"{deb.name}: zstd member and no dpkg-deb to read it")
        if name.startswith("control"):
            args = ["dpkg-deb", "--ctrl-tarfile", str(deb)]
        else:
            args = ["dpkg-deb", "--fsys-tarfile", str(deb)]
        out = subprocess.run(args, check=True, capture_output=True).stdout
        return tarfile.open(fileobj=io.BytesIO(out), mode="r:")
    return tarfile.open(fileobj=io.BytesIO(content), mode="r:*")


def _clean_name(name: str) -> str:
    return name[2:] if name.startswith("./") else name.lstrip("/")


def iter_deb_files(deb: Path, pattern: re.Pattern[str]) -> Iterator[tuple[str, bytes]]:
    """Yield ``(path, content)`` for regular files of a ``.deb`` whose path matches."""
    name, content = _member(deb, "data.tar")
    with _open_tar(name, content, deb) as tar:
        for info in tar:
            path = _clean_name(info.name)
            if info.isfile() and pattern.search(path):
                handle = tar.extractfile(info)
                if handle is not None:
                    yield path, handle.read()


def deb_control(deb: Path) -> dict[str, str]:
    """The fields of a ``.deb``'s ``control`` file (Package, Version, ...)."""
    name, content = _member(deb, "control.tar")
    with _open_tar(name, content, deb) as tar:
        for info in tar:
            if _clean_name(info.name) == "control":
                handle = tar.extractfile(info)
                if handle is not None:
                    return parse_control(handle.read().decode("utf-8"))
    raise ArchiveError(f"{deb.name}: no control file")


def parse_control(text: str) -> dict[str, str]:
    """Parse a deb822 paragraph: ``Field: value`` lines, indented lines continue."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line[:1] in {" ", "\t"} and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return fields


def iter_zip_files(path: Path, pattern: re.Pattern[str]) -> Iterator[tuple[str, bytes]]:
    """Yield ``(path, content)`` for members of a zip (wheel) whose path matches."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir() and pattern.search(info.filename):
                yield info.filename, archive.read(info)


def iter_tgz_files(path: Path, pattern: re.Pattern[str]) -> Iterator[tuple[str, bytes]]:
    """Yield ``(path, content)`` for regular files of a tarball (npm pack) that match."""
    with tarfile.open(path, mode="r:*") as tar:
        for info in tar:
            if info.isfile() and pattern.search(info.name):
                handle = tar.extractfile(info)
                if handle is not None:
                    yield _clean_name(info.name), handle.read()


def iter_files(path: Path, pattern: re.Pattern[str]) -> Iterator[tuple[str, bytes]]:
    """Dispatch on the package kind by file name."""
    if path.suffix == ".deb":
        return iter_deb_files(path, pattern)
    if path.suffix in {".whl", ".zip"}:
        return iter_zip_files(path, pattern)
    if path.name.endswith((".tgz", ".tar.gz")):
        return iter_tgz_files(path, pattern)
    raise ArchiveError(f"unknown package kind: {path.name}")


def read_one(path: Path, pattern: re.Pattern[str]) -> bytes:
    """The content of the single member matching ``pattern`` (first one if several)."""
    for _name, content in iter_files(path, pattern):
        return content
    raise ArchiveError(f"{path.name}: nothing matches {pattern.pattern!r}")
