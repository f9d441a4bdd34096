/**
 * How the functions send HTTP requests to a database's worker. On Workers runtimes `fetch` is
 * the platform's own and cheap; in Node it is undici's WHATWG fetch, which costs about 390 µs of
 * CPU per request (bench/functions-throughput), so the Node host hands its entries a transport
 * on undici's pooled `request` instead (functions/host/undici-transport.ts), through the
 * WORKER_TRANSPORT binding.
 */
export interface WorkerRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | ArrayBuffer | Uint8Array;
}

export interface WorkerTransport {
  /** The whole answer as text (REST reads Hrana JSON). */
  text(url: string, request: WorkerRequest): Promise<{ status: number; text: string }>;
  /**
   * The answer as a Response to pass on as it is (the libSQL proxy does): the worker's status,
   * body and only its content-type and content-length headers.
   */
  response(url: string, request: WorkerRequest): Promise<Response>;
}

/** The client's headers the libSQL proxy passes on to the worker (with a worker token of its own). */
export const FORWARDED_REQUEST_HEADERS = ["content-type", "accept", "x-turso-encryption-key"];

/** The worker's headers a passed-on answer keeps (the rest describe the worker's own hop). */
export const PASSED_ON_HEADERS = ["content-type", "content-length"];

/**
 * Asks the worker for an uncompressed answer: fetch would decompress a compressed one (it
 * offers gzip and br by itself) yet keep its Content-Length, which `response` passes on; and
 * between neighbours compression only costs CPU. The client's own hop is compressed by the host.
 */
const uncompressed = (request: WorkerRequest): WorkerRequest => ({
  ...request,
  headers: { ...request.headers, "accept-encoding": "identity" },
});

export const fetchTransport: WorkerTransport = {
  async text(url, request) {
    const res = await fetch(url, uncompressed(request));
    return { status: res.status, text: await res.text() };
  },
  async response(url, request) {
    const res = await fetch(url, uncompressed(request));
    const headers = new Headers();
    for (const name of PASSED_ON_HEADERS) {
      const value = res.headers.get(name);
      if (value) headers.set(name, value);
    }
    return new Response(res.body, { status: res.status, headers });
  },
};

/** The transport a function's bindings provide, else fetch. */
export function workerTransport(bindings: Record<string, unknown> | undefined): WorkerTransport {
  const provided = bindings?.WORKER_TRANSPORT as WorkerTransport | undefined;
  return provided && typeof provided.text === "function" ? provided : fetchTransport;
}
