import { CLIENT_ADDRESS_HEADER } from "../core/auth-throttle";
import { ApiError, PROBLEM_CONTENT_TYPE, toProblem } from "../core/errors";
import { databaseNameFromSegment } from "../core/names";
import { handClientAddress } from "./lib/client-address";
import { checkCredentialSize } from "./lib/credentials";
import { matchRoute, type RouteMatch, type RouteSpec } from "./route-table";

export type EntryFetch = (request: Request) => Response | Promise<Response>;

/** A problem document; under /db/ in the shape libSQL clients read (JSON with `message`). */
export function problem(err: ApiError, pathname: string): Response {
  const body = toProblem(err, { instance: pathname });
  const hrana = pathname.startsWith("/db/");
  return new Response(JSON.stringify(hrana ? { ...body, message: body.detail } : body), {
    status: err.status,
    headers: { "Content-Type": hrana ? "application/json" : PROBLEM_CONTENT_TYPE },
  });
}

/**
 * What every route refuses alike, before its entry runs (in every runtime, as this is the one
 * front door): a `{name}` segment that is not a database name by the one rule of
 * databaseNameFromSegment (so no entry ever sends the control plane an unbounded or
 * undecodable name), and credentials too long to be any token.
 */
function frontDoor(request: Request, spec: RouteSpec, pathname: string): void {
  const index = spec.path.split("/").indexOf("{name}");
  if (index >= 0) databaseNameFromSegment(pathname.split("/")[index] ?? "");
  checkCredentialSize(request.headers.get("authorization"));
}

/**
 * The request as entries see it: with the client's address (for the failed-auth throttle) set
 * by this front door alone; a value the client sent itself is replaced or dropped, never used.
 */
function forEntry(
  request: Request,
  spec: RouteSpec,
  address: string | undefined,
  sameIsolate: boolean,
): Request {
  // Only a GET to /db/{name}/ can be a WebSocket handshake. Elsewhere the header is noise, and
  // workerd fails (500) when a request carrying it through a service binding is not answered
  // with a WebSocket: such requests go on as plain HTTP.
  const strayUpgrade =
    request.headers.has("upgrade") && !(spec.entry === "libsql/proxy" && request.method === "GET");
  const setHeader = !sameIsolate && (address || request.headers.has(CLIENT_ADDRESS_HEADER));
  let forwarded = request;
  if (strayUpgrade || setHeader) {
    const headers = new Headers(request.headers);
    if (!sameIsolate) {
      if (address) headers.set(CLIENT_ADDRESS_HEADER, address);
      else headers.delete(CLIENT_ADDRESS_HEADER);
    }
    if (strayUpgrade) headers.delete("upgrade");
    forwarded = new Request(request, { headers });
  }
  // In the same isolate, the address goes beside the request; a header the client sent is
  // never read (see clientAddress).
  if (sameIsolate) handClientAddress(forwarded, address);
  return forwarded;
}

/** A request's path and its route, found once (the Node host needs them too, for its log). */
export interface Routed {
  pathname: string;
  match: RouteMatch;
}

export function routeOf(request: Request): Routed {
  const { pathname } = new URL(request.url);
  return { pathname, match: matchRoute(request.method, pathname) };
}

/**
 * Sends a request to the entry that serves it, by the shared route table: 404 or 405 problem
 * documents otherwise. `target` finds the entry: a service binding, or (`sameIsolate`) the
 * module in this isolate; `clientAddress` is the client's address as the host knows it.
 */
export function dispatch(
  request: Request,
  target: (entry: string) => EntryFetch | undefined,
  clientAddress?: string,
  sameIsolate = false,
  routed: Routed = routeOf(request),
): Response | Promise<Response> {
  const { pathname, match } = routed;
  if (!match)
    return problem(
      new ApiError("NOT_FOUND", `No route for ${request.method} ${pathname}`),
      pathname,
    );
  if ("methodNotAllowed" in match) {
    return problem(
      new ApiError("METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${pathname}`),
      pathname,
    );
  }
  try {
    frontDoor(request, match.spec, pathname);
  } catch (err) {
    if (err instanceof ApiError) return problem(err, pathname);
    throw err;
  }
  const fetch = target(match.spec.entry);
  if (!fetch)
    return problem(
      new ApiError("INTERNAL_ERROR", `The entry ${match.spec.entry} is not deployed`),
      pathname,
    );
  return fetch(forEntry(request, match.spec, clientAddress, sameIsolate));
}
