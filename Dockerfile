# Threadline image: one image, three roles (deploy/entrypoint.sh web | worker | migrate).
# docs/self-hosting.md, "Containers". Build: docker build -t threadline .

# --- the release: the wheel (front-end files from the npm registry inside it), the pinned
#     versions of every runtime dependency (constraints.txt from uv.lock), their wheels -----
FROM python:3.11-slim AS release
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY . .
RUN python -m venv .venv \
 && .venv/bin/pip install --no-cache-dir "uv==0.13.8" \
 && .venv/bin/python scripts/build_assets.py \
 && scripts/release.sh /release \
 && .venv/bin/pip wheel --no-cache-dir --wheel-dir /wheels \
      --constraint /release/constraints.txt /release/threadline-*.whl

# --- runtime: the pinned wheels installed into a venv, no compiler, no Node ------------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 threadline \
 && useradd --system --uid 10001 --gid threadline --home-dir /var/lib/threadline \
      --shell /usr/sbin/nologin threadline \
 && install -d -o threadline -g threadline -m 0750 /var/lib/threadline
COPY --from=release /wheels /tmp/wheels
RUN python -m venv /opt/threadline/venv \
 && /opt/threadline/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels \
      threadline \
 && rm -rf /tmp/wheels
COPY deploy/entrypoint.sh /opt/threadline/entrypoint.sh

ENV PATH=/opt/threadline/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    THREADLINE_DATA_DIR=/var/lib/threadline \
    THREADLINE_LISTEN_HOST=0.0.0.0 \
    THREADLINE_LISTEN_PORT=8000

USER threadline
WORKDIR /var/lib/threadline
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["/opt/threadline/entrypoint.sh"]
CMD ["web"]
