/** The relay's state machine, with fake sockets and a scripted resolve/connect. */
import { describe, expect, test } from "vitest";
import { ApiError } from "../../../core/errors";
import type { Resolved } from "../control-plane-client";
import { MAX_CREDENTIAL_LENGTH } from "../credentials";
import { chooseSubprotocol, HranaRelay, type RelayOptions, type RelaySocket } from "./relay";

class FakeSocket implements RelaySocket {
  readonly sent: string[] = [];
  closed: { code: number | undefined; reason: string | undefined } | undefined;
  send(text: string): void {
    if (this.closed) throw new Error("send after close");
    this.sent.push(text);
  }
  close(code?: number, reason?: string): void {
    this.closed ??= { code, reason };
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

const resolved = (token: string, url = "http://worker:1"): Resolved => ({
  url,
  token,
  access: "full-access",
  expiresAt: null,
  awakeForMs: null,
});

const hello = (jwt?: string) =>
  JSON.stringify(jwt === undefined ? { type: "hello" } : { type: "hello", jwt });

type Events = Parameters<RelayOptions["connect"]>[2];

/** A relay whose resolve and connect record their calls; by default both succeed at once. */
function setup(
  overrides: {
    resolve?: RelayOptions["resolve"];
    connect?: (url: string, protocol: string) => Promise<void>;
  } = {},
) {
  const client = new FakeSocket();
  const upstream = new FakeSocket();
  const resolves: Array<string | null> = [];
  const connects: Array<[string, string]> = [];
  let events: Events | undefined;
  const relay = new HranaRelay({
    client,
    protocol: "hrana3",
    resolve: (jwt) => {
      resolves.push(jwt);
      return overrides.resolve ? overrides.resolve(jwt) : Promise.resolve(resolved(`w-${jwt}`));
    },
    connect: async (url, protocol, e) => {
      connects.push([url, protocol]);
      events = e;
      await overrides.connect?.(url, protocol);
      return upstream;
    },
  });
  const upstreamEvents = (): Events => {
    if (!events) throw new Error("not connected");
    return events;
  };
  return { relay, client, upstream, resolves, connects, upstreamEvents };
}

describe("HranaRelay", () => {
  test("a hello's credentials are swapped for the resolved worker token", async () => {
    const { relay, upstream, resolves, connects } = setup();
    relay.clientMessage(hello("client-token"));
    await settle();
    expect(resolves).toEqual(["client-token"]);
    expect(connects).toEqual([["http://worker:1", "hrana3"]]);
    expect(upstream.sent).toEqual([hello("w-client-token")]);
  });

  test("a hello without a jwt resolves with null", async () => {
    const { relay, resolves } = setup();
    relay.clientMessage(hello());
    relay.clientMessage(JSON.stringify({ type: "hello", jwt: 42 }));
    await settle();
    expect(resolves).toEqual([null, null]);
  });

  test("messages sent before the hello's resolve are queued, then flushed in order", async () => {
    const gate = deferred<Resolved>();
    const { relay, upstream } = setup({ resolve: () => gate.promise });
    relay.clientMessage(hello("t"));
    relay.clientMessage('{"type":"request","request_id":1}');
    relay.clientMessage('{"type":"request","request_id":2}');
    await settle();
    expect(upstream.sent).toEqual([]);
    gate.resolve(resolved("w"));
    await settle();
    expect(upstream.sent).toEqual([
      hello("w"),
      '{"type":"request","request_id":1}',
      '{"type":"request","request_id":2}',
    ]);
    // Later messages go straight through.
    relay.clientMessage('{"type":"request","request_id":3}');
    expect(upstream.sent.at(-1)).toBe('{"type":"request","request_id":3}');
  });

  test("a re-hello resolves afresh on the same upstream; messages after it wait for it", async () => {
    const gates = [deferred<Resolved>(), deferred<Resolved>()];
    let n = 0;
    const { relay, upstream, connects, resolves } = setup({
      resolve: () => (gates[n++] as Deferred<Resolved>).promise,
    });
    relay.clientMessage(hello("first"));
    gates[0]?.resolve(resolved("w1"));
    await settle();
    relay.clientMessage("a");
    relay.clientMessage(hello("second"));
    relay.clientMessage("b");
    await settle();
    expect(upstream.sent).toEqual([hello("w1"), "a"]);
    gates[1]?.resolve(resolved("w2", "http://elsewhere:2"));
    await settle();
    expect(resolves).toEqual(["first", "second"]);
    // One upstream: the worker re-authenticates the stream, it is not reopened.
    expect(connects).toHaveLength(1);
    expect(upstream.sent).toEqual([hello("w1"), "a", hello("w2"), "b"]);
  });

  test("messages are not mistaken for hellos", async () => {
    const { relay, upstream, resolves } = setup();
    relay.clientMessage(hello("t"));
    await settle();
    // Each contains "hello" in quotes, the relay's cheap pre-test.
    const notHellos = ['{"type":"request","note":"hello"}', '"hello"', '{"hello" broken'];
    for (const text of notHellos) relay.clientMessage(text);
    expect(resolves).toEqual(["t"]);
    expect(upstream.sent.slice(1)).toEqual(notHellos);
  });

  test("a resolve failure sends hello_error with the error's code and closes", async () => {
    const { relay, client, upstream, connects } = setup({
      resolve: () => Promise.reject(new ApiError("DATABASE_NOT_FOUND", 'No database named "x"')),
    });
    relay.clientMessage("queued");
    relay.clientMessage(hello("t"));
    await settle();
    expect(client.sent).toEqual([
      JSON.stringify({
        type: "hello_error",
        error: { message: 'No database named "x"', code: "DATABASE_NOT_FOUND" },
      }),
    ]);
    expect(client.closed).toEqual({ code: 1000, reason: "Authentication failed" });
    expect(connects).toEqual([]);
    expect(upstream.sent).toEqual([]);
  });

  test("an unexpected resolve failure is a generic UNAUTHORIZED hello_error", async () => {
    const { relay, client } = setup({ resolve: () => Promise.reject(new Error("secret detail")) });
    relay.clientMessage(hello("t"));
    await settle();
    expect(JSON.parse(client.sent[0] ?? "")).toEqual({
      type: "hello_error",
      error: { message: "Authentication failed", code: "UNAUTHORIZED" },
    });
  });

  test("an oversized hello token is refused without calling resolve", async () => {
    const { relay, client, resolves } = setup();
    relay.clientMessage(hello("x".repeat(MAX_CREDENTIAL_LENGTH + 1)));
    await settle();
    expect(resolves).toEqual([]);
    expect(JSON.parse(client.sent[0] ?? "").error.code).toBe("UNAUTHORIZED");
    expect(client.closed?.code).toBe(1000);
  });

  test("a re-hello that fails closes both sides", async () => {
    let n = 0;
    const { relay, client, upstream } = setup({
      resolve: () =>
        n++ === 0
          ? Promise.resolve(resolved("w"))
          : Promise.reject(new ApiError("UNAUTHORIZED", "revoked")),
    });
    relay.clientMessage(hello("a"));
    await settle();
    relay.clientMessage(hello("b"));
    await settle();
    expect(JSON.parse(client.sent.at(-1) ?? "").type).toBe("hello_error");
    expect(client.closed).toEqual({ code: 1000, reason: "Authentication failed" });
    expect(upstream.closed).toEqual({ code: 1000, reason: "relay closed" });
  });

  test("hellos queued behind a failed one are not resolved", async () => {
    const gate = deferred<Resolved>();
    const { relay, resolves, connects } = setup({ resolve: () => gate.promise });
    relay.clientMessage(hello("bad"));
    relay.clientMessage(hello("good"));
    gate.reject(new ApiError("UNAUTHORIZED"));
    await settle();
    expect(resolves).toEqual(["bad"]);
    expect(connects).toEqual([]);
  });

  test("an unreachable worker is a WORKER_UNAVAILABLE hello_error and 1011", async () => {
    const { relay, client } = setup({
      connect: () => Promise.reject(new Error("ECONNREFUSED")),
    });
    relay.clientMessage(hello("t"));
    await settle();
    expect(JSON.parse(client.sent[0] ?? "")).toEqual({
      type: "hello_error",
      error: { message: "Database worker unreachable: ECONNREFUSED", code: "WORKER_UNAVAILABLE" },
    });
    expect(client.closed).toEqual({ code: 1011, reason: "Database worker unreachable" });
  });

  test("the worker's messages reach the client", async () => {
    const { relay, client, upstreamEvents } = setup();
    relay.clientMessage(hello("t"));
    await settle();
    upstreamEvents().message('{"type":"hello_ok"}');
    expect(client.sent).toEqual(['{"type":"hello_ok"}']);
  });

  test.each([
    [1000, "bye", 1000],
    [1001, "going away", 1001],
    [4000, "custom", 4000],
    // "No status" and "abnormal" cannot be sent in a close frame: the relay failed, 1011.
    [1005, "", 1011],
    [1006, "", 1011],
  ])("the worker closing with %i closes the client with %i", async (code, reason, expected) => {
    const { relay, client, upstream, upstreamEvents } = setup();
    relay.clientMessage(hello("t"));
    await settle();
    upstreamEvents().close(code, reason);
    expect(client.closed).toEqual({ code: expected, reason });
    expect(upstream.closed).toEqual({ code: 1000, reason: "relay closed" });
    // Nothing more is relayed either way.
    upstreamEvents().message("late");
    relay.clientMessage("late");
    expect(client.sent).toEqual([]);
    expect(upstream.sent).toEqual([hello("w-t")]);
  });

  test("a long close reason is cut to 120 characters", async () => {
    const { relay, client, upstreamEvents } = setup();
    relay.clientMessage(hello("t"));
    await settle();
    upstreamEvents().close(4001, "r".repeat(500));
    expect(client.closed?.reason).toBe("r".repeat(120));
  });

  test("the client closing closes the worker's side; later messages are dropped", async () => {
    const { relay, upstream, resolves } = setup();
    relay.clientMessage(hello("t"));
    await settle();
    relay.clientClosed();
    expect(upstream.closed).toEqual({ code: 1000, reason: "client closed" });
    relay.clientMessage("late");
    relay.clientMessage(hello("again"));
    await settle();
    expect(upstream.sent).toEqual([hello("w-t")]);
    expect(resolves).toEqual(["t"]);
  });

  test("a client that leaves while the worker's side opens does not leave it open", async () => {
    const gate = deferred<void>();
    const { relay, client, upstream } = setup({ connect: () => gate.promise });
    relay.clientMessage(hello("t"));
    await settle();
    relay.clientClosed();
    gate.resolve();
    await settle();
    expect(upstream.closed).toEqual({ code: 1000, reason: "client closed" });
    expect(upstream.sent).toEqual([]);
    expect(client.sent).toEqual([]);
  });

  test("a client that leaves during resolve gets no worker connection", async () => {
    const gate = deferred<Resolved>();
    const { relay, client, connects } = setup({ resolve: () => gate.promise });
    relay.clientMessage(hello("t"));
    relay.clientClosed();
    gate.resolve(resolved("w"));
    await settle();
    expect(connects).toEqual([]);
    expect(client.sent).toEqual([]);
  });
});

describe("chooseSubprotocol", () => {
  test("no header: null (hrana1, and no header in the answer)", () => {
    expect(chooseSubprotocol(undefined)).toBeNull();
    expect(chooseSubprotocol(null)).toBeNull();
    expect(chooseSubprotocol("")).toBeNull();
  });

  test("the best relayed protocol offered, whatever the order, case or spacing", () => {
    expect(chooseSubprotocol("hrana1, hrana2 ,hrana3")).toBe("hrana3");
    expect(chooseSubprotocol("hrana2,hrana1")).toBe("hrana2");
    expect(chooseSubprotocol("HRANA1")).toBe("hrana1");
    expect(chooseSubprotocol("hrana3-protobuf, hrana2")).toBe("hrana2");
  });

  test("nothing we relay: undefined", () => {
    expect(chooseSubprotocol("hrana3-protobuf")).toBeUndefined();
    expect(chooseSubprotocol("chat, superchat")).toBeUndefined();
    expect(chooseSubprotocol(",")).toBeUndefined();
  });
});
