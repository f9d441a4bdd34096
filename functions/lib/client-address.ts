/**
 * The client's address, as the host that dispatched a request knows it (see dispatch). An entry
 * running in the host's own isolate (the Node host, the one-Worker build) is handed it beside
 * the request, without copying the request to add a header: a copy of a request with a body is
 * the most expensive thing a Node host does per request. An entry behind a service binding gets
 * it in the CLIENT_ADDRESS_HEADER the router sets.
 */
const addresses = new WeakMap<Request, string>();

/** Records the address ("" when unknown) for the entry that will receive `request`. */
export function handClientAddress(request: Request, address: string | undefined): void {
  addresses.set(request, address ?? "");
}

/** The recorded address: "" when the host did not know it, undefined when no host recorded one. */
export function handedClientAddress(request: Request): string | undefined {
  return addresses.get(request);
}
