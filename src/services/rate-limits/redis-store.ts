import { inArray } from "drizzle-orm";
import { Redis } from "ioredis";
import type { Db } from "../../db/client.ts";
import { type PlatformRateLimitRow, platformRateLimits } from "../../db/schema/index.ts";
import type { BucketCharge, BucketState, BucketStore } from "./buckets.ts";
import { effectiveLimit } from "./platform-limits.ts";

/**
 * Refills and spends every bucket of a check atomically (a script runs alone in Redis), and
 * only when each holds enough: a refused check writes nothing. Time is Redis' own `TIME`, one
 * clock for every instance. A bucket's key expires once it would have refilled to full, since
 * an absent bucket is a full one.
 *
 * KEYS: the buckets. ARGV: cost, rate and burst of each bucket, in the order of KEYS.
 * Answers: 1 if granted (else 0), then per bucket its tokens (as text: Lua numbers would come
 * back as integers) and 1 if it alone had enough.
 */
export const spendScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = #KEYS
local avail, at = {}, {}
local all = true
for i = 1, n do
  local cost, rate, burst = tonumber(ARGV[3*i-2]), tonumber(ARGV[3*i-1]), tonumber(ARGV[3*i])
  local stored = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local tokens, last = burst, now
  if stored[1] then tokens, last = tonumber(stored[1]), tonumber(stored[2]) end
  avail[i] = math.min(burst, tokens + rate * math.max(0, now - last))
  at[i] = math.max(last, now)
  if avail[i] < cost then all = false end
end
local out = { all and 1 or 0 }
for i = 1, n do
  local cost, rate, burst = tonumber(ARGV[3*i-2]), tonumber(ARGV[3*i-1]), tonumber(ARGV[3*i])
  local left = avail[i]
  if all then
    left = left - cost
    redis.call('HSET', KEYS[i], 'tokens', string.format('%.17g', left), 'at', string.format('%.17g', at[i]))
    redis.call('PEXPIRE', KEYS[i], math.ceil((burst - left) / rate * 1000) + 1000)
  end
  out[#out + 1] = string.format('%.17g', left)
  out[#out + 1] = (avail[i] >= cost) and 1 or 0
end
return out`;

interface SpendCommand {
  rateLimitSpend(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown[]>;
}

/** How long an instance trusts the platform overrides it read (the README says so). */
export const overrideCacheTtlMs = 2_000;
const overrideCacheLimit = 10_000;

/**
 * The operator's overrides for the Redis store. They live in the database (the source of
 * truth, the same table as for the database store); reading them on every request would put the
 * database back on the hot path that Redis takes it off, so each instance keeps what it read for
 * `overrideCacheTtlMs`. An override therefore reaches every instance within that time (at once
 * on the instance that took the PUT, which calls `forget`).
 */
class OverrideCache {
  readonly #db: Db;
  readonly #entries = new Map<string, { row: PlatformRateLimitRow | null; expires: number }>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** The override rows of these platforms (null: none), from the cache or one query. */
  async rowsFor(platformIds: string[]): Promise<Map<string, PlatformRateLimitRow | null>> {
    const now = performance.now();
    const found = new Map<string, PlatformRateLimitRow | null>();
    const missing: string[] = [];
    for (const platformId of platformIds) {
      const cached = this.#entries.get(platformId);
      if (cached && cached.expires > now) found.set(platformId, cached.row);
      else missing.push(platformId);
    }
    if (missing.length === 0) return found;
    const rows = await this.#db
      .select()
      .from(platformRateLimits)
      .where(inArray(platformRateLimits.platformId, missing));
    if (this.#entries.size + missing.length > overrideCacheLimit) this.#entries.clear();
    for (const platformId of missing) {
      const row = rows.find((r) => r.platformId === platformId) ?? null;
      this.#entries.set(platformId, { row, expires: now + overrideCacheTtlMs });
      found.set(platformId, row);
    }
    return found;
  }

  forget(platformId: string) {
    this.#entries.delete(platformId);
  }
}

/** The Redis key of a bucket: key buckets are unique by key id, event buckets by platform. */
const redisKeyOf = (prefix: string, charge: BucketCharge) =>
  charge.bucket === "events" ? `${prefix}events:${charge.platformId}` : `${prefix}${charge.bucket}`;

export interface RedisStore extends BucketStore {
  /** Drops this instance's cached copy of a platform's overrides (it just changed them). */
  forget(platformId: string): void;
}

/**
 * Buckets in Redis (`REDIS_URL`). The client connects on first use (the worker process builds
 * the same dependencies and never limits anything), and does not queue commands while Redis
 * is unreachable: a check then fails at once, and the limiter lets the request through.
 */
export const createRedisStore = (opts: { url: string; prefix: string; db: Db }): RedisStore => {
  const client = new Redis(opts.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    commandTimeout: 250,
  });
  // Connection errors surface as failed checks (logged and counted by the limiter); without a
  // listener ioredis would print every reconnection attempt.
  client.on("error", () => {});
  client.defineCommand("rateLimitSpend", { lua: spendScript });
  const spend = (client as unknown as SpendCommand).rateLimitSpend.bind(client);
  const overrides = new OverrideCache(opts.db);
  let connecting: Promise<void> | undefined;

  return {
    kind: "redis",
    spend: async (charges) => {
      if (client.status === "wait") {
        connecting ??= client.connect().finally(() => {
          connecting = undefined;
        });
      }
      if (connecting) await connecting;
      const rows = await overrides.rowsFor([
        ...new Set(charges.map((c) => c.platformId).filter((p) => p !== "")),
      ]);
      const limits = charges.map((c) => effectiveLimit(c, rows.get(c.platformId) ?? null));
      const args: Array<string | number> = charges.map((c) => redisKeyOf(opts.prefix, c));
      charges.forEach((c, i) => {
        const limit = limits[i] as { rate: number; burst: number };
        args.push(c.cost, limit.rate, limit.burst);
      });
      const out = await spend(charges.length, ...args);
      const granted = Number(out[0]) === 1;
      const buckets: BucketState[] = charges.map((charge, i) => {
        const limit = limits[i] as { rate: number; burst: number };
        return {
          charge,
          rate: limit.rate,
          burst: limit.burst,
          tokens: Number(out[1 + 2 * i]),
          sufficient: Number(out[2 + 2 * i]) === 1,
        };
      });
      return { granted, buckets };
    },
    forget: (platformId) => overrides.forget(platformId),
    close: async () => {
      if (client.status === "ready") await client.quit();
      else client.disconnect();
    },
  };
};
