# facepipe: one image for every role (serve, worker detect|embed|classify, run).
# CPU by default. For the CUDA execution provider build with
#   docker build --build-arg ORT_INSTALL=cuda12 --build-arg BASE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 -t facepipe:gpu .
# (see docker-compose.yml's "gpu" profile and docs/deployment.md).
# Node 24 LTS (CI runs the suite on Node 22 and 24).
ARG BASE=node:24-bookworm-slim

FROM node:24-bookworm-slim AS build
WORKDIR /app
# `npm ci` never runs onnxruntime-node's installer (package.json's allowScripts, and the lock
# records no install script for it: docs/deployment.md#node-and-npm), so the install is offline.
# ORT_INSTALL=cuda12 runs that installer afterwards to fetch the CUDA files (network needed).
ARG ORT_INSTALL=skip
COPY package.json package-lock.json ./
COPY packages ./packages
COPY scripts ./scripts
COPY tsconfig.base.json tsconfig.json ./
# `npm ci` runs `prepare`: compile, then convert the face-api weights to ONNX (no downloads).
RUN npm ci --no-audit --no-fund \
 && if [ "$ORT_INSTALL" != skip ]; then ONNXRUNTIME_NODE_INSTALL="$ORT_INSTALL" node node_modules/onnxruntime-node/script/install; fi \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${BASE}
# The CUDA base image has no Node.js: bring the one from the build stage.
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production \
    FACEPIPE_METRICS_PORT=9464
USER 1000
EXPOSE 8080 9464
ENTRYPOINT ["node", "/app/packages/cli/dist/main.js"]
CMD ["--help"]
