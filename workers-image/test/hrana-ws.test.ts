/**
 * Hrana over WebSocket at the wire level: subprotocol negotiation, hello, independent streams on
 * one connection, cursors and protocol violations.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { type Json, RawClient } from "../../testkit/hrana-ws";
import { removeDir } from "../../testkit/temp";
import { sleep } from "../../testkit/wait";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorkerProcess();
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

const exec = (stream_id: number, sql: string) => ({ type: "execute", stream_id, stmt: { sql } });

test.each([
  [["hrana3", "hrana2"], "hrana3"],
  [["hrana2", "hrana1"], "hrana2"],
  [["hrana1"], "hrana1"],
  [["hrana3-protobuf", "hrana2"], "hrana2"],
])("offering %j selects %s", async (offered, selected) => {
  const client = await RawClient.connect(worker.wsUrl, offered);
  expect(client.ws.protocol).toBe(selected);
  client.ws.close();
});

test("no subprotocol means hrana1 without a response header; unknown ones are refused", async () => {
  const plain = await RawClient.connect(worker.wsUrl, null);
  expect(plain.ws.protocol).toBe("");
  expect(await plain.hello()).toEqual({ type: "hello_ok" });
  plain.ws.close();

  const ws = new WebSocket(worker.wsUrl, ["graphql-ws"]);
  const status = await new Promise<number>((resolve) => {
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", () => {});
  });
  expect(status).toBe(400);
});

test("a request before hello closes the connection with 1008", async () => {
  const client = await RawClient.connect(worker.wsUrl);
  client.ws.send(
    JSON.stringify({
      type: "request",
      request_id: 1,
      request: { type: "open_stream", stream_id: 1 },
    }),
  );
  expect(await client.closed).toEqual({
    code: 1008,
    reason: "Received a request before hello message",
  });
});

test("invalid JSON closes with 1007, binary frames with 1003", async () => {
  const json = await RawClient.connect(worker.wsUrl);
  json.ws.send("{nope");
  expect((await json.closed).code).toBe(1007);
  const binary = await RawClient.connect(worker.wsUrl);
  binary.ws.send(Buffer.from([1, 2, 3]));
  expect((await binary.closed).code).toBe(1003);
});

test("requests run per stream; a stream waiting for the lock does not block the holder", async () => {
  const client = await RawClient.connect(worker.wsUrl);
  await client.hello();
  await client.request({ type: "open_stream", stream_id: 1 });
  await client.request({ type: "open_stream", stream_id: 2 });
  await client.request(exec(1, "CREATE TABLE IF NOT EXISTS ws_t (v TEXT)"));
  await client.request(exec(1, "BEGIN IMMEDIATE"));
  await client.request(exec(1, "INSERT INTO ws_t VALUES ('one')"));
  const waiting = client.request(exec(2, "INSERT INTO ws_t VALUES ('two')"));
  let waitingDone = false;
  void waiting.then(() => {
    waitingDone = true;
  });
  await sleep(150);
  expect(waitingDone).toBe(false);
  const commit = await client.request(exec(1, "COMMIT"));
  expect(commit.type).toBe("response_ok");
  expect((await waiting).type).toBe("response_ok");
  const rows = await client.request(
    exec(2, "SELECT group_concat(v) FROM (SELECT v FROM ws_t ORDER BY v)"),
  );
  expect(rows.response.result.rows).toEqual([[{ type: "text", value: "one,two" }]]);
  client.ws.close();
});

test("closing the socket rolls back the transaction and frees the lock", async () => {
  const a = await RawClient.connect(worker.wsUrl);
  await a.hello();
  await a.request({ type: "open_stream", stream_id: 1 });
  await a.request(exec(1, "CREATE TABLE IF NOT EXISTS ws_close (v TEXT)"));
  await a.request(exec(1, "BEGIN IMMEDIATE"));
  await a.request(exec(1, "INSERT INTO ws_close VALUES ('lost')"));
  a.ws.terminate();

  const b = await RawClient.connect(worker.wsUrl);
  await b.hello();
  await b.request({ type: "open_stream", stream_id: 1 });
  const insert = await b.request(exec(1, "INSERT INTO ws_close VALUES ('kept')"));
  expect(insert.type).toBe("response_ok");
  const rows = await b.request(exec(1, "SELECT group_concat(v) FROM ws_close"));
  expect(rows.response.result.rows).toEqual([[{ type: "text", value: "kept" }]]);
  b.ws.close();
});

test("stored SQL is per connection and resolved when the request arrives", async () => {
  const client = await RawClient.connect(worker.wsUrl, ["hrana2"]);
  await client.hello();
  await client.request({ type: "open_stream", stream_id: 1 });
  await client.request({ type: "store_sql", sql_id: 5, sql: "SELECT 40 + 2" });
  const run = client.request({ type: "execute", stream_id: 1, stmt: { sql_id: 5 } });
  const closeSql = client.request({ type: "close_sql", sql_id: 5 });
  expect((await run).response.result.rows).toEqual([[{ type: "integer", value: "42" }]]);
  expect((await closeSql).type).toBe("response_ok");
  client.ws.close();
});

test("SQL errors are response_error, the connection stays open", async () => {
  const client = await RawClient.connect(worker.wsUrl);
  await client.hello();
  await client.request({ type: "open_stream", stream_id: 1 });
  const err = await client.request(exec(1, "SELECT * FROM nope"));
  expect(err).toMatchObject({ type: "response_error", error: { code: "SQLITE_ERROR" } });
  const ok = await client.request(exec(1, "SELECT 1"));
  expect(ok.type).toBe("response_ok");
  client.ws.close();
});

test("Hrana 3 cursors over WebSocket", async () => {
  const client = await RawClient.connect(worker.wsUrl);
  await client.hello();
  await client.request({ type: "open_stream", stream_id: 1 });
  const opened = await client.request({
    type: "open_cursor",
    stream_id: 1,
    cursor_id: 9,
    batch: { steps: [{ stmt: { sql: "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3" } }] },
  });
  expect(opened.type).toBe("response_ok");
  const first = await client.request({ type: "fetch_cursor", cursor_id: 9, max_count: 2 });
  expect(first.response.entries.map((e: Json) => e.type)).toEqual(["step_begin", "row"]);
  expect(first.response.done).toBe(false);
  const rest = await client.request({ type: "fetch_cursor", cursor_id: 9, max_count: 100 });
  expect(rest.response.entries.map((e: Json) => e.type)).toEqual(["row", "row", "step_end"]);
  expect(rest.response.done).toBe(true);
  await client.request({ type: "close_cursor", cursor_id: 9 });
  client.ws.close();
});

test("duplicate stream ids are a protocol violation", async () => {
  const client = await RawClient.connect(worker.wsUrl);
  await client.hello();
  await client.request({ type: "open_stream", stream_id: 1 });
  client.ws.send(
    JSON.stringify({
      type: "request",
      request_id: 99,
      request: { type: "open_stream", stream_id: 1 },
    }),
  );
  expect(await client.closed).toEqual({ code: 1008, reason: "Stream 1 already exists" });
});
