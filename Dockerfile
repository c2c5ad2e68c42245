# facepipe: one image for every role (serve, worker detect|embed|classify, run).
# CPU by default. For the CUDA execution provider build with
#   docker build --build-arg ORT_INSTALL=cuda12 --build-arg BASE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 -t facepipe:gpu .
# (see docker-compose.yml's "gpu" profile and docs/deployment.md).
ARG BASE=node:20-bookworm-slim

FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's CUDA files are fetched only when asked for (network needed at build time).
ARG ORT_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
COPY packages ./packages
COPY scripts ./scripts
COPY tsconfig.base.json tsconfig.json ./
# `npm ci` runs `prepare`: compile, then convert the face-api weights to ONNX (no downloads).
RUN if [ "$ORT_INSTALL" = "skip" ]; then npm ci --no-audit --no-fund; \
    else npm ci --no-audit --no-fund --allow-scripts=onnxruntime-node --onnxruntime-node-install="$ORT_INSTALL"; fi \
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
