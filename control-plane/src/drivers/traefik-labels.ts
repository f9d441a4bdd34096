/**
 * Traefik docker-provider labels for a worker container: a router for `<name>.<domain>` straight
 * to the worker's Hrana port (direct libSQL, no hop through the functions). Tokens of that
 * database work there; the admin token and waking stopped databases need the /db/{name}/ proxy.
 */
export function traefikLabels(
  name: string,
  domain: string,
  network?: string,
): Record<string, string> {
  const id = `dbforge-db-${name}`;
  return {
    "traefik.enable": "true",
    [`traefik.http.routers.${id}.rule`]: `Host(\`${name}.${domain}\`)`,
    [`traefik.http.routers.${id}.entrypoints`]: "web",
    [`traefik.http.routers.${id}.service`]: id,
    [`traefik.http.services.${id}.loadbalancer.server.port`]: "8080",
    ...(network ? { "traefik.docker.network": network } : {}),
  };
}
