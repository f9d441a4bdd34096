import { describe, expect, test } from "vitest";
import { CONTROL_PLANE_API, type ControlPlaneRoute, controlPlanePath } from "./control-plane-api";

describe("controlPlanePath", () => {
  test("routes without a name are their path", () => {
    expect(controlPlanePath("health")).toBe("/health");
    expect(controlPlanePath("listDatabases")).toBe("/v1/databases");
  });

  test("the name fills {name}, percent-encoded", () => {
    expect(controlPlanePath("getDatabase", "my-app")).toBe("/v1/databases/my-app");
    expect(controlPlanePath("resolve", "peer")).toBe("/v1/databases/peer/resolve");
    expect(controlPlanePath("revokeTokens", "a")).toBe("/v1/databases/a/tokens/revoke");
    // Whatever a caller passes stays one path segment.
    expect(controlPlanePath("deleteDatabase", "../admin?x=1#y")).toBe(
      "/v1/databases/..%2Fadmin%3Fx%3D1%23y",
    );
    expect(controlPlanePath("mintToken", "é d")).toBe("/v1/databases/%C3%A9%20d/tokens");
  });

  test("every route with a name has exactly one {name}; the others none", () => {
    for (const [route, { path }] of Object.entries(CONTROL_PLANE_API)) {
      // A database's sub-resource ({name} and {id}) takes both.
      const filled = controlPlanePath(route as ControlPlaneRoute, "x", "y");
      expect(filled.includes("{")).toBe(false);
      expect(path.split("{name}").length - 1).toBe(path.startsWith("/v1/databases/") ? 1 : 0);
    }
    expect(controlPlanePath("deleteBackup", "a b", "1/2")).toBe(
      "/v1/databases/a%20b/backups/1%2F2",
    );
  });
});
