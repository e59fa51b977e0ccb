#!/usr/bin/env python
"""Score a pairs file through the Translator (toolchain/evaluate.py; needs `pip install -e .`)."""

from toolchain.evaluate import main

raise SystemExit(main())
