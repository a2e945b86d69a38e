# Multi-stage: build with dev dependencies, run with production ones only.
# Unlike CI (no internet), the image installs @tensorflow/tfjs-node, the fastest backend.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# tfjs-node downloads libtensorflow, or compiles its binding when no prebuilt one fits
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ ca-certificates && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --include=optional --foreground-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# fail the build, not the first training, if libtensorflow is missing
RUN node -e "require('@tensorflow/tfjs-node')"
RUN mkdir -p /data/exports && chown node:node /data/exports
USER node
EXPOSE 3000 3001
# API_NODE_FLAGS (apps/api/src/node-flags.ts): a larger young generation for the request path
CMD ["node", "--max-semi-space-size=64", "dist/apps/api/src/main.js"]
