"""Operations: ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from utils.errors import NotReady
from utils.health import process_stats

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report 200 while the process and its batch worker live, 503 once either is lost."""
    translator = current_app.extensions["translator"]
    stats = translator.stats()
    status = stats["model_status"]
    dead = status == "failed" or (status == "ready" and not stats["worker_alive"])
    body = {"status": "unhealthy" if dead else "ok", **process_stats(), **stats}
    return jsonify(body), 503 if dead else 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Report 200 only once the model is loaded, warmed up and its worker is running."""
    translator = current_app.extensions["translator"]
    if not translator.ready:
        detail = translator.error or translator.status
        raise NotReady(f"The model is not ready ({detail}).", retry_after=5)
    return jsonify(success=True, status="ready", model=translator.model_id), 200


@bp.get("/metrics")
def metrics() -> Response:
    """Expose counters, histograms and gauges in the Prometheus text format."""
    body = current_app.extensions["metrics"].render()
    return Response(body, mimetype="text/plain; version=0.0.4")
