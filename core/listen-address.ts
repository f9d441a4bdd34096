import { z } from "zod";

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
  z
    .string()
    .trim()
    .transform((text, ctx) => {
      try {
        return parseListenAddress(text, defaultHost);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    });

/** `http://host:port` for a listener (IPv6 hosts in brackets). */
export const listenUrl = ({ host, port }: ListenAddress): string =>
  `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
