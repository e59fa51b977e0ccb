#!/usr/bin/env python
"""This service vs LibreTranslate 1.9.6 on the same model (toolchain/bench/service.py).

    python scripts/bench_service.py --setup   # build/lt-venv: LibreTranslate, spaCy (pip, once)
    python scripts/bench_service.py --quick   # smoke run: concurrency 1 and 4, short phases
    python scripts/bench_service.py           # the full run: 1, 4, 16, 64; greedy and beam 4

``--setup`` runs ``python3 -m venv build/lt-venv`` and
``build/lt-venv/bin/pip install libretranslate==1.9.6 spacy==3.8.18``; after that the
benchmark runs offline. Needs ``pip install -e .`` and the dev split
(``zh-en-translator train-demo --stage split``).
"""

from toolchain.bench.service import main

raise SystemExit(main())
