/**
 * The router worker: the one worker that receives requests under Miniflare, dispatching each by
 * the shared route table to its entry's own worker through a service binding named after the
 * entry (see bindingOf).
 */
import { dispatch } from "../dispatch";
import { bindingOf } from "../route-table";

interface ServiceBinding {
  fetch(request: Request): Promise<Response>;
}

export default {
  fetch(request: Request, env: Record<string, unknown>): Promise<Response> | Response {
    return dispatch(
      request,
      (entry) => {
        const service = env[bindingOf(entry)] as ServiceBinding | undefined;
        return service && ((req) => service.fetch(req));
      },
      request.headers.get("cf-connecting-ip") ?? undefined,
    );
  },
};
