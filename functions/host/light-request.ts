/**
 * A web Request for a request the host's hot path framed (method, URL, header lines, the whole
 * body in a Buffer), made the way @hono/node-server makes its own: an object on Request's
 * prototype (so `instanceof Request` holds) that answers its method, URL, headers and body
 * reads (text, json, arrayBuffer, bytes, blob) from what it holds, and builds a real Request
 * only when something else is asked (its body stream, signal, clone, formData…). A real one
 * costs the REST path ~60 µs of CPU per request (a URL parse, an AbortSignal, a body stream:
 * bench/README.md); the routes only read the body once, whole.
 */

interface Held {
  method: string;
  url: string;
  lines: readonly string[];
  body: Buffer;
  headers?: Headers;
  real?: Request;
}

const HELD = Symbol("held");

type Light = Request & { [HELD]: Held };

const headersOf = (held: Held): Headers => {
  if (!held.headers) {
    const headers = new Headers();
    for (const line of held.lines) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    held.headers = headers;
  }
  return held.headers;
};

const realOf = (held: Held): Request => {
  held.real ??= new Request(held.url, {
    method: held.method,
    headers: headersOf(held),
    ...(held.method === "GET" || held.method === "HEAD" ? {} : { body: held.body }),
  });
  return held.real;
};

/** The body of `held`, as long as nothing read it through the real Request's stream. */
const bodyOf = (held: Held): Promise<Buffer> =>
  held.real?.bodyUsed
    ? Promise.reject(new TypeError("Body is unusable"))
    : Promise.resolve(held.body);

/** What the light Request answers itself; everything else of Request's is asked of a real one. */
const OWN: PropertyDescriptorMap = {
  method: {
    get: function (this: Light) {
      return this[HELD].method;
    },
  },
  url: {
    get: function (this: Light) {
      return this[HELD].url;
    },
  },
  headers: {
    get: function (this: Light) {
      return headersOf(this[HELD]);
    },
  },
  text: {
    value: function (this: Light) {
      return bodyOf(this[HELD]).then((b) => b.toString("utf8"));
    },
  },
  json: {
    value: function (this: Light) {
      return bodyOf(this[HELD]).then((b) => JSON.parse(b.toString("utf8")));
    },
  },
  arrayBuffer: {
    value: function (this: Light) {
      return bodyOf(this[HELD]).then((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    },
  },
  bytes: {
    value: function (this: Light) {
      return bodyOf(this[HELD]).then((b) => new Uint8Array(b));
    },
  },
  blob: {
    value: function (this: Light) {
      const type = headersOf(this[HELD]).get("content-type") ?? "";
      return bodyOf(this[HELD]).then((b) => new Blob([b], { type }));
    },
  },
};

let prototype: object | undefined;

/**
 * The light Requests' prototype, made on first use from the global Request of that moment
 * (@hono/node-server's, once the host's listener is made, as the full path's own Requests).
 */
function lightPrototype(): object {
  if (prototype) return prototype;
  const base = globalThis.Request.prototype;
  const descriptors: PropertyDescriptorMap = { ...OWN };
  for (
    let level: object | null = base;
    level && level !== Object.prototype;
    level = Object.getPrototypeOf(level)
  ) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name === "constructor" || name in descriptors) continue;
      const descriptor = Object.getOwnPropertyDescriptor(level, name);
      descriptors[name] =
        typeof descriptor?.value === "function"
          ? {
              value: function (this: Light, ...args: unknown[]) {
                const real = realOf(this[HELD]) as unknown as Record<
                  string,
                  (...a: unknown[]) => unknown
                >;
                return (real[name] as (...a: unknown[]) => unknown).apply(real, args);
              },
            }
          : {
              get: function (this: Light) {
                return (realOf(this[HELD]) as unknown as Record<string, unknown>)[name];
              },
            };
    }
  }
  prototype = Object.create(base, descriptors) as object;
  return prototype;
}

export function lightRequest(
  method: string,
  url: string,
  lines: readonly string[],
  body: Buffer,
): Request {
  const light = Object.create(lightPrototype()) as Light;
  light[HELD] = { method, url, lines, body };
  return light;
}
