/**
 * The worker's Hrana POSTs (pipelines, cursors) on the shared hot path (core/hot-path.ts):
 * which request lines it takes, the credentials checked on the head (a refused request's body
 * is not kept), and the answers of ./answers.ts written as they are. Everything else (GETs,
 * WebSocket upgrades, any rarer HTTP) goes to the worker's node:http server.
 */
import { type HotAnswer, HotPath, type HotPathOptions } from "../../../core/hot-path";
import type { Access } from "../../../core/jwt";
import { type Answer, answerHeaders, errorAnswer, type HranaRequest } from "./answers";

/** The routes the hot path serves: a pipeline of a protocol version, or a cursor. */
export type HotRoute = 2 | 3 | "cursor";

/** A Map, not an object: a request line such as `constructor` must find nothing. */
const REQUEST_LINES = new Map<string, HotRoute>([
  ["POST /v2/pipeline HTTP/1.1", 2],
  ["POST /v3/pipeline HTTP/1.1", 3],
  ["POST /v3/cursor HTTP/1.1", "cursor"],
]);
const READS: ReadonlySet<string> = new Set(["authorization", "accept-encoding"]);

interface Admitted {
  route: HotRoute;
  access: Access;
  acceptEncoding: string | undefined;
}

type Generic = HotPathOptions<HotRoute, Admitted>;

export interface WorkerHotPathOptions
  extends Omit<Generic, "route" | "reads" | "admit" | "answer"> {
  /** The access a request's Authorization header gives; throws (an AuthError) to refuse it. */
  authenticate(authorization: string | undefined): Access;
  /** Answers a framed, authenticated request; never rejects (errors are answers too). */
  answer(route: HotRoute, request: HranaRequest): Promise<Answer>;
}

export function workerHotPath(options: WorkerHotPathOptions): HotPath<HotRoute, Admitted> {
  const { authenticate, answer, ...rest } = options;
  return new HotPath<HotRoute, Admitted>({
    ...rest,
    route: (line) => REQUEST_LINES.get(line),
    reads: READS,
    admit: ({ route, headers }) => {
      try {
        const access = authenticate(headers.get("authorization"));
        return { admitted: { route, access, acceptEncoding: headers.get("accept-encoding") } };
      } catch (err) {
        return { refusal: hotAnswer(errorAnswer(err)) };
      }
    },
    answer: async ({ route, access, acceptEncoding }, body) =>
      hotAnswer(await answer(route, { access, acceptEncoding, body })),
  });
}

/** A worker answer as the hot path writes it: the same headers as node:http's front end. */
function hotAnswer(answer: Answer): HotAnswer {
  return {
    status: answer.status,
    headers: answerHeaders(answer),
    body: answer.body,
    ...(answer.close ? { close: true } : {}),
  };
}
