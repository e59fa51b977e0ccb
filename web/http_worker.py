"""gunicorn's worker for this service: gthread, with bounds on slow clients and a drain.

gunicorn.conf.py names it (``worker_class``); gunicorn's arbiter imports this module
before it forks, so it imports only gunicorn and ``config`` at the top: the app, and
``web.lifecycle`` with it, are loaded in the worker (:meth:`BoundedThreadWorker.load_wsgi`).

Slow clients: in production a buffering proxy (``deploy/nginx.conf``) sits in front and
hands gunicorn only complete requests. Without it, :class:`BoundedThreadWorker` still
bounds how long one connection can hold one of the ``threads``: every read from or write
to the client may block ``CLIENT_TIMEOUT_S`` (env ``GUNICORN_CLIENT_TIMEOUT_S``) at most,
then the connection is closed; a connection that has sent nothing waits on the poller,
not on a thread, after ``FIRST_BYTE_WAIT_S``. The bound is per read: a client that
trickles a byte every few seconds still holds its thread, which is why the proxy exists.

gunicorn 27's gthread worker closes a connection (``Connection: close``, a timed-out
client) with a lingering close of up to 2 s on its main thread, the one that accepts
connections: five clients that keep their end open after the response stall every new
connection for 10 s. Here the FIN goes out at once and :class:`_Lingerer`, a thread of
its own, waits for the client's end (``LINGER_S`` at most, ``MAX_LINGERING`` at once).

SIGTERM (a rollout, a scale-down) drains in two steps. At once the worker marks itself
draining (``web.lifecycle``: ``/readyz`` answers 503, ``/healthz`` stays 200) and keeps
accepting and serving for ``drain_pause_s``, while load balancers take it out of rotation.
Then it closes its listeners (a late connection is refused, not left in the backlog),
finishes the requests in flight within ``graceful_timeout_s``, and ``worker_exit``
(gunicorn.conf.py) drains the batch queue. SIGINT and SIGQUIT still stop at once.
"""

import errno
import logging
import os
import queue
import select
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

from config import load_settings

logger = logging.getLogger(__name__)

CLIENT_TIMEOUT_S = float(os.environ.get("GUNICORN_CLIENT_TIMEOUT_S", "10"))
FIRST_BYTE_WAIT_S = 0.5
STICKY_WAIT_S = 0.05
LINGER_S = 2.0
MAX_LINGERING = 512

# gunicorn.conf.py has read the same settings already and stops on a bad one (SystemExit,
# with the key), before gunicorn imports this module.
_settings = load_settings()

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _StallReadsAsEOF(SocketUnreader):
    """A read that timed out reads as the end of the stream: gunicorn closes the
    connection as after a disconnect (a debug line), not with a traceback per client."""

    def chunk(self, size_hint: int | None = None) -> bytes:
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            return b""


class _Lingerer:
    """Finish RFC 9112 section 9.6 closes off the worker's main loop: send FIN now, read
    and drop what the client still sends until it closes, LINGER_S at most, then close
    (closing with unread data would reset the connection and could destroy the response
    before the client read it)."""

    def __init__(self) -> None:
        self._handoff: queue.SimpleQueue[socket.socket] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None  # started in the worker, after fork

    def close(self, sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
        except OSError:
            sock.close()
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="linger", daemon=True)
                self._thread.start()
        self._handoff.put(sock)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        deadlines: dict[socket.socket, float] = {}
        while True:
            if not deadlines:  # nothing lingering: sleep until there is
                self._adopt(self._handoff.get(), selector, deadlines)
            while not self._handoff.empty():
                self._adopt(self._handoff.get(), selector, deadlines)
            for key, _ in selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    done = not sock.recv(65536)
                except OSError:
                    done = True
                if done:
                    deadlines[sock] = 0.0
            now = time.monotonic()
            for sock in [s for s, deadline in deadlines.items() if deadline <= now]:
                selector.unregister(sock)
                del deadlines[sock]
                sock.close()

    @staticmethod
    def _adopt(
        sock: socket.socket, selector: selectors.BaseSelector, deadlines: dict[socket.socket, float]
    ) -> None:
        if len(deadlines) >= MAX_LINGERING:
            sock.close()
            return
        try:
            selector.register(sock, selectors.EVENT_READ)
        except (OSError, ValueError):  # closed meanwhile
            logger.debug("lingering close: socket gone before it was watched")
            sock.close()
            return
        deadlines[sock] = time.monotonic() + LINGER_S


_LINGERER = _Lingerer()


class _BoundedConn(TConn):
    def close(self, graceful: bool = False) -> None:
        if graceful:
            _LINGERER.close(self.sock)
        else:
            super().close()

    def wait_for_data(self, timeout: float) -> bool:
        return bool(super().wait_for_data(min(timeout, FIRST_BYTE_WAIT_S)))

    def init(self) -> None:
        super().init()  # once per connection; the lines below run before every request
        self.sock.settimeout(CLIENT_TIMEOUT_S)  # handle() has just made it blocking
        parser = self.parser
        unreader: Any = getattr(parser, "unreader", None)
        if type(unreader) is SocketUnreader and not unreader.buf.getvalue():
            parser.unreader = _StallReadsAsEOF(self.sock)


def _next_request_arrives(conn: TConn) -> bool:
    """Whether the client sends more within ``STICKY_WAIT_S`` (or already has)."""
    unreader = getattr(conn.parser, "unreader", None)
    if unreader is not None and unreader.buf.getvalue():
        return True
    try:
        readable, _, _ = select.select([conn.sock], [], [], STICKY_WAIT_S)
    except (OSError, ValueError):  # closed meanwhile
        return False
    return bool(readable)


def _honour_connection_close(app: WSGIApp) -> WSGIApp:
    """gunicorn drops a ``Connection`` header the app sets; make ``close`` close."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
                response: Any = getattr(start_response, "__self__", None)  # gunicorn's Response
                if hasattr(response, "force_close"):
                    response.force_close()  # no keep-alive, so no draining the unread body
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return application


class BoundedThreadWorker(ThreadWorker):
    """gunicorn's gthread worker with a per-read client timeout and a drain pause on
    SIGTERM (module docstring)."""

    wsgi: WSGIApp  # set by load_wsgi
    drain_pause_s = _settings.drain_pause_s
    _drain_signal: int | None = None
    _begin_drain: Callable[[], None] | None = None

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: go unready now, stop intake ``drain_pause_s`` later. A signal
        handler: it only sets flags and hands the rest to the event loop."""
        if not self.alive or self._drain_signal is not None:
            return
        self._drain_signal = sig
        if self._begin_drain is not None:  # None: the app is still loading
            self._begin_drain()
        if self.drain_pause_s <= 0:
            super().handle_exit(sig, frame)
        else:
            self.method_queue.defer(self._start_pause)

    def _start_pause(self) -> None:  # on the event loop, not in the signal handler
        self.log.info(
            "SIGTERM: draining; /readyz answers 503, serving %.1f s more", self.drain_pause_s
        )
        timer = threading.Timer(
            self.drain_pause_s, self.method_queue.defer, args=(self._stop_intake,)
        )
        timer.daemon = True
        timer.start()

    def _stop_intake(self) -> None:
        self.log.info("drain pause over: intake stopped, %d connection(s) open", self.nr_conns)
        super().handle_exit(self._drain_signal or 0, None)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:  # stopping: refuse late connections at once
            for listener in self.sockets:
                listener.close()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = _honour_connection_close(self.wsgi)
        # Imported here, with the app: not in the arbiter, not in a signal handler.
        from web.lifecycle import begin_drain

        self._begin_drain = begin_drain

    def handle(self, conn: TConn) -> Any:
        """Serve the connection's requests on this thread while it keeps sending.

        gunicorn hands a kept-alive connection back to the main thread after every
        response, which waits for the next request on its poller and submits it to the
        pool again: two thread hand-offs per request, the larger part of a cache hit's
        time. While there are no more connections than threads nobody waits for this
        thread, so it keeps the connection for the next request if one arrives within
        ``STICKY_WAIT_S``; otherwise (idle client, more connections, stopping) the
        connection goes back to the poller as before.
        """
        result = super().handle(conn)
        while result is True and self._may_keep(conn) and _next_request_arrives(conn):
            result = super().handle(conn)
        return result

    def _may_keep(self, conn: TConn) -> bool:
        return self.alive and self.nr_conns <= self.cfg.threads and conn.parser is not None

    def accept(self, listener: socket.socket) -> None:
        try:  # ThreadWorker.accept, with the bounded connection class
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            conn = _BoundedConn(self.cfg, client_sock, client_addr, listener.getsockname())
            self.enqueue_req(conn)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
