# Threadline image: one image, three roles (deploy/entrypoint.sh web | worker | migrate).
# docs/self-hosting.md, "Containers". Build: docker build -t threadline .

# --- the desktop's front-end files, from the npm registry at build time ---------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- the wheel of Threadline and of every dependency ------------------------------------------
FROM python:3.11-slim AS wheels
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip install --no-cache-dir --upgrade pip \
 && python -m pip wheel --no-cache-dir --wheel-dir /wheels .

# --- runtime: the wheels installed into a venv, no compiler, no Node ---------------------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 threadline \
 && useradd --system --uid 10001 --gid threadline --home-dir /var/lib/threadline \
      --shell /usr/sbin/nologin threadline \
 && install -d -o threadline -g threadline -m 0750 /var/lib/threadline
COPY --from=wheels /wheels /tmp/wheels
RUN python -m venv /opt/threadline/venv \
 && /opt/threadline/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels \
      threadline \
 && rm -rf /tmp/wheels
COPY --from=assets /build/node_modules /opt/threadline/node_modules
COPY deploy/entrypoint.sh /opt/threadline/entrypoint.sh

ENV PATH=/opt/threadline/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    THREADLINE_DATA_DIR=/var/lib/threadline \
    THREADLINE_NODE_MODULES=/opt/threadline/node_modules \
    THREADLINE_LISTEN_HOST=0.0.0.0 \
    THREADLINE_LISTEN_PORT=8000

USER threadline
WORKDIR /var/lib/threadline
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["/opt/threadline/entrypoint.sh"]
CMD ["web"]
