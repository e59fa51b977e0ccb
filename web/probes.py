"""Operations: ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from serving import Status
from serving.errors import NotReady
from web.context import get_metrics, get_registry
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
    """Report 200 only once every model is loaded, warmed up and its workers run."""
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
    """Expose counters, histograms and gauges in the Prometheus text format."""
    return Response(get_metrics().render(), mimetype="text/plain; version=0.0.4")
