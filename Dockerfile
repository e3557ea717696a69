# profilegraph: production image, built in three stages.
#   build — the full install (dev dependencies included) compiles src/ to dist/ (npm run build)
#   deps  — the runtime install: `npm ci --omit=dev` (no tsx, TypeScript, faker or inquirer);
#           its `prepare` step fetches GraphQL Playground's bundle into vendor/playground/
#   final — Node 24, the runtime node_modules, dist/, schema/, vendor/; runs as `node`
# CI dry-runs the deps stage's install on exactly the files it copies (.ci/run, "docker install").
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/vendor-playground.mjs ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/vendor-playground.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/vendor ./vendor
COPY --from=build /app/dist ./dist
COPY schema ./schema
# `profilegraph <command>` runs the CLI, e.g. `docker compose exec profilegraph profilegraph db:migrate`.
RUN printf '#!/bin/sh\nexec node /app/dist/cli/index.js "$@"\n' > /usr/local/bin/profilegraph && chmod 755 /usr/local/bin/profilegraph

USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node directly (not npm) so SIGTERM reaches the service's graceful shutdown.
CMD ["node", "--enable-source-maps", "dist/main.js"]
