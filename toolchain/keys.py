"""``zh-en-translator keys``: the line an API key takes in ``api_keys_file``.

    zh-en-translator keys KEY [--name NAME] [--rate 60/minute] [--chars 100000/day]
    zh-en-translator keys --new [--name NAME] ...   # make a random key first

Prints ``sha256-hex [name] [rate=...] [chars=...]``: only the digest is stored, so the
file reveals no key. With ``--new`` the key itself goes to stderr, once: hand it to the
client; it cannot be recovered from the file.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Sequence

from web.auth import hash_key, parse_key_line

logger = logging.getLogger(__name__)

NEW_KEY_BYTES = 32


def key_line(key: str, name: str = "", rate: str = "", chars: str = "") -> str:
    """The key file line for *key*; SettingsError if a quota is malformed."""
    fields = [
        hash_key(key),
        name,
        f"rate={rate}" if rate else "",
        f"chars={chars}" if chars else "",
    ]
    line = " ".join(f for f in fields if f)
    parse_key_line(line, "the new line")  # the service must accept what is printed
    return line


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="zh-en-translator keys", description=__doc__)
    parser.add_argument("key", nargs="?", help="the key to hash (or use --new)")
    parser.add_argument("--new", action="store_true", help="make a random key")
    parser.add_argument("--name", default="", help="a name for logs and the limits")
    parser.add_argument("--rate", default="", help="this key's rate limit, e.g. 60/minute")
    parser.add_argument("--chars", default="", help="its characters quota, e.g. 100000/day")
    args = parser.parse_args(argv)
    if bool(args.key) == args.new:
        parser.error("give a KEY or --new (not both)")
    key = secrets.token_urlsafe(NEW_KEY_BYTES) if args.new else args.key
    try:
        line = key_line(key, args.name, args.rate, args.chars)
    except ValueError as exc:
        sys.stderr.write(f"keys: {exc}\n")
        return 2
    if args.new:
        sys.stderr.write(f"new API key (shown once): {key}\n")
    sys.stdout.write(line + "\n")
    return 0
