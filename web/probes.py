"""Operations: ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from serving import Status
from serving.errors import NotReady
from web.auth import metrics_refusal
from web.context import get_metrics, get_registry, get_settings
from web.lifecycle import draining
from web.process import process_stats

bp = Blueprint("probes", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report 200 while the process and its batch workers live, 503 once any is lost."""
    health = get_registry().health()
    alive = all(h.alive for h in health)
    body = {
        "status": "ok" if alive else "unhealthy",
        **process_stats(),
        **health[0].as_dict(),
        "directions": {h.direction: h.as_dict() for h in health},
    }
    return jsonify(body), 200 if alive else 503


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Report 200 only once every model is loaded, warmed up and its workers run, and
    503 from the moment a SIGTERM starts the drain (the process still serves meanwhile)."""
    if draining():
        raise NotReady("draining")
    registry = get_registry()
    for translator in registry:
        if not translator.ready:
            # The status only: why a load failed (paths, library text) is for the log.
            status = translator.status.value
            retry = None if translator.status is Status.FAILED else 5
            raise NotReady(
                f"The {translator.direction} model is not ready ({status}).", retry_after=retry
            )
    return jsonify(
        success=True,
        status="ready",
        model=registry.default.model_id,
        directions=registry.directions,
    ), 200


@bp.get("/metrics")
def metrics() -> Response:
    """Expose counters, histograms and gauges in the Prometheus text format (with a
    ``metrics_token`` set, only to ``Authorization: Bearer <token>``: 401 otherwise)."""
    denied = metrics_refusal(get_settings().metrics_token)
    if denied is not None:
        return denied
    return Response(get_metrics().render(), mimetype="text/plain; version=0.0.4")
