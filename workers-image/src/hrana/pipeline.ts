import { SqlError } from "../engine/errors";
import type { ResponseLimits } from "../engine/limits";
import { ResponseError } from "./errors";
import type { HttpStreams } from "./http-streams";
import type * as proto from "./proto";
import { errorOf } from "./stream";

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
  const lease = streams.acquire(req.baton);
  const { stream } = lease;
  const budget = limits.newBudget();
  try {
    const results = await stream.enqueue(async () => {
      stream.readOnly = readOnly;
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
    });
    return { baton: streams.release(lease), base_url: null, results };
  } catch (err) {
    streams.abort(lease);
    throw err;
  } finally {
    budget.release();
  }
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
  const lease = streams.acquire(req.baton);
  const { stream } = lease;
  const budget = limits.newBudget();
  try {
    const entries = await stream.enqueue(async () => {
      stream.readOnly = readOnly;
      return stream.cursor(req.batch, budget);
    });
    return { head: { baton: streams.release(lease), base_url: null }, entries };
  } catch (err) {
    streams.abort(lease);
    throw err;
  } finally {
    budget.release();
  }
}
