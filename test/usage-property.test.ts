import { type SQL, sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readRangeAggregates } from "../src/services/usage/usage-values.ts";
import { useTestApp } from "./harness.ts";

/**
 * Any interleaving of batches, retries and duplicates leaves rollups equal to a recomputation
 * from the raw events, and the raw events hold each event id once. On PostgreSQL the concurrent
 * groups really run at once (several pooled connections); on PGlite they queue.
 */
const t = await useTestApp();
const day = 86_400_000;
const now = t.clock.now().getTime();

const rows = async <T>(query: SQL) =>
  ((await t.database.db.execute(query)) as unknown as { rows: T[] }).rows;

const eventArb = fc.record({
  id: fc.integer({ min: 0, max: 30 }),
  tenantId: fc.constantFrom(null, "a", "b", "c"),
  meter: fc.constantFrom("api_requests", "storage_gb", "bandwidth_gb", "active_users"),
  tenths: fc.integer({ min: 0, max: 10_000 }),
  ageMinutes: fc.integer({ min: 0, max: 5 * 24 * 60 }),
  user: fc.integer({ min: 0, max: 6 }),
});
type EventSeed = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

/** Batches sent in groups; the batches of a group go at once, groups one after the other. */
const scenarioArb = fc.array(
  fc.array(
    fc.record({
      events: fc.array(eventArb, { minLength: 1, maxLength: 12 }),
      retries: fc.integer({ min: 0, max: 2 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  { minLength: 1, maxLength: 5 },
);

const toEvent = (platformId: string, seed: EventSeed) => ({
  id: `e${seed.id}`,
  platformId,
  ...(seed.tenantId ? { tenantId: seed.tenantId } : {}),
  meter: seed.meter,
  value: seed.tenths / 10,
  timestamp: new Date(now - seed.ageMinutes * 60_000).toISOString(),
  properties: { userId: `u${seed.user}` },
});

const rollupsOf = (platformId: string) =>
  rows(sql`
    select tenant_id, meter, bucket, total::float8 as total, event_count::int as n, peak::float8 as peak,
      last_value::float8 as last_value, last_at, last_event_id
    from (
      select '*' as tenant_id, meter, bucket, total, event_count, peak, last_value, last_at, last_event_id
      from usage_platform_rollups where platform_id = ${platformId}
      union all
      select tenant_id, meter, bucket, total, event_count, peak, last_value, last_at, last_event_id
      from usage_rollups where platform_id = ${platformId}
    ) r order by 1, 2, 3`);

/** The same rows, recomputed from the raw events (no subscription: a bucket is a UTC day). */
const recomputedRollupsOf = (platformId: string) =>
  rows(sql`
    with e as (
      select *, date_trunc('day', occurred_at at time zone 'UTC') at time zone 'UTC' as bucket
      from usage_events where platform_id = ${platformId}
    ),
    scoped as (
      select '*' as tenant_id, meter, bucket, value, occurred_at, event_id from e
      union all
      select tenant_id, meter, bucket, value, occurred_at, event_id from e where tenant_id is not null
    )
    select tenant_id, meter, bucket, sum(value)::float8 as total, count(*)::int as n,
      max(value)::float8 as peak,
      (array_agg(value order by occurred_at desc, event_id desc))[1]::float8 as last_value,
      max(occurred_at) as last_at,
      (array_agg(event_id order by occurred_at desc, event_id desc))[1] as last_event_id
    from scoped group by 1, 2, 3 order by 1, 2, 3`);

const tenantsOf = (platformId: string) =>
  rows(sql`select tenant_id, first_seen, last_seen, event_count::int as n from usage_tenants
    where platform_id = ${platformId} order by tenant_id`);

const recomputedTenantsOf = (platformId: string) =>
  rows(sql`select tenant_id, min(occurred_at) as first_seen, max(occurred_at) as last_seen, count(*)::int as n
    from usage_events where platform_id = ${platformId} and tenant_id is not null
    group by tenant_id order by tenant_id`);

/** Distinct (tenant, user) of active_users events per range, from the raw events. */
const recomputedUniques = async (
  platformId: string,
  tenantId: string | undefined,
  ranges: Array<{ start: Date; end: Date }>,
) => {
  const param = JSON.stringify(ranges.map((r, i) => ({ i, s: r.start, e: r.end })));
  const found = await rows<{ i: number; n: number }>(sql`
    with r as (select * from jsonb_to_recordset(${param}::jsonb) as r(i int, s timestamptz, e timestamptz)),
    e as (
      select *, date_trunc('day', occurred_at at time zone 'UTC') at time zone 'UTC' as bucket
      from usage_events where platform_id = ${platformId} and meter = 'active_users'
        and (${tenantId ?? null}::text is null or tenant_id = ${tenantId ?? null})
    )
    select r.i, count(distinct (coalesce(e.tenant_id, ''), e.properties->>'userId'))::int as n
    from r join e on e.bucket >= r.s and e.bucket < r.e group by r.i`);
  const byRange = new Map(found.map((row) => [Number(row.i), Number(row.n)]));
  return ranges.map((_, i) => byRange.get(i) ?? 0);
};

describe("usage rollups", () => {
  it("equal a recomputation from the raw events after any interleaving of batches, retries and duplicates", async () => {
    const firstDay = Math.floor((now - 6 * day) / day) * day;
    const days = Array.from({ length: 8 }, (_, i) => new Date(firstDay + i * day));
    const ranges = days.flatMap((start, i) => days.slice(i + 1).map((end) => ({ start, end })));

    await fc.assert(
      fc.asyncProperty(scenarioArb, async (groups) => {
        const { platformId } = await t.createPlatform();
        const sent = new Set<string>();
        let accepted = 0;
        for (const group of groups) {
          const requests = group.flatMap((batch) => {
            const events = batch.events.map((seed) => toEvent(platformId, seed));
            for (const e of events) sent.add(e.id);
            return Array.from({ length: batch.retries + 1 }, () => events);
          });
          const responses = await Promise.all(
            requests.map((events) => t.request("POST", "/usage/events", { body: { events } })),
          );
          responses.forEach((res, i) => {
            expect(res.status, res.text).toBe(200);
            expect(res.body.accepted + res.body.duplicates).toBe(requests[i]?.length);
            accepted += res.body.accepted;
          });
        }

        expect(accepted).toBe(sent.size);
        const stored = await rows<{ n: number; ids: number; keys: number }>(sql`
          select count(*)::int as n, count(distinct event_id)::int as ids,
            (select count(*)::int from usage_event_keys where platform_id = ${platformId}) as keys
          from usage_events where platform_id = ${platformId}`);
        expect(stored[0]).toEqual({ n: sent.size, ids: sent.size, keys: sent.size });

        expect(await rollupsOf(platformId)).toEqual(await recomputedRollupsOf(platformId));
        expect(await tenantsOf(platformId)).toEqual(await recomputedTenantsOf(platformId));

        for (const tenantId of [undefined, "a", "b"]) {
          const read = await readRangeAggregates({ ctx: t.deps, platformId, tenantId, ranges });
          const uniques = read.map((r) => r.get("active_users")?.uniques ?? 0);
          expect(uniques).toEqual(await recomputedUniques(platformId, tenantId, ranges));
        }
      }),
      { numRuns: 25 },
    );
  });
});
