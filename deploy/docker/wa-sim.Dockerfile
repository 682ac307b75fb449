# syntax=docker/dockerfile:1
# The simulated WhatsApp network (a test double: never in production). Build from the repository root:
#   docker build -f deploy/docker/wa-sim.Dockerfile -t wagw-wa-sim .
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: every workspace compiled, development dependencies pruned, runtime files packed ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
COPY deploy/docker/pack.sh /usr/local/bin/wagw-pack
RUN npm ci --no-audit --no-fund --loglevel=warn \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=warn \
 && wagw-pack /out

# --- runtime: compiled code and production dependencies only, run as the unprivileged node user ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production WA_SIM_HOST=0.0.0.0 WA_SIM_PORT=8090
WORKDIR /app
COPY --from=build /out /app
USER node
EXPOSE 8090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WA_SIM_PORT||8090)+'/sim/v1/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/wa-sim/dist/main.js"]
