"""Model tooling: training, export, quantization, verification and benchmarks."""

import os

# No usage telemetry from onnxruntime (and optimum, which imports it): see engine/__init__.py.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
