import type { Principal } from "./principal.ts";

/** How long a resolved key is trusted without asking the database again. */
export const API_KEY_CACHE_TTL_MS = 2_000;

/**
 * Live keys recently resolved, by hash: every request authenticates, and usage reads and
 * ingestion should not pay a query for it. An entry lives `ttlMs`; revoking a key drops it here
 * at once, so another instance honours a revocation within that time (documented in the README).
 * Unknown and revoked keys are never cached. One cache per composed service (`compose.ts`), so
 * two services in one process (tests on databases that reuse ids) never see each other's keys.
 */
export class ApiKeyCache {
  readonly #entries = new Map<string, { principal: Principal; expires: number }>();
  readonly #ttlMs: number;
  readonly #limit: number;

  constructor(opts: { ttlMs?: number; limit?: number } = {}) {
    this.#ttlMs = opts.ttlMs ?? API_KEY_CACHE_TTL_MS;
    this.#limit = opts.limit ?? 10_000;
  }

  /** The principal of a live key seen less than `ttlMs` ago, by a monotonic timer. */
  get(keyHash: string): Principal | undefined {
    const cached = this.#entries.get(keyHash);
    if (!cached) return undefined;
    if (cached.expires > performance.now()) return cached.principal;
    this.#entries.delete(keyHash);
    return undefined;
  }

  set(keyHash: string, principal: Principal): void {
    if (this.#entries.size >= this.#limit) this.#entries.clear();
    this.#entries.set(keyHash, { principal, expires: performance.now() + this.#ttlMs });
  }

  delete(keyHash: string): void {
    this.#entries.delete(keyHash);
  }
}
