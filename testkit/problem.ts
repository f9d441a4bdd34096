/** An RFC 9457 problem+json body as DB-Forge's services send it. */
export interface Problem {
  code: string;
  status: number;
  detail: string;
  title: string;
  type: string;
}

/** The body of a problem+json response, after checking it is one. */
export async function problemOf(res: Response): Promise<Problem> {
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${res.status} ${type}: ${await res.text()}`);
  }
  return res.json() as Promise<Problem>;
}
