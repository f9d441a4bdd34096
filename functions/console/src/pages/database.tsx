import { can, type Session } from "../session";
import { BackupsPage } from "./backups";
import { ConnectPage } from "./connect";
import { DatabaseUsage } from "./database-usage";
import { SqlPage } from "./sql";
import { TablesPage } from "./tables";

/** One database: SQL editor, schema and data browser, connection snippet, usage, backups. */
export function DatabasePage(props: {
  session: Session;
  name: string;
  tab: string;
  table: string | undefined;
}) {
  const { session, name } = props;
  const tabs: Array<[string, string]> = [
    ["sql", "SQL"],
    ["tables", "Tables"],
    ...(can(session, "tokens:manage") ? ([["connect", "Connect"]] as Array<[string, string]>) : []),
    ...(can(session, "usage:read") ? ([["usage", "Usage"]] as Array<[string, string]>) : []),
    ...(can(session, "backups:read") ? ([["backups", "Backups"]] as Array<[string, string]>) : []),
  ];
  const current = tabs.some(([id]) => id === props.tab) ? props.tab : "sql";
  return (
    <>
      <p class="crumbs">
        <a href="#/">Databases</a> / <strong>{name}</strong>
      </p>
      <h1>{name}</h1>
      <nav class="tabs" aria-label="Database sections">
        {tabs.map(([id, label]) => (
          <a href={`#/db/${name}/${id}`} aria-current={id === current ? "page" : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <section class="panel" aria-label={tabs.find(([id]) => id === current)?.[1] ?? ""}>
        {current === "sql" ? <SqlPage session={session} db={name} /> : null}
        {current === "tables" ? (
          <TablesPage session={session} db={name} table={props.table} />
        ) : null}
        {current === "connect" ? <ConnectPage session={session} db={name} /> : null}
        {current === "usage" ? <DatabaseUsage session={session} db={name} /> : null}
        {current === "backups" ? <BackupsPage session={session} db={name} /> : null}
      </section>
    </>
  );
}
