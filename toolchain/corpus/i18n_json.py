"""Key-aligned pairs from the JSON message files of JavaScript apps (npm packages).

Admin dashboards of shop software ship one nested JSON object per language, the same keys
in each: the English and the Chinese value of a key are a pair. ICU plural and select
messages are left out (their Chinese keeps only the forms Chinese has, so the two sides
no longer say the same thing); other ``{name}`` placeholders are handled by the cleaner.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from toolchain.corpus.archives import iter_files

log = logging.getLogger(__name__)

_ICU_BRANCH_RE = re.compile(r"\{\s*\w+\s*,\s*(?:plural|select|selectordinal)\s*,")


def flatten(tree: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": "x"}}`` → ``{"a.b": "x"}``; values that are not strings are dropped."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, path + "."))
        elif isinstance(value, str):
            flat[path] = value
    return flat


def key_pairs(
    english: Mapping[str, object], chinese: Mapping[str, object]
) -> Iterator[tuple[str, str]]:
    """``(english, chinese)`` for every key translated in both, in the English order."""
    en, zh = flatten(english), flatten(chinese)
    for key, text in en.items():
        other = zh.get(key, "").strip()
        if not text.strip() or not other or other == text.strip():
            continue
        if _ICU_BRANCH_RE.search(text) or _ICU_BRANCH_RE.search(other):
            continue
        yield text, other


def extract_json_messages(
    paths: list[Path], english: re.Pattern[str], chinese: re.Pattern[str]
) -> Iterator[tuple[str, str]]:
    """Pairs from the English and Chinese message files found in each package."""
    for package in paths:
        files = {name: content for name, content in iter_files(package, english)}
        files |= {name: content for name, content in iter_files(package, chinese)}
        en = [json.loads(c) for n, c in files.items() if english.search(n)]
        zh = [json.loads(c) for n, c in files.items() if chinese.search(n)]
        if len(en) != 1 or len(zh) != 1:
            log.warning(
                "%s: %d English and %d Chinese message files", package.name, len(en), len(zh)
            )
            continue
        yield from key_pairs(en[0], zh[0])


MEDUSA_EN = re.compile(r"^package/src/i18n/translations/en\.json$")
MEDUSA_ZH = re.compile(r"^package/src/i18n/translations/zhCN\.json$")
VENDURE_EN = re.compile(r"^package/static/i18n-messages/en\.json$")
VENDURE_ZH = re.compile(r"^package/static/i18n-messages/zh_Hans\.json$")
