# Production image of the Samooh web server, worker and replayer (one image, three commands).
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
# the room log's protocol is bundled from the client package's source (web/vite.config.ts)
COPY clients/typescript/src/ /src/clients/typescript/src/
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SAMOOH_WEB_DIST=/srv/samooh/web/dist SAMOOH_WORKER_DATA_DIR=/srv/samooh/.local/worker
WORKDIR /srv/samooh
COPY pyproject.toml README.md ./
COPY app/ app/
COPY streams/ streams/
COPY agents/ agents/
COPY devtools/ devtools/
RUN pip install --no-cache-dir .
COPY --from=web /src/web/dist web/dist
RUN useradd --system --uid 10001 samooh \
    && mkdir -p /srv/samooh/.local /srv/samooh/files \
    && chown samooh /srv/samooh/.local /srv/samooh/files
USER samooh
EXPOSE 8000
CMD ["python", "-m", "app", "--host", "0.0.0.0", "--port", "8000"]
