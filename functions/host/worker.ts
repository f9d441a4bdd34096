/**
 * All functions in one Worker (for `wrangler dev`, see wrangler.toml): the same route table,
 * dispatching in-process to each entry's fetch handler instead of through service bindings.
 */
import { dispatch } from "../dispatch";
import { ENTRIES } from "../entries";

export default {
  fetch(
    request: Request,
    env: Record<string, unknown>,
    ctx: unknown,
  ): Promise<Response> | Response {
    return dispatch(
      request,
      (entry) => {
        const module = ENTRIES[entry];
        return module && ((req) => module.fetch(req, env, ctx));
      },
      request.headers.get("cf-connecting-ip") ?? undefined,
      true,
    );
  },
};
