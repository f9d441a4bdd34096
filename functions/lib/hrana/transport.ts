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
  body?: string | ArrayBuffer;
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

/** The worker's headers a passed-on answer keeps (the rest describe the worker's own hop). */
export const PASSED_ON_HEADERS = ["content-type", "content-length"];

export const fetchTransport: WorkerTransport = {
  async text(url, request) {
    const res = await fetch(url, request);
    return { status: res.status, text: await res.text() };
  },
  async response(url, request) {
    const res = await fetch(url, request);
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
