import { SqlError } from "../engine/errors";
import type { ResponseBudget, ResponseLimits } from "../engine/limits";
import { ResponseError } from "./errors";
import type { HttpStreams } from "./http-streams";
import type * as proto from "./proto";
import { errorOf, type HranaStream } from "./stream";

/**
 * One HTTP request's turn on a stream: takes the baton's stream (or a new one), runs `work` in
 * the stream's order with the request's access, and returns the next baton. If `work` fails
 * (a ProtocolError), the stream is closed, as sqld does.
 */
async function onStream<T>(
  streams: HttpStreams,
  limits: ResponseLimits,
  baton: string | undefined,
  readOnly: boolean,
  work: (stream: HranaStream, budget: ResponseBudget) => Promise<T>,
): Promise<{ baton: string | null; result: T }> {
  const lease = streams.acquire(baton);
  const { stream } = lease;
  const budget = limits.newBudget();
  try {
    const result = await stream.enqueue(() => {
      stream.readOnly = readOnly;
      return work(stream, budget);
    });
    return { baton: streams.release(lease), result };
  } catch (err) {
    streams.abort(lease);
    throw err;
  } finally {
    budget.release();
  }
}

/**
 * Hrana over HTTP: runs a pipeline's requests in order on the baton's stream. Every request gets
 * a result, failed or not; a ProtocolError aborts the pipeline and closes the stream.
 */
export async function runPipeline(
  streams: HttpStreams,
  limits: ResponseLimits,
  req: proto.PipelineRequest,
  readOnly: boolean,
): Promise<proto.PipelineRespBody> {
  const { baton, result } = await onStream(
    streams,
    limits,
    req.baton,
    readOnly,
    async (stream, budget) => {
      const out: proto.StreamResult[] = [];
      for (const request of req.requests) {
        try {
          out.push({ type: "ok", response: await stream.handle(request, budget) });
        } catch (err) {
          if (!(err instanceof SqlError || err instanceof ResponseError)) throw err;
          out.push({ type: "error", error: errorOf(err) });
        }
      }
      return out;
    },
  );
  return { baton, base_url: null, results: result };
}

/**
 * Hrana 3 cursor over HTTP: the first line is {baton, base_url}, then one entry per line.
 * Entries are produced in full before the response starts (results are bounded by the response
 * size limits anyway).
 */
export async function runCursor(
  streams: HttpStreams,
  limits: ResponseLimits,
  req: proto.CursorRequest,
  readOnly: boolean,
): Promise<{ head: { baton: string | null; base_url: null }; entries: proto.CursorEntry[] }> {
  const { baton, result } = await onStream(streams, limits, req.baton, readOnly, (stream, budget) =>
    stream.cursor(req.batch, budget),
  );
  return { head: { baton, base_url: null }, entries: result };
}
