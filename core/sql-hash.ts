/**
 * A short, stable fingerprint of a SQL text for logs: the same statement gives the same hash
 * whatever its parameters (which are never logged), so slow or failing statements can be
 * grouped without logging SQL or values. Two 32-bit FNV-1a hashes (different offsets): plain
 * JavaScript, so it runs in every runtime the functions do; not a cryptographic hash.
 */
export function sqlHash(sql: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < sql.length; i++) {
    const code = sql.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}
