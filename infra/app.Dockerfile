# The DB-Forge application image: control plane and functions host (docker-compose.yml runs
# one container of each). Built from the source tree with the official Node image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production
EXPOSE 8787 8788
CMD ["node", "dist/cli/dbforge.mjs", "start"]
