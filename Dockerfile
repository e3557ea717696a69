# profilegraph: production image. Runs the TypeScript sources with tsx on Node 24.
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app

COPY package.json package-lock.json ./
# Runtime dependencies only (tsx is one: it runs src/ directly).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY schema ./schema
COPY src ./src
COPY tsconfig.json ./

USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node directly (not npm) so SIGTERM reaches the service's graceful shutdown.
CMD ["node", "--import", "tsx", "src/main.ts"]
