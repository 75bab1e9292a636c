# One image for `glacis serve` and `glacis worker` (the command is the container's argument):
#   docker build -t glacis .
#   docker run --rm glacis serve | docker run --rm glacis worker
# Stages: deps (npm ci, better-sqlite3 compiled) → build (tsc) → prod-deps (dev deps pruned)
# → runtime (the default target). `--target dev` is the image of docker-compose.dev.yml.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- what both final stages run on: Node, Debian's rclone, tini, setpriv ----------------------
FROM ${NODE_IMAGE} AS base
# rclone: Debian's (1.60.1), the one the test suite runs; rclone.js's own download is never used.
# tini: PID 1, forwards SIGTERM to glacis only (not to its rclone children: the worker lets
# running tasks finish for WORKER_SHUTDOWN_GRACE) and reaps zombies.
# util-linux: setpriv, with which the worker gives each rclone a parent-death signal.
RUN apt-get update \
 && apt-get install -y --no-install-recommends rclone tini util-linux ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 glacis \
 && useradd --system --uid 10001 --gid glacis --home-dir /var/lib/glacis --shell /usr/sbin/nologin glacis \
 && mkdir -p /etc/glacis /var/lib/glacis/db \
 && chown -R glacis:glacis /var/lib/glacis
ENV RCLONE_EXECUTABLE=/usr/bin/rclone \
    HOST=0.0.0.0
# HOST: in a container the API must listen on every interface to be reachable through a
# published port (publish it on 127.0.0.1 of the host, see docker-compose.prod.yml).

# ---- dependencies --------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
# better-sqlite3 is compiled here, as scripts/setup.sh does.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/glacis
# packaging/ holds the stand-in for msgpackr-extract that package.json's override points to:
# npm ci needs it, and node_modules/msgpackr-extract is a symlink into it afterwards.
COPY package.json package-lock.json ./
COPY packaging/ ./packaging/
# --ignore-scripts: rclone.js's install script would download an rclone of its own.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 --build-from-source

# ---- compiled JavaScript -------------------------------------------------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
COPY bin/ ./bin/
# The web page (web/ → dist/page/index.html), built by the same npm run build.
COPY web/ ./web/
COPY scripts/build-web.mjs ./scripts/
RUN npm run build

FROM deps AS prod-deps
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- development image (docker-compose.dev.yml): dev dependencies and tsc, sources mounted -------
FROM base AS dev
WORKDIR /opt/glacis
COPY --from=build /opt/glacis/ ./
RUN chown -R glacis:glacis /opt/glacis/dist \
 && ln -s /opt/glacis/bin/glacis.js /usr/local/bin/glacis
USER glacis
WORKDIR /var/lib/glacis
ENTRYPOINT ["/usr/bin/tini", "--", "glacis"]
CMD ["serve"]

# ---- production image (the default target) -------------------------------------------------------
FROM base AS runtime
WORKDIR /opt/glacis
COPY --from=prod-deps /opt/glacis/node_modules/ ./node_modules/
COPY --from=build /opt/glacis/dist/ ./dist/
COPY package.json repos.example.yaml local.example.cfg ./
COPY bin/ ./bin/
COPY packaging/ ./packaging/
COPY deploy/docker/ ./deploy/docker/
RUN ln -s /opt/glacis/bin/glacis.js /usr/local/bin/glacis
ENV NODE_ENV=production
# Non-root. Only a worker serving repos with chown_uid / chown_gid needs root: see README,
# "Running in production".
USER glacis
# Relative paths (./local.cfg, ./repos.yaml, ./data/…) are relative to this directory.
WORKDIR /var/lib/glacis
EXPOSE 9100
ENTRYPOINT ["/usr/bin/tini", "--", "glacis"]
CMD ["serve"]
