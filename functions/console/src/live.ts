import { useEffect, useState } from "hono/jsx";
import type { Session } from "./session";

export interface LiveDatabase {
  name: string;
  status: string;
  sizeBytes: number;
  quotaBytes: number;
  statements: number;
}

export interface LiveState {
  databases: LiveDatabase[];
  /** Queries a second per database, newest last: [unix seconds, value]. */
  qps: Record<string, Array<[number, number]>>;
  connected: boolean;
  /** A fresh snapshot now (after a create or delete), instead of at the next event. */
  refresh: () => void;
}

const HISTORY = 60;

/**
 * Live status over server-sent events (GET /admin/events, read with fetch so the key goes in the
 * Authorization header rather than the URL). Reconnects after a drop; queries a second come
 * from the difference of statement counts between events.
 */
export function useLiveDatabases(session: Session): LiveState {
  const [refresh, setRefresh] = useState<() => void>(() => () => {});
  const [state, setState] = useState<Omit<LiveState, "refresh">>({
    databases: [],
    qps: {},
    connected: false,
  });
  useEffect(() => {
    let stopped = false;
    let restarting = false;
    let controller: AbortController | undefined;
    setRefresh(() => () => {
      restarting = true;
      controller?.abort();
    });
    const last = new Map<string, { at: number; statements: number }>();
    const qps: Record<string, Array<[number, number]>> = {};
    const onEvent = (data: { at: number; databases: LiveDatabase[] }) => {
      const at = data.at / 1000;
      for (const db of data.databases) {
        const before = last.get(db.name);
        if (before && at > before.at) {
          const series = qps[db.name] ?? [];
          series.push([at, Math.max(0, db.statements - before.statements) / (at - before.at)]);
          qps[db.name] = series.slice(-HISTORY);
        }
        last.set(db.name, { at, statements: db.statements });
      }
      setState({ databases: data.databases, qps: { ...qps }, connected: true });
    };
    const connect = async () => {
      while (!stopped) {
        controller = new AbortController();
        try {
          const res = await fetch("/admin/events", {
            headers: { Authorization: `Bearer ${session.token}`, Accept: "text/event-stream" },
            signal: controller.signal,
          });
          if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end = buffer.indexOf("\n\n");
            while (end >= 0) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = event
                .split("\n")
                .filter((l) => l.startsWith("data:"))
                .map((l) => l.slice(5).trim())
                .join("\n");
              if (data) onEvent(JSON.parse(data));
              end = buffer.indexOf("\n\n");
            }
          }
        } catch {
          // dropped: reconnect below
        }
        if (stopped) return;
        if (restarting) {
          restarting = false;
          continue;
        }
        setState((s) => ({ ...s, connected: false }));
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    void connect();
    return () => {
      stopped = true;
      controller?.abort();
    };
  }, [session.token]);
  return { ...state, refresh };
}
