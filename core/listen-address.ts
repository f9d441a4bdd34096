// zod/mini: workers parse their address too, and classic zod schemas take mini ones.
import * as z from "zod/mini";

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * `host:port` as every DB-Forge listener is configured (`[::1]:8080` for IPv6; port 0 for any
 * free port). An empty host means `defaultHost`: "0.0.0.0" for sqld's variables (sqld binds all
 * interfaces), loopback elsewhere.
 */
export function parseListenAddress(text: string, defaultHost = "127.0.0.1"): ListenAddress {
  const match = /^(.*):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new Error(`expected host:port, got "${text}"`);
  return { host: match[1]?.replace(/^\[(.*)\]$/, "$1") || defaultHost, port };
}

/** The same as a zod schema, for env.ts files. */
export const listenAddressSchema = (defaultHost = "127.0.0.1") =>
  z.pipe(
    z.string().check(z.trim()),
    z.transform((text: string, ctx) => {
      try {
        return parseListenAddress(text, defaultHost);
      } catch (err) {
        ctx.issues.push({ code: "custom", message: (err as Error).message, input: text });
        return z.NEVER;
      }
    }),
  );

/** `http://host:port` for a listener (IPv6 hosts in brackets). */
export const listenUrl = ({ host, port }: ListenAddress): string =>
  `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
