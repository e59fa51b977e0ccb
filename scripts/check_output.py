#!/usr/bin/env python
"""Flag defects in translations (toolchain/check_output.py; needs `pip install -e .`)."""

from toolchain.check_output import main

raise SystemExit(main())
