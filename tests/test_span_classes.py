"""Each class of protected text in a Chinese sentence is one span, carried verbatim.

One table per class (see the constants of ``text/spans.py``), then the boundary cases,
the rules every span keeps (no Chinese outside backticks, no surrounding punctuation or
space), and how the spans meet the segmenter, the guard and the English finder.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import pytest

from text.segment import segment
from text.spans import PLACEHOLDERS, SpanGuard, find_latin_spans, find_spans

DATA = Path(__file__).parent / "data"
CJK_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
# What a span never ends with: spaces and sentence or Chinese punctuation. It never
# starts with one either, except a dot that opens a path (./build, .venv).
EDGE = " \t\n。，、；：？！…「」『』（）【】《》“”‘’.,:?!"
START_EDGE = EDGE.replace(".", "")


def spans_of(text: str) -> list[str]:
    return [text[a:b] for a, b in find_spans(text)]


def latin_spans_of(text: str) -> list[str]:
    return [text[a:b] for a, b in find_latin_spans(text)]


CLASSES: dict[str, list[tuple[str, list[str]]]] = {
    "signed_numbers_and_ranges": [
        ("温度降到-5度", ["-5"]),
        ("比上一代提升+3.5分", ["+3.5"]),
        ("适用温度：-5°C至40°C", ["-5°C", "40°C"]),
        ("预计3-5天送达", ["3-5"]),
        ("承重10~20kg", ["10~20kg"]),
        ("承重10～20kg", ["10～20kg"]),
        ("售价1,299.00元", ["1,299.00"]),
        ("误差±0.5毫米", ["±0.5"]),
        ("编号１２３４５", ["１２３４５"]),
        ("工作温度 -10°C ~ +45°C", ["-10°C ~ +45°C"]),
        ("电话 +86 138-0000-0000", ["+86 138-0000-0000"]),
    ],
    "units_and_degrees": [
        ("冷藏保存，温度不超过5°C。", ["5°C"]),
        ("体温37.5℃", ["37.5℃"]),
        ("屏幕尺寸15.6英寸", ["15.6"]),  # the Chinese unit word is translated
        ("净重100kg", ["100kg"]),
        ("厚度5mm", ["5mm"]),
        ("支持2.4GHz频段", ["2.4GHz"]),
        ("内存256GB", ["256GB"]),
        ("适用面积20-35㎡", ["20-35㎡"]),
        ("旋转90°即可", ["90°"]),
        ("面积5m²", ["5m²"]),
        ("华氏98.6°F", ["98.6°F"]),
    ],
    "currency": [
        ("国庆大促，直降¥1,299.00！", ["¥1,299.00"]),
        ("现价￥99，原价￥159。", ["￥99", "￥159"]),
        ("售价 $5", ["$5"]),
        ("仅需€3。", ["€3"]),
        ("运费£20", ["£20"]),
        ("约合US$10", ["US$10"]),
        ("优惠：-¥200.00", ["-¥200.00"]),
    ],
    "percentages": [
        ("好评率50%", ["50%"]),
        ("准确率99.9%，很高", ["99.9%"]),
        ("打八折即８０％", ["８０％"]),
        ("续航提升+30%。", ["+30%"]),
        ("材质：100%纯棉", ["100%"]),
        ("千分之三即3‰", ["3‰"]),
    ],
    "dimensions": [
        ("分辨率：1920*1080", ["1920*1080"]),
        ("分辨率1920×1080的屏幕", ["1920×1080"]),
        ("尺寸：3x4米", ["3x4"]),
        # Latin words and numbers joined by single spaces, like "iPhone 15 Pro".
        ("尺寸 10 x 20 cm 的盒子", ["10 x 20 cm"]),
        ("显示器 2560*1440", ["2560*1440"]),
        ("画布 1920 × 1080 像素", ["1920 × 1080"]),
        ("浴巾 70*140cm 吸水", ["70*140cm"]),
        ("长120cm×宽60cm", ["120cm", "60cm"]),
    ],
    "dates_and_times": [
        ("截止2025-06-18。", ["2025-06-18"]),
        ("截止2025/06/18。", ["2025/06/18"]),
        ("每日14:30前下单", ["14:30"]),
        ("倒计时 14:30:05", ["14:30:05"]),
        ("活动截止时间为2025-06-18 14:30。", ["2025-06-18 14:30"]),
        ("例如 2025-03-14T09:30:00Z 表示", ["2025-03-14T09:30:00Z"]),
    ],
    "versions": [
        ("当前稳定版本为 v2.3.1。", ["v2.3.1"]),
        ("预览版 2.3.1-beta 已发布", ["2.3.1-beta"]),
        ("需要 Python 3.11 或更高版本。", ["Python 3.11"]),
        ("从 v3.0.0 开始", ["v3.0.0"]),
        ("支持蓝牙5.0", ["5.0"]),
        ("升级依赖 lodash 到 4.17.21。", ["lodash", "4.17.21"]),
    ],
    "identifiers_and_code": [
        ("调用 foo() 会返回", ["foo()"]),
        ("调用 foo(bar, 1) 即可", ["foo(bar, 1)"]),
        ("dayjs.utc() 以 UTC 模式解析", ["dayjs.utc()", "UTC"]),
        ("配置文件 config.yaml 已更新", ["config.yaml"]),
        ("使用 os.path.join 拼接路径", ["os.path.join"]),
        ("添加 --verbose 参数", ["--verbose"]),
        ("加上 -o 选项", ["-o"]),
        ("运行 npm install dayjs 安装。", ["npm install dayjs"]),
        ("使用 pip install -U foo 升级", ["pip install -U foo"]),
        ("函数名使用 snake_case_name，好", ["snake_case_name"]),
        ("缓存在 $HOME 下", ["$HOME"]),
        ("读取 ${VAR} 的值", ["${VAR}"]),
        ("已加入 PATH。", ["PATH"]),
        ("重写 __init__() 方法", ["__init__()"]),
        ("构造函数 new Client(options) 会", ["new Client(options)"]),
        ("按 Ctrl+C 停止", ["Ctrl+C"]),
        ("精通C++和C#开发", ["C++", "C#"]),
        ("写作 $env:PATH。", ["$env:PATH"]),
    ],
    "backtick_code": [
        ("运行 `make test` 执行", ["`make test`"]),
        ("代码 `anything here, even 中文` 保留", ["`anything here, even 中文`"]),
        ("默认位于 `config.yaml`。", ["`config.yaml`"]),
        ("``a `b` c`` 是双反引号", ["``a `b` c``"]),
        ("`-o, --output <file>`：指定输出文件。", ["`-o, --output <file>`"]),
        ("`parse()` 已弃用，请改用 `parseAsync()`。", ["`parse()`", "`parseAsync()`"]),
    ],
    "file_paths": [
        ("主配置文件是 /etc/nginx/nginx.conf。", ["/etc/nginx/nginx.conf"]),
        ("配置位于 ~/.config/app 下", ["~/.config/app"]),
        ("运行 ./build 脚本", ["./build"]),
        ("安装到 C:\\Program Files\\App 目录", ["C:\\Program Files\\App"]),
        ("入口是 src/main.rs。", ["src/main.rs"]),
        ("截图保存在 docs/images/ 目录下。", ["docs/images/"]),
        ("路径为/etc/hosts。", ["/etc/hosts"]),
        ("激活后出现 (.venv)。", [".venv"]),
        ("位于 %APPDATA%\\Widget 目录", ["%APPDATA%\\Widget"]),
        ("上级目录 ../lib 里", ["../lib"]),
    ],
    "urls_and_emails": [
        ("访问 https://a.cn/x。", ["https://a.cn/x"]),
        ("网址 www.example.com，好", ["www.example.com"]),
        ("见（https://x.org/a）", ["https://x.org/a"]),
        (
            "见 https://en.wikipedia.org/wiki/Foo_(bar)。",
            ["https://en.wikipedia.org/wiki/Foo_(bar)"],
        ),
        ("新款iPhone https://apple.com 发布", ["iPhone", "https://apple.com"]),
        (
            "连接串 postgresql://user:pw@localhost:5432/db 即可",
            ["postgresql://user:pw@localhost:5432/db"],
        ),
        ("邮件至 dev@example.org。", ["dev@example.org"]),
        ("联系 first.last+tag@mail.example.co.uk！", ["first.last+tag@mail.example.co.uk"]),
    ],
    "latin_words": [
        ("Pokémon 正版公仔", ["Pokémon"]),
        ("法式café风", ["café"]),
        ("naïve 的做法", ["naïve"]),
        ("单位 Ångström 很小", ["Ångström"]),
        ("街道 Straße 的意思", ["Straße"]),
        ("Œuvre 全集", ["Œuvre"]),
        ("crème brûlée 风味", ["crème brûlée"]),
        ("越南语 Tiếng Việt 课程", ["Tiếng Việt"]),
        ("8÷2等于4", ["8", "2", "4"]),  # ÷ is no letter
    ],
    "hashtags_and_mentions": [
        ("#summer2025 夏日穿搭", ["#summer2025"]),
        ("#OOTD 今日穿搭分享", ["#OOTD"]),
        ("关注 @alice 领取", ["@alice"]),
        ("感谢 @dev-team 的支持", ["@dev-team"]),
        ("关注 @HomeLabStore。", ["@HomeLabStore"]),
        ("#summer2025#夏天", ["#summer2025#"]),
        # A tag written in Chinese has to be translated: not masked.
        ("#夏日好物推荐# 这款小风扇", []),
        ("感谢 @小林的厨房 的测评", []),
        ("以 # 开头的行", []),
    ],
    "format_placeholders": [
        ("%s 会被替换为用户名", ["%s"]),
        ("共 %d 条消息", ["%d"]),
        ("位置参数 %1$s 和 %2$d", ["%1$s", "%2$d"]),
        ("保留两位 %.2f 即可", ["%.2f"]),
        ("模板中的 {name} 会", ["{name}"]),
        ("第一个参数 {0} 是", ["{0}"]),
        ("使用 {{count}} 显示", ["{{count}}"]),
        ("变量 ${name} 会展开", ["${name}"]),
        ("命令替换 $(VAR) 的结果", ["$(VAR)"]),
        ('格式 "%Y-%m-%d %H:%M:%S" 定义', ["%Y-%m-%d %H:%M:%S"]),
        ("你好，{name}！", ["{name}"]),
        ("保留 {value:.2f} 两位", ["{value:.2f}"]),
    ],
    "html_tags_and_entities": [
        ("渲染为一个 <div> 元素", ["<div>"]),
        ("段落以 </p> 结束", ["</p>"]),
        ("过滤 <img src=x onerror=alert(1)> 这种输入", ["<img src=x onerror=alert(1)>"]),
        ("换行用 <br/> 标签", ["<br/>"]),
        ("使用 &nbsp; 而不是", ["&nbsp;"]),
        ("转义为 &amp; 符号", ["&amp;"]),
        ("单引号写作 &#39; 即可", ["&#39;"]),
        ("十六进制 &#x27; 也行", ["&#x27;"]),
        ("如果 a < b 且 c > d", ["a", "b", "c", "d"]),  # comparisons are no tags
    ],
    "emoji": [
        ("好评😀", ["😀"]),
        ("点赞👍🏽", ["👍🏽"]),
        ("一家人👨\u200d👩\u200d👧出游", ["👨\u200d👩\u200d👧"]),
        ("❤️ 超过10万人的选择", ["❤️", "10"]),
        ("中国🇨🇳加油", ["🇨🇳"]),
        ("⭐⭐⭐⭐⭐ 五星好评", ["⭐⭐⭐⭐⭐"]),
        ("按1️⃣选择", ["1️⃣"]),
        ("好评率高达99%😀", ["99%", "😀"]),
    ],
}

BOUNDARIES: list[tuple[str, list[str]]] = [
    ("没有任何拉丁字母。", []),
    ("- 新增：支持 Redis 集群", ["Redis"]),  # a list dash is no sign
    ("注意 - 不要", []),
    ("1. 打开包装。", ["1"]),
    ("Hello world. Second", ["Hello world", "Second"]),
    ("Wait... then", ["Wait", "then"]),
    ("价格25元/kg", ["25", "kg"]),  # "/" after a Chinese character is no path root
    ("有机绿茶 250g/罐", ["250g"]),
    ("两个空格 a  b 不连", ["a", "b"]),  # only a single space joins
    ("末尾 abc 。", ["abc"]),
    ("婴儿湿巾 80抽×12包", ["80", "12"]),
    ("- 主机 ×1", ["1"]),
    ("50% 的人", ["50%"]),
    ("定时 0 3 * * * 执行", ["0 3"]),
    ("2.4G+蓝牙双模", ["2.4G+"]),
    ("月销2000+", ["2000+"]),
    ("100积分=￥1。", ["100", "￥1"]),
    ("版本:v2", ["v2"]),
    ('标签 <a title="你好"> 不算', ["a title"]),  # a tag holding Chinese is no span
    ("图标\ue000和\ue001", ["\ue000", "\ue001"]),
]


def _class_cases() -> list[pytest.ParameterSet]:
    return [
        pytest.param(text, expected, id=f"{name}-{i}")
        for name, rows in CLASSES.items()
        for i, (text, expected) in enumerate(rows)
    ]


@pytest.mark.parametrize(("text", "expected"), _class_cases())
def test_each_class_is_one_verbatim_span(text, expected):
    assert spans_of(text) == expected


@pytest.mark.parametrize("name", list(CLASSES))
def test_every_class_has_at_least_five_positive_cases(name):
    assert sum(1 for _, expected in CLASSES[name] if expected) >= 5


@pytest.mark.parametrize(("text", "expected"), BOUNDARIES)
def test_boundaries(text, expected):
    assert spans_of(text) == expected


# --- rules every span keeps ---------------------------------------------------------------


def _corpus() -> list[str]:
    texts = [text for rows in CLASSES.values() for text, _ in rows]
    texts += [text for text, _ in BOUNDARIES]
    for name in ("product_copy.tsv", "docs.tsv"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            texts += line.split("\t")[1:2]
    return texts


def test_spans_keep_the_rules_on_every_example_and_dev_sentence():
    for text in _corpus():
        offsets = find_spans(text)
        assert offsets == sorted(offsets), text
        assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(offsets)), text
        for a, b in offsets:
            span = text[a:b]
            assert span, text
            if span.startswith("`"):
                continue  # code in backticks is taken whole
            assert not CJK_RE.search(span), (span, text)
            assert span[0] not in START_EDGE, (span, text)
            assert span[-1] not in EDGE, (span, text)


def test_dev_sets_carry_the_new_classes():
    texts = _corpus()
    found = {s for text in texts for s in spans_of(text)}
    for span in ("¥1,299.00", "-10°C ~ +45°C", "Pokémon", "{{count}}", "&nbsp;", "❤️"):
        assert span in found


# --- the segmenter, the guard and the English finder --------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请使用 &nbsp; 而不是普通空格。", ["请使用 &nbsp; 而不是普通空格。"]),
        ("运行 `echo 好。再见` 即可。", ["运行 `echo 好。再见` 即可。"]),
        ("见 https://a.cn/x?q=1。谢谢", ["见 https://a.cn/x?q=1。", "谢谢"]),
        ("当前版本 v2.3.1. 然后", ["当前版本 v2.3.1.", "然后"]),
        ("价格 ¥1,299.00。包邮", ["价格 ¥1,299.00。", "包邮"]),
    ],
)
def test_sentence_ends_inside_spans_are_no_ends(text, expected):
    assert [piece.text for piece in segment(text).pieces] == expected


def test_placeholder_round_trip_with_new_classes():
    guard = SpanGuard("placeholder")
    text = "温度 -5°C，价格¥1,299.00，运行 `make test`，见 https://a.cn/x。"
    protected = guard.protect(text)
    p0, p1, p2, p3 = PLACEHOLDERS[:4]
    assert protected.spans == ("-5°C", "¥1,299.00", "`make test`", "https://a.cn/x")
    assert protected.text == f"温度 {p0}，价格{p1}，运行 {p2}，见 {p3}。"
    output = f"At {p0}, price {p1}; run {p2}, see {p3}."
    assert guard.restore(output, protected) == (
        "At -5°C, price ¥1,299.00; run `make test`, see https://a.cn/x."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Visit https://example.com/a. Then", ["https://example.com/a"]),
        ("Use %s and {name} or {{count}}, 50% of users.", ["%s", "{name}", "{{count}}", "50%"]),
        ("Run `make test` now 😀", ["`make test`", "😀"]),
        ("Some <b>bold</b> &amp; more", ["<b>", "</b>", "&amp;"]),
        ("Mail a@b.cn about 3.5 kg at $5", ["a@b.cn", "3.5", "$5"]),  # numbers, no words
        ("At 10:30, 1,299 items, -5 or 2.0.", ["10:30", "1,299", "-5", "2.0"]),
        ("MP3 and 3rd and 5kg", []),  # inside words: the model's to translate
        ("Plain English text.", []),
    ],
)
def test_latin_finder_protects_what_no_translation_changes_and_numbers(text, expected):
    assert latin_spans_of(text) == expected


@pytest.mark.parametrize(
    "unit",
    ["a.", "a_", "_", ".", "-a", "a ", "<a ", "f(", "{a", "%1", "1 ~", "a@", "``a", "/.", "中文"],
)
def test_no_pathological_slowdown(unit):
    text = unit * 20_000
    started = time.perf_counter()
    find_spans(text)
    find_latin_spans(text)
    assert time.perf_counter() - started < 2.0
