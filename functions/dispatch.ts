import { ApiError, PROBLEM_CONTENT_TYPE, toProblem } from "./lib/errors";
import { matchRoute } from "./route-table";

export type EntryFetch = (request: Request) => Response | Promise<Response>;

function problem(request: Request, err: ApiError): Response {
  const body = toProblem(err, { instance: new URL(request.url).pathname });
  return new Response(JSON.stringify(body), {
    status: err.status,
    headers: { "Content-Type": PROBLEM_CONTENT_TYPE },
  });
}

/**
 * Sends a request to the entry that serves it, by the shared route table: 404 or 405 problem
 * documents otherwise. `target` finds the entry (a service binding, or the module in-process).
 */
export function dispatch(
  request: Request,
  target: (entry: string) => EntryFetch | undefined,
): Response | Promise<Response> {
  const { pathname } = new URL(request.url);
  const match = matchRoute(request.method, pathname);
  if (!match)
    return problem(
      request,
      new ApiError("NOT_FOUND", `No route for ${request.method} ${pathname}`),
    );
  if ("methodNotAllowed" in match) {
    return problem(
      request,
      new ApiError("METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${pathname}`),
    );
  }
  const fetch = target(match.spec.entry);
  if (!fetch)
    return problem(
      request,
      new ApiError("INTERNAL_ERROR", `The entry ${match.spec.entry} is not deployed`),
    );
  return fetch(request);
}
