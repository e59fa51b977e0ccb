# syntax=docker/dockerfile:1
# Multi-stage image: dependencies are built once, an optional stage exports a model,
# and the runtime stage carries only the service, its venv and one model (its served
# files: no training checkpoint), as a non-root user that can write to /app/logs only.
#
#   docker build -t zh-en-translator .                                      # shipped demo model
#   docker build -t zh-en-translator --build-arg MODEL=Helsinki-NLP/opus-mt-zh-en .
#   docker run -p 7860:7860 zh-en-translator
#
# The runtime stage runs under a read-only root filesystem (deploy/kubernetes.yaml,
# deploy/docker-compose.yml): it writes only to /app/logs and /tmp, mount both. In
# production, put deploy/nginx.conf in front (see deploy/README.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- 1. the service's Python dependencies -------------------------------------------
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- 2. the model: the shipped demo model, or an export of MODEL (needs a network) ---
FROM ${PYTHON_IMAGE} AS model
ARG MODEL=""
ARG MODEL_PREPROCESS="opus_punct"
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN set -eux; \
    if [ -z "$MODEL" ]; then \
        cp -r models/demo-zh-en /model; \
    else \
        python -m venv /opt/tools; \
        # The CPU build of torch: PyPI's default wheel drags in CUDA (several GB).
        /opt/tools/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0; \
        /opt/tools/bin/pip install -r requirements-tools.txt; \
        /opt/tools/bin/python -m toolchain.export_cli "$MODEL" --out /model \
            --preprocess "$MODEL_PREPROCESS" --quantize-for avx2; \
    fi; \
    # The en→zh demo model is served beside it (settings.json's extra_model_dirs; an
    # image of another en→zh MODEL runs with TRANSLATOR_EXTRA_MODEL_DIRS='[]').
    cp -r models/demo-en-zh /model-en-zh; \
    # The fp16 training checkpoints are for re-exports, not for serving (21 MB each).
    rm -rf /model/checkpoint /model-en-zh/checkpoint

# --- 3. the code and the model, read-only --------------------------------------------
# Assembled here, so that the runtime stage gets them in one layer, owned by root and
# writable by nobody: the service user can neither change its code nor swap its model.
FROM ${PYTHON_IMAGE} AS app
WORKDIR /app
COPY app.py translator.py cli.py gunicorn.conf.py ./
COPY config/ config/
COPY text/ text/
COPY engine/ engine/
COPY serving/ serving/
COPY web/ web/
COPY templates/ templates/
COPY static/ static/
COPY --from=model /model models/served
COPY --from=model /model-en-zh models/demo-en-zh
RUN chmod -R a-w,a+rX /app

# --- 4. runtime ------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="zh-en-translator" \
      org.opencontainers.image.description="Chinese→English translation service (ONNX Runtime INT8, CPU)" \
      org.opencontainers.image.version="0.1.0"
RUN groupadd --gid 10001 translator \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin translator
COPY --from=deps /opt/venv /opt/venv
COPY --from=app /app /app
WORKDIR /app
# The one place the service writes (and /tmp); both are mounts under a read-only root.
RUN mkdir /app/logs && chown 10001:10001 /app/logs
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ORT_DISABLE_TELEMETRY=1 \
    TRANSLATOR_MODEL_DIR=/app/models/served \
    TRANSLATOR_LOG_DIR=/app/logs
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
EXPOSE 7860
# Liveness for plain Docker; under Kubernetes use /healthz and /readyz probes instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:7860/healthz', timeout=4).status != 200)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
