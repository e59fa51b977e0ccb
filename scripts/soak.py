#!/usr/bin/env python
"""Soak a running service with clients, hostile bodies and RSS sampling (toolchain/soak.py)."""

from toolchain.soak import main

raise SystemExit(main())
