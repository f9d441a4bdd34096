/**
 * The compose file and the Traefik configuration: valid for their tools, valid against
 * Traefik's JSON schemas, and consistent with each other and with the code.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import Ajv from "ajv-draft-04";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { traefikLabels } from "../control-plane/src/drivers/traefik-labels";
import { ROOT } from "../testkit/paths";

const require = createRequire(import.meta.url);
const schemaDir = join(require.resolve("schemastore/package.json"), "..", "schemas/json");
const loadSchema = (file: string) =>
  JSON.parse(readFileSync(join(schemaDir, file), "utf8")) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: false });
const validateStatic = ajv.compile(loadSchema("traefik-v2.json"));
const validateDynamic = ajv.compile(loadSchema("traefik-v2-file-provider.json"));

type Json = Record<string, any>;
const staticConfig = parse(readFileSync(join(ROOT, "infra/traefik/traefik.yml"), "utf8")) as Json;
const dynamicFiles = readdirSync(join(ROOT, "infra/traefik/dynamic")).filter((f) =>
  f.endsWith(".yml"),
);
const dynamicConfigs = dynamicFiles.map(
  (f) => parse(readFileSync(join(ROOT, "infra/traefik/dynamic", f), "utf8")) as Json,
);

/**
 * Keys the schema does not know: Traefik's schemas allow unknown keys almost everywhere, so a
 * misspelt option would otherwise pass. Follows `properties` and `$ref`s of object schemas.
 */
function unknownKeys(value: unknown, schema: Json, root: Json, path = ""): string[] {
  if (schema.$ref)
    return unknownKeys(value, root.definitions[schema.$ref.split("/").pop()], root, path);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  if (!schema.properties) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const sub = schema.properties[key];
    if (!sub) return schema.additionalProperties ? [] : [`${path}${key}`];
    return unknownKeys(child, sub, root, `${path}${key}.`);
  });
}

/** Mount targets; docker-compose 1.x prints volumes as "source:target:mode" strings. */
const mountTargets = (volumes: Array<string | Json>): string[] =>
  volumes.map((v) => (typeof v === "string" ? (v.split(":")[1] ?? "") : String(v.target)));

function composeConfig(): Json {
  const args = ["-f", join(ROOT, "docker-compose.yml"), "config"];
  const out = execFileSync("docker-compose", args, {
    encoding: "utf8",
    cwd: ROOT,
    env: { ...process.env, PWD: ROOT },
  });
  return parse(out) as Json;
}

describe("docker-compose.yml", () => {
  const compose = composeConfig();

  test("is valid for docker-compose and defines the whole stack", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "control-plane",
      "functions",
      "traefik",
      "worker-image",
    ]);
    const cp = compose.services["control-plane"];
    expect(cp.environment).toMatchObject({
      DBFORGE_DRIVER: "docker",
      DBFORGE_DOCKER_NETWORK: "dbforge",
      DBFORGE_WORKER_IMAGE: "dbforge-worker:latest",
    });
    expect(cp.environment.DBFORGE_HOST_DATA_DIR).toBe(join(ROOT, "db-data"));
    expect(mountTargets(cp.volumes)).toEqual(
      expect.arrayContaining(["/var/run/docker.sock", "/data"]),
    );
    expect(compose.services["worker-image"].image).toBe(cp.environment.DBFORGE_WORKER_IMAGE);
    expect(compose.services.functions.environment.CONTROL_PLANE_URL).toBe(
      `http://control-plane:${cp.environment.DBFORGE_CONTROL_PLANE_ADDR.split(":")[1]}`,
    );
    expect(compose.networks.dbforge.name).toBe("dbforge");
  });

  test("Traefik's file provider points at the functions service", () => {
    const listen = compose.services.functions.environment.DBFORGE_LISTEN_ADDR as string;
    const urls = dynamicConfigs.flatMap((c) =>
      Object.values((c.http?.services ?? {}) as Json).flatMap((s: Json) =>
        (s.loadBalancer?.servers ?? []).map((x: Json) => x.url),
      ),
    );
    expect(urls).toContain(`http://functions:${listen.split(":")[1]}`);
    expect(staticConfig.providers.docker.network).toBe(compose.networks.dbforge.name);
    const mounts = mountTargets(compose.services.traefik.volumes);
    expect(mounts).toContain("/etc/traefik");
    expect(staticConfig.providers.file.directory).toBe("/etc/traefik/dynamic");
  });
});

describe("Traefik configuration", () => {
  test("the static configuration matches Traefik's schema", () => {
    expect(validateStatic(staticConfig), JSON.stringify(validateStatic.errors)).toBe(true);
    const schema = loadSchema("traefik-v2.json");
    expect(unknownKeys(staticConfig, schema, schema)).toEqual([]);
    // The check itself catches a misspelt option.
    expect(unknownKeys({ providers: { dockr: {} }, entryPoints: {} }, schema, schema)).toEqual([
      "providers.dockr",
    ]);
  });

  test.each(dynamicFiles.map((f, i) => [f, dynamicConfigs[i]] as const))(
    "dynamic %s matches the file-provider schema",
    (_, config) => {
      expect(validateDynamic(config), JSON.stringify(validateDynamic.errors)).toBe(true);
      // Every router's entry point exists and every service it names is defined (or internal).
      for (const router of Object.values((config?.http?.routers ?? {}) as Json)) {
        for (const entryPoint of router.entryPoints ?? [])
          expect(Object.keys(staticConfig.entryPoints)).toContain(entryPoint);
        if (!String(router.service).endsWith("@internal"))
          expect(Object.keys(config?.http?.services ?? {})).toContain(router.service);
        for (const middleware of router.middlewares ?? [])
          expect(Object.keys(config?.http?.middlewares ?? {})).toContain(middleware);
      }
    },
  );

  test("the labels the Docker driver puts on workers make a valid Traefik router", () => {
    const labels = traefikLabels("my-db", "db.localhost", "dbforge");
    // The docker provider reads labels as dynamic configuration: rebuild that configuration.
    const id = "dbforge-db-my-db";
    const config = {
      http: {
        routers: {
          [id]: {
            rule: labels[`traefik.http.routers.${id}.rule`],
            entryPoints: [labels[`traefik.http.routers.${id}.entrypoints`]],
            service: labels[`traefik.http.routers.${id}.service`],
          },
        },
        services: {
          [id]: {
            loadBalancer: {
              servers: [
                {
                  url: `http://worker:${labels[`traefik.http.services.${id}.loadbalancer.server.port`]}`,
                },
              ],
            },
          },
        },
      },
    };
    expect(validateDynamic(config), JSON.stringify(validateDynamic.errors)).toBe(true);
    expect(config.http.routers[id]?.rule).toBe("Host(`my-db.db.localhost`)");
    expect(Object.keys(staticConfig.entryPoints)).toContain(
      config.http.routers[id]?.entryPoints[0],
    );
    expect(labels["traefik.docker.network"]).toBe(staticConfig.providers.docker.network);
  });
});
