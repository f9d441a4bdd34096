import { describe, expect, test } from "vitest";
import { ApiError } from "../../../core/errors";
import { acceptHandshake, type HandshakeRequest } from "./handshake";

const KEY = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455's example key

function request(
  headers: Record<string, string>,
  over: Partial<Omit<HandshakeRequest, "header">> = {},
): HandshakeRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: "GET",
    rest: "/",
    header: (name) => (Object.hasOwn(lower, name) ? lower[name] : undefined),
    ...over,
  };
}

const valid = (extra: Record<string, string> = {}) =>
  request({ "Sec-WebSocket-Key": KEY, "Sec-WebSocket-Version": "13", ...extra });

function refusal(req: HandshakeRequest): { code: string; status: number; message: string } {
  try {
    acceptHandshake(req);
  } catch (err) {
    if (err instanceof ApiError)
      return { code: err.code, status: err.status, message: err.message };
    throw err;
  }
  throw new Error("expected the handshake to be refused");
}

describe("acceptHandshake", () => {
  test("the subprotocol to answer with: the best offered, or null for none", () => {
    expect(acceptHandshake(valid())).toBeNull();
    expect(acceptHandshake(valid({ "Sec-WebSocket-Protocol": "hrana2, hrana3" }))).toBe("hrana3");
    expect(acceptHandshake(valid({ "Sec-WebSocket-Protocol": "hrana1" }))).toBe("hrana1");
  });

  test("off /db/{name}/ is NOT_FOUND, before anything else is checked", () => {
    expect(refusal(request({}, { rest: "/v2/pipeline", method: "POST" }))).toEqual({
      code: "NOT_FOUND",
      status: 404,
      message: "WebSockets are served on /db/{name}/ only",
    });
    expect(refusal(request({}, { rest: "" })).code).toBe("NOT_FOUND");
  });

  test("a handshake that is not a GET is BAD_REQUEST", () => {
    const req = { ...valid(), method: "POST" };
    expect(refusal(req)).toEqual({
      code: "BAD_REQUEST",
      status: 400,
      message: "A WebSocket handshake is a GET",
    });
  });

  test.each([
    ["no key", { "Sec-WebSocket-Version": "13" }],
    ["no version", { "Sec-WebSocket-Key": KEY }],
    ["version 8", { "Sec-WebSocket-Key": KEY, "Sec-WebSocket-Version": "8" }],
    ["a short key", { "Sec-WebSocket-Key": "c2hvcnQ=", "Sec-WebSocket-Version": "13" }],
    [
      "a key of 16 bytes with bad characters",
      { "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25j*Q==", "Sec-WebSocket-Version": "13" },
    ],
    ["a key with trailing text", { "Sec-WebSocket-Key": `${KEY}x`, "Sec-WebSocket-Version": "13" }],
  ])("%s is not a valid handshake", (_, headers) => {
    expect(refusal(request(headers))).toEqual({
      code: "BAD_REQUEST",
      status: 400,
      message: "Not a valid WebSocket handshake",
    });
  });

  test("only subprotocols we relay are accepted", () => {
    expect(refusal(valid({ "Sec-WebSocket-Protocol": "hrana3-protobuf" }))).toEqual({
      code: "BAD_REQUEST",
      status: 400,
      message: "Only the hrana3, hrana2 and hrana1 subprotocols are supported",
    });
  });
});
