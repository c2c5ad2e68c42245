# facepipe: one image for every role (serve, worker detect|embed|classify, run).
# CPU by default. For the CUDA execution provider build with
#   docker build --build-arg ORT_INSTALL=cuda12 --build-arg BASE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 -t facepipe:gpu .
# (see docker-compose.yml's "gpu" profile and docs/deployment.md).
# Node 22 LTS (the suite runs on 20 and 22; on 22 the AWS SDK has no support notice to print).
ARG BASE=node:22-bookworm-slim

FROM node:22-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's CUDA files are fetched only when asked for (network needed at build time).
# Its installer reads ONNXRUNTIME_NODE_INSTALL before npm's config (.npmrc says skip).
ARG ORT_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
COPY packages ./packages
COPY scripts ./scripts
COPY tsconfig.base.json tsconfig.json ./
# `npm ci` runs `prepare`: compile, then convert the face-api weights to ONNX (no downloads).
RUN ONNXRUNTIME_NODE_INSTALL="$ORT_INSTALL" npm ci --no-audit --no-fund \
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
