"""The WSGI entry point: ``app:create_app()`` for gunicorn (see gunicorn.conf.py).

For development, ``python app.py`` runs Flask's own server on the configured port.
The factory itself lives in :mod:`web.factory`.
"""

from __future__ import annotations

import atexit

from web import __version__, create_app, shutdown

__all__ = ["__version__", "create_app", "shutdown"]

atexit.register(shutdown)


if __name__ == "__main__":
    development = create_app()
    dev_settings = development.extensions["settings"]
    development.run(host=dev_settings.host, port=dev_settings.port, threaded=True)
