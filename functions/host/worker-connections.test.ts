/**
 * The fast lane's hand-framed worker client against real servers: node:http (as the worker's
 * fallback and sqld-like servers answer) and raw sockets for the framings node:http does not
 * produce on its own (close-delimited bodies, 1xx answers, answers broken off).
 */
import { once } from "node:events";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { Readable } from "node:stream";
import { afterEach, expect, test } from "vitest";
import { connectionFailure } from "../lib/sql-errors";
import { BUFFER_UP_TO, type WorkerAnswer, WorkerConnections } from "./worker-connections";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  // Last in, first out: sockets and clients go before the servers that wait for them.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen<S extends Server | NetServer>(server: S): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(() => new Promise((closed) => server.close(closed)));
  if ("closeAllConnections" in server) cleanups.push(() => server.closeAllConnections());
  return (server.address() as { port: number }).port;
}

/** A node:http server answering `answer`, counting the connections it was given. */
async function httpServer(
  answer: (body: string, res: import("node:http").ServerResponse) => void,
  keepAliveMs = 5000,
): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => answer(body, res));
  });
  server.keepAliveTimeout = keepAliveMs;
  server.on("connection", () => connections++);
  return { port: await listen(server), connections: () => connections };
}

/** A raw server that answers every request with `bytes` (then `after`: end, destroy or keep). */
async function rawServer(bytes: string, after: "end" | "destroy" | "keep" = "keep") {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", () => {
      socket.write(bytes);
      if (after === "end") socket.end();
      if (after === "destroy") socket.destroy();
    });
  });
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
  });
  return listen(server);
}

async function text(answer: WorkerAnswer): Promise<string> {
  if (!(answer.body instanceof Readable)) return answer.body.toString();
  const chunks: Buffer[] = [];
  for await (const chunk of answer.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function client(): WorkerConnections {
  const connections = new WorkerConnections();
  cleanups.push(() => connections.close());
  return connections;
}

const post = (c: WorkerConnections, port: number, body = "{}") =>
  c.post(
    "127.0.0.1",
    port,
    "/v2/pipeline",
    { "content-type": "application/json" },
    Buffer.from(body),
  );

test("answers with a length, small and large, on one kept-alive connection", async () => {
  const large = "y".repeat(BUFFER_UP_TO * 3);
  const server = await httpServer((body, res) => {
    const out = body === "large" ? large : `echo ${body}`;
    res.writeHead(201, { "content-type": "text/plain", "content-length": Buffer.byteLength(out) });
    res.end(out);
  });
  const c = client();
  const small = await post(c, server.port, "a");
  expect(small.status).toBe(201);
  expect(small.headers["content-type"]).toBe("text/plain");
  expect(Buffer.isBuffer(small.body)).toBe(true);
  expect(await text(small)).toBe("echo a");
  const big = await post(c, server.port, "large");
  expect(big.body).toBeInstanceOf(Readable);
  expect(await text(big)).toBe(large);
  expect(await text(await post(c, server.port, "b"))).toBe("echo b");
  expect(server.connections()).toBe(1);
});

test("a chunked answer streams whole, and its connection is used again", async () => {
  const server = await httpServer((_body, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"a":');
    setTimeout(() => res.end('"b".repeat"}'), 5);
  });
  const c = client();
  for (let i = 0; i < 3; i++)
    expect(await text(await post(c, server.port))).toBe('{"a":"b".repeat"}');
  expect(server.connections()).toBe(1);
});

test("a large answer read slowly, then the next request on the same connection", async () => {
  const large = "z".repeat(BUFFER_UP_TO * 8);
  const server = await httpServer((_body, res) => {
    res.writeHead(200, { "content-length": large.length });
    res.end(large);
  });
  const c = client();
  for (let i = 0; i < 3; i++) {
    const answer = await post(c, server.port);
    let read = 0;
    for await (const chunk of answer.body as Readable) {
      read += (chunk as Buffer).length;
      await new Promise((later) => setTimeout(later, 1));
    }
    expect(read).toBe(large.length);
  }
  expect(server.connections()).toBe(1);
});

test("an answer ended by the connection's end, after a 100 Continue", async () => {
  const port = await rawServer(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil the end",
    "end",
  );
  const c = client();
  const answer = await post(c, port);
  expect(answer.status).toBe(200);
  expect(await text(answer)).toBe("until the end");
  // The connection is not reused: the next request gets a new one, and its answer.
  expect(await text(await post(c, port))).toBe("until the end");
});

test("nobody listening: ECONNREFUSED, which the proxy may send again", async () => {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise((closed) => server.close(closed));
  const failure = await post(client(), port).catch((err: unknown) => err);
  expect(failure).toMatchObject({ code: "ECONNREFUSED" });
  expect(connectionFailure(failure)).toBe("refused");
});

test("an answer broken off: before its head, and in the middle of its body", async () => {
  const c = client();
  const beforeHead = await post(c, await rawServer("", "destroy")).catch((err: unknown) => err);
  expect(connectionFailure(beforeHead)).toBe("broken");
  const half = await rawServer(
    `HTTP/1.1 200 OK\r\nContent-Length: ${BUFFER_UP_TO * 2}\r\n\r\n${"h".repeat(BUFFER_UP_TO)}`,
    "destroy",
  );
  const answer = await post(c, half);
  const broken = await text(answer).catch((err: unknown) => err);
  expect(connectionFailure(broken)).toBe("broken");
  const headOnly = await rawServer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "destroy");
  expect(connectionFailure(await post(c, headOnly).catch((err: unknown) => err))).toBe("broken");
  const garbage = await rawServer("SSH-2.0-OpenSSH\r\n\r\n");
  expect(connectionFailure(await post(c, garbage).catch((err: unknown) => err))).toBe("broken");
});

test("an idle connection is not used past the worker's keep-alive timeout", async () => {
  // A worker that says timeout=2 and would close the connection just as a request goes out:
  // this one never closes it, so only the client's own clock can make it take a new one.
  let connections = 0;
  const server = createNetServer((socket) => {
    connections++;
    socket.on("error", () => {});
    socket.on("data", () =>
      socket.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=2\r\nContent-Length: 2\r\n\r\nok"),
    );
    cleanups.push(() => socket.destroy());
  });
  const port = await listen(server);
  const c = client();
  expect(await text(await post(c, port))).toBe("ok");
  expect(await text(await post(c, port))).toBe("ok");
  expect(connections).toBe(1);
  // Past the timeout less the client's 1 s margin: a new connection.
  await new Promise((later) => setTimeout(later, 1100));
  expect(await text(await post(c, port))).toBe("ok");
  expect(connections).toBe(2);
});

test("at most 32 connections to one worker; more requests wait for one", async () => {
  let open = 0;
  let most = 0;
  const server = await httpServer((_body, res) => {
    open++;
    most = Math.max(most, open);
    setTimeout(() => {
      open--;
      res.end("done");
    }, 20);
  });
  const c = client();
  const answers = await Promise.all(Array.from({ length: 80 }, () => post(c, server.port)));
  expect(await Promise.all(answers.map(text))).toEqual(Array(80).fill("done"));
  expect(most).toBeLessThanOrEqual(32);
  expect(server.connections()).toBeLessThanOrEqual(32);
});

test("a reader that gives up ends its connection; the next request gets a new one", async () => {
  const large = "q".repeat(BUFFER_UP_TO * 16);
  const server = await httpServer((_body, res) => {
    res.writeHead(200, { "content-length": large.length });
    res.end(large);
  });
  const c = client();
  const answer = await post(c, server.port);
  (answer.body as Readable).destroy();
  const next = await post(c, server.port);
  expect(await text(next)).toBe(large);
  expect(server.connections()).toBe(2);
});
