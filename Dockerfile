# pilot-status-mcp: stateless streamable HTTP MCP server (POST /mcp, GET /health).
#
#   docker build -t pilot-status/mcp-server .
#   docker run --rm -p 8787:8787 -e MCP_RESOURCE_URL=https://mcp.example.com/mcp pilot-status/mcp-server
#
# No secret is baked in: credentials come per request (x-api-key or Authorization: Bearer) or from the runtime
# environment (-e / --env-file). test/docker-replay.test.ts replays this file's production stage, ENV, CMD and
# HEALTHCHECK without a Docker engine, so keep them in the forms it parses: ENV as key=value pairs, CMD and
# HEALTHCHECK CMD as JSON arrays, the production `npm ci` as its own command in a RUN of the last stage.

# ---- Stage 1: install every dependency and compile TypeScript to dist/ ----
FROM node:24-slim AS build
WORKDIR /app
# No dependency needs an install script to build (tsc, then esbuild, whose binary comes as a package).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/bundle.mjs
COPY src ./src
RUN npm run build

# ---- Stage 2: production dependencies and the compiled server only ----
FROM node:24-slim AS production
ENV NODE_ENV=production MCP_TRANSPORT=http PORT=8787 HOST=0.0.0.0
WORKDIR /app
# The bundles in dist/ hold every dependency, so this installs nothing today; it stays so that a dependency added
# later is installed from the lock file, never from the build stage's dev tree.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY openapi ./openapi
COPY README.md LICENSE ./
# Files stay owned by root and read-only to the server; it runs as the image's unprivileged "node" user.
USER node
EXPOSE 8787
# Slim images have no curl: ask Node itself. Follows PORT when it is overridden at run time.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8787)+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: stops accepting, finishes in-flight requests, exits 0.
CMD ["node", "dist/pilot-status-mcp.mjs", "http"]
