import { useState } from "hono/jsx";
import { CopyButton } from "../components/copy-button";
import { ErrorBox } from "../components/error-box";
import { client, failureOf, type Session, unwrap } from "../session";

/** A copy-ready @libsql/client snippet with a freshly minted token; revoking every token. */
export function ConnectPage({ session, db }: { session: Session; db: string }) {
  const api = client(session.token);
  const [minted, setMinted] = useState<
    { snippet: string; note: string } | { error: ReturnType<typeof failureOf> } | "minting" | null
  >(null);
  const [revoked, setRevoked] = useState<string | { error: ReturnType<typeof failureOf> } | null>(
    null,
  );

  const create = async () => {
    const access = (document.getElementById("token-access") as HTMLSelectElement).value;
    const expiry = (document.getElementById("token-expiry") as HTMLSelectElement).value;
    setMinted("minting");
    try {
      const token = await unwrap(
        api.POST("/admin/databases/{name}/tokens", {
          params: { path: { name: db } },
          body: {
            access: access as "full-access" | "read-only",
            expiresIn: expiry === "never" ? null : expiry,
          },
        }),
      );
      setMinted({
        snippet: `import { createClient } from "@libsql/client";\n\nconst db = createClient({\n  url: "${token.url}",\n  authToken: "${token.token}",\n});\n\nconst rs = await db.execute("SELECT 1");`,
        note: `${token.access} token, ${token.expiresAt ? `expires ${new Date(token.expiresAt * 1000).toLocaleString()}` : "never expires"}.`,
      });
    } catch (err) {
      setMinted({ error: failureOf(err) });
    }
  };
  const revoke = async () => {
    if (!confirm(`Invalidate every token of ${db}? Clients using them stop working.`)) return;
    setRevoked("Revoking…");
    try {
      await unwrap(
        api.POST("/admin/databases/{name}/tokens/revoke", { params: { path: { name: db } } }),
      );
      setMinted(null);
      setRevoked("Every earlier token of this database is invalid.");
    } catch (err) {
      setRevoked({ error: failureOf(err) });
    }
  };
  return (
    <div class="stack">
      <p>Connect with @libsql/client (also Drizzle, Kysely, Prisma's libSQL adapter):</p>
      <div class="row">
        <label for="token-access">Access</label>
        <select id="token-access">
          <option value="full-access">Full access</option>
          <option value="read-only">Read-only</option>
        </select>
        <label for="token-expiry">Expires</label>
        <select id="token-expiry">
          {[
            ["1h", "1 hour"],
            ["1d", "1 day"],
            ["7d", "7 days"],
            ["30d", "30 days"],
            ["never", "Never"],
          ].map(([v, label]) => (
            <option value={v} selected={v === "1d"}>
              {label}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void create()}>
          Create token
        </button>
      </div>
      <div aria-live="polite">
        {minted === "minting" ? (
          "Minting…"
        ) : minted && "error" in minted ? (
          <ErrorBox error={minted.error} />
        ) : minted ? (
          <>
            <p>{minted.note}</p>
            <pre id="snippet" class="wrap" tabindex={0}>
              <code>{minted.snippet}</code>
            </pre>
            <CopyButton text={minted.snippet} label="Copy snippet" />
          </>
        ) : null}
      </div>
      <div class="row">
        <button type="button" id="revoke-tokens" class="danger" onClick={() => void revoke()}>
          Revoke all tokens
        </button>
        <span class="muted">Invalidates every token of this database at once.</span>
      </div>
      <div aria-live="polite">
        {typeof revoked === "string" ? (
          <p role="status">{revoked}</p>
        ) : revoked ? (
          <ErrorBox error={revoked.error} />
        ) : null}
      </div>
    </div>
  );
}
