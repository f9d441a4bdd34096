import { useEffect, useState } from "hono/jsx";
import { AuditPage } from "./pages/audit";
import { DatabasePage } from "./pages/database";
import { DatabasesPage } from "./pages/databases";
import { KeysPage } from "./pages/keys";
import { SignInPage } from "./pages/sign-in";
import { UsagePage } from "./pages/usage";
import { can, forgetToken, type Session, signIn, storedToken } from "./session";

/** Hash routes: #/ databases, #/db/<name>[/sql|tables|connect|usage][/<table>], #/usage, #/audit, #/keys. */
function useHash(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useHash();

  // A remembered token is checked again: it may have been revoked since.
  useEffect(() => {
    const token = storedToken();
    if (!token) return setSession(null);
    signIn(token).then(setSession, () => {
      forgetToken();
      setSession(null);
    });
  }, []);

  // A new page takes the focus (for keyboards and screen readers), unless the user is already
  // in it: signing out changes the route too, and the hashchange can come after the user has
  // started typing into the sign-in form, whose Enter would then go nowhere.
  useEffect(() => {
    const main = document.getElementById("main");
    if (main && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  }, [route.join("/")]);

  if (session === undefined) return <Shell>{<p class="muted">Loading…</p>}</Shell>;
  if (session === null)
    return (
      <Shell>
        <SignInPage onSignedIn={setSession} />
      </Shell>
    );

  const [section, name, tab, table] = route;
  let page = <DatabasesPage session={session} />;
  if (section === "db" && name)
    page = <DatabasePage session={session} name={name} tab={tab ?? "sql"} table={table} />;
  else if (section === "usage") page = <UsagePage session={session} />;
  else if (section === "audit" && can(session, "audit:read")) page = <AuditPage />;
  else if (section === "keys" && can(session, "keys:manage")) page = <KeysPage />;

  return (
    <Shell
      session={session}
      onSignOut={() => {
        forgetToken();
        location.hash = "#/";
        setSession(null);
      }}
    >
      {page}
    </Shell>
  );
}

function Shell(props: { session?: Session; onSignOut?: () => void; children?: unknown }) {
  const { session } = props;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          DB-Forge
        </a>
        {session ? (
          <nav class="nav" aria-label="Sections">
            <a href="#/">Databases</a>
            {can(session, "usage:read") ? <a href="#/usage">Usage</a> : null}
            {can(session, "audit:read") ? <a href="#/audit">Audit</a> : null}
            {can(session, "keys:manage") ? <a href="#/keys">Keys</a> : null}
            <span class="who muted" title={`Key ${session.actor}`}>
              {session.name} · {session.role}
            </span>
            <button type="button" class="link" onClick={props.onSignOut}>
              Sign out
            </button>
          </nav>
        ) : null}
      </header>
      <main id="main" tabindex={-1}>
        {props.children}
      </main>
    </>
  );
}
