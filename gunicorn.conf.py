"""gunicorn settings, read from the same config as the app (config/settings.json + env).

One worker process with many threads (gthread): the model is loaded once, its batch
workers merge the requests of all HTTP threads into batches, and ONNX Runtime decides
how the cores are used. ``--workers N`` runs N processes: faster on small models, but
each holds its own model copy, cache and metrics (README, "Why one gunicorn process");
under Kubernetes, scale out with more replicas instead.
"""

import os

from config import SettingsError, load_settings

try:
    _settings = load_settings()
except SettingsError as exc:  # stop before forking, with the key in the message
    raise SystemExit(f"invalid configuration: {exc}") from None

bind = f"{_settings.host}:{_settings.port}"
workers = 1
worker_class = "gthread"
threads = _settings.http_threads
# A request waits at most request_timeout_s for its translation; the worker timeout
# only catches a wedged process, so it is generous.
timeout = int(_settings.request_timeout_s * 2 + 30)
graceful_timeout = _settings.graceful_timeout_s
keepalive = 5
# The worker touches a heartbeat file on every turn of its event loop; on a disk-backed
# /tmp (ext4, overlayfs in containers) that is a metadata write per request.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None  # the app logs one line per request itself, with its request id
errorlog = "-"
loglevel = _settings.log_level.lower()
wsgi_app = "app:create_app()"


def worker_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn hook signature
    """Drain the batch queue before the worker process goes away (SIGTERM)."""
    import app

    app.shutdown()
