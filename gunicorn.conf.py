"""gunicorn settings, read from the same config as the app (config/settings.json + env).

One worker process with many threads (gthread): the model is loaded once, its batch
workers merge the requests of all HTTP threads into batches, and ONNX Runtime decides
how the cores are used. ``--workers N`` runs N processes: faster on small models, but
each holds its own model copy, cache and metrics (README, "Why one gunicorn process");
under Kubernetes, scale out with more replicas instead.

The worker class, ``web.http_worker.BoundedThreadWorker``, bounds slow clients, closes
connections without stalling the accept loop and drains on SIGTERM (its module
docstring); ``worker_exit`` below drains the batch queue when the worker stops.
"""

import math
import os

from config import SettingsError, load_settings

try:
    _settings = load_settings()
except SettingsError as exc:  # stop before forking, with the key in the message
    raise SystemExit(f"invalid configuration: {exc}") from None

bind = f"{_settings.host}:{_settings.port}"
workers = 1
worker_class = "web.http_worker.BoundedThreadWorker"  # imported by the arbiter, before fork
threads = _settings.http_threads
# A request waits at most request_timeout_s for its translation; the worker timeout
# only catches a wedged process, so it is generous. It does not bound a connection
# (the worker's main loop keeps beating while its threads block): the worker's
# CLIENT_TIMEOUT_S (web/http_worker.py) does.
timeout = int(_settings.request_timeout_s * 2 + 30)
# The arbiter SIGKILLs what is left after graceful_timeout, counted from SIGTERM: the
# drain pause comes first, then graceful_timeout_s for the requests in flight.
graceful_timeout = _settings.graceful_timeout_s + math.ceil(_settings.drain_pause_s)
# Idle keep-alive connections wait on the poller, not on a thread. deploy/nginx.conf
# closes its idle upstream connections after 4 s, before gunicorn does.
keepalive = 5
worker_connections = 256  # open connections per worker, idle keep-alive included
limit_request_line = 4094  # gunicorn's defaults, stated: nginx's header buffers match
limit_request_fields = 64
limit_request_field_size = 8190
# No control socket: gunicorn 25.1+ opens one by default at ~/.gunicorn/gunicorn.ctl,
# shared by every instance of the user, and a read-only root has no home to put it in.
control_socket_disable = True
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
