"""onnxruntime, imported with its telemetry off.

onnxruntime >= 1.29 uploads usage telemetry from Linux by default and keeps a device id
under ~/.cache. A self-hosted service must not phone home; the switch is read once, when
onnxruntime is first imported, so every module of the engine imports it from here. An
operator who sets ORT_DISABLE_TELEMETRY explicitly keeps their value.
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime as ort

__all__ = ["ort"]
