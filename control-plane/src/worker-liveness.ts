/**
 * What the control plane asks a running worker over HTTP. Only sqld's own endpoints, so the
 * official image answers the same as ours.
 */

const PROBE_TIMEOUT_MS = 2000;
/**
 * A worker about to stop for idleness has nothing to do and answers at once. One that does not
 * answer this soon is busy, and a busy worker does not stop for idleness: a resolve (which
 * holds its database's lock meanwhile) need not wait longer on it.
 */
const KEEP_AWAKE_TIMEOUT_MS = 250;

/** The manager's questions to a running worker (tests answer them for in-memory workers). */
export interface WorkerLiveness {
  isHealthy(url: string): Promise<boolean>;
  keepAwake(url: string, token: string): Promise<Liveness>;
}

/** GET /health answered 200 (a probe: it never keeps an idle worker awake). */
export async function isHealthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })).ok;
  } catch {
    return false;
  }
}

/**
 * - `serving`: the worker took the request as use and is not stopping: it serves for at least
 *   its idle timeout from now.
 * - `stopping`: it is ending itself (an idle shutdown caught part-way): its address refuses
 *   connections or will shortly.
 * - `unknown`: no answer in time (a busy worker, say): nothing can be concluded.
 */
export type Liveness = "serving" | "stopping" | "unknown";

/**
 * Tells a worker it is about to be used, then asks whether it is still serving. A Hrana
 * pipeline (of one `close`) is use to sqld and to our worker alike (probes are not), so it
 * resets the idle clock; /health after it tells a worker that had already begun to stop (503, or the
 * connection refused). Without this, a caller handed the address of a worker at the end of
 * its idle timeout meets a closed port.
 */
export async function keepAwake(url: string, token: string): Promise<Liveness> {
  try {
    const res = await fetch(`${url}/v2/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      // A stream opened and closed at once: nothing is left open on the worker.
      body: '{"baton":null,"requests":[{"type":"close"}]}',
      signal: AbortSignal.timeout(KEEP_AWAKE_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    const health = await fetch(`${url}/health`, {
      signal: AbortSignal.timeout(KEEP_AWAKE_TIMEOUT_MS),
    });
    await health.arrayBuffer();
    return health.ok ? "serving" : health.status === 503 ? "stopping" : "unknown";
  } catch (err) {
    return isClosedPort(err) ? "stopping" : "unknown";
  }
}

/**
 * Codes of a port that refuses connections or closes them unanswered (Docker's proxy accepts,
 * then closes once nothing listens behind it). A timeout, or a name that does not resolve, says
 * nothing about the worker stopping.
 */
const CLOSED_PORT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

const isClosedPort = (err: unknown): boolean => {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  return CLOSED_PORT_CODES.has(String(cause?.code ?? ""));
};

/** Over HTTP, as a real worker is asked. */
export const httpLiveness: WorkerLiveness = { isHealthy, keepAwake };
