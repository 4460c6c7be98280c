import { type SQL, sql } from "drizzle-orm";
import { liveSubscriptionStatuses } from "../../db/schema/index.ts";
import type { SqlStatement } from "./sql-runner.ts";
import type { UsageEventRow } from "./usage-store.ts";

/**
 * Every SQL statement of usage metering, and nothing else: ingestion's writes and the reads of
 * rollups. Only the usage store (usage-store.ts) runs them. Each is a named prepared statement on
 * PostgreSQL (parsed and planned once per connection); parameters are named where the statement
 * is defined, and `$n` follows the order of its `params`.
 */

/** A parameter, by name, inside a statement's text. */
class Param {
  constructor(readonly key: string) {}
}

/** A piece of statement text with named parameters, composed with the `sqlText` tag. */
class Fragment {
  constructor(readonly chunks: ReadonlyArray<string | Param>) {}
}

const param = (key: string) => new Param(key);

/** Trusted text from this module (a table name), spliced in as is. */
const raw = (text: string) => new Fragment([text]);

const sqlText = (strings: TemplateStringsArray, ...parts: Array<Param | Fragment>): Fragment => {
  const chunks: Array<string | Param> = [];
  strings.forEach((text, k) => {
    chunks.push(text);
    const part = parts[k];
    if (part instanceof Param) chunks.push(part);
    else if (part) chunks.push(...part.chunks);
  });
  return new Fragment(chunks);
};

/** A statement of this module; `P` names its parameters and their types. */
export interface UsageStatement<P extends Record<string, unknown>> extends SqlStatement {
  /** The parameters' values in `$n` order. */
  values(params: P): unknown[];
  /** The statement with its values as drizzle SQL, to run inside the caller's transaction. */
  toDrizzle(params: P): SQL;
}

/**
 * Defines a statement. `params` gives each parameter its `$n` (the first is `$1`); the body must
 * use each of them, and no other (checked when the module loads).
 */
const statement = <P extends Record<string, unknown>>(
  name: string,
  params: ReadonlyArray<keyof P & string>,
  body: Fragment,
): UsageStatement<P> => {
  const used = new Set<string>();
  const text = body.chunks
    .map((chunk) => {
      if (typeof chunk === "string") return chunk;
      const position = params.indexOf(chunk.key);
      if (position < 0) throw new Error(`statement ${name}: unknown parameter ${chunk.key}`);
      used.add(chunk.key);
      return `$${position + 1}`;
    })
    .join("");
  const unused = params.filter((key) => !used.has(key));
  if (unused.length > 0) throw new Error(`statement ${name}: unused parameters ${unused}`);
  return {
    name,
    text,
    values: (values) => params.map((key) => values[key]),
    toDrizzle: (values) =>
      sql.join(
        body.chunks.map((chunk) =>
          typeof chunk === "string" ? sql.raw(chunk) : sql.param(values[chunk.key as keyof P]),
        ),
        sql.raw(""),
      ),
  };
};

// ---------------------------------------------------------------------------------------------
// Ingestion

/**
 * One event of an ingest write as the batch parameter carries it (`json_to_recordset`, where the
 * statement names its columns): p platform, i event id, t tenant ('' for none), m meter, v value
 * (exact decimal), ts time and b rollup bucket (epoch milliseconds), pr properties, u distinct
 * value, r the request of the write it came with. Short keys and numeric times keep the parameter
 * small and cheap to read (bench/README.md, Ingestion); absent fields are left out of the JSON.
 */
interface BatchEvent {
  p: string;
  i: string;
  t: string;
  m: string;
  v: number;
  ts: number;
  b: number;
  pr: Record<string, unknown> | undefined;
  u: string | undefined;
  r: number;
}

/** One event of an ingest write, with the request it came with. */
export interface IngestWriteEvent {
  event: UsageEventRow;
  request: number;
  /** The distinct value to record; undefined also when its occurrence is known to be stored. */
  uniqueValue: string | undefined;
}

/** The parameters of an ingest statement for a write's events and its requests' receipt times. */
export const ingestParams = (
  events: readonly IngestWriteEvent[],
  receivedAt: readonly Date[],
): IngestParams => ({
  events: JSON.stringify(
    events.map(
      ({ event, request, uniqueValue }): BatchEvent => ({
        p: event.platformId,
        i: event.eventId,
        t: event.tenantId ?? "",
        m: event.meter,
        v: event.value,
        ts: event.occurredAtMs,
        b: event.bucketMs,
        pr: event.properties,
        u: uniqueValue,
        r: request,
      }),
    ),
  ),
  receivedAt: JSON.stringify(receivedAt.map((at) => at.toISOString())),
});

export interface IngestParams extends Record<string, unknown> {
  /** `BatchEvent[]` as JSON. */
  events: string;
  /** Each request's time of receipt (ISO), by request, as a JSON array. */
  receivedAt: string;
}

/**
 * New events per request (by its index in the write), and the distinct-value occurrences the write
 * inserted.
 */
export interface IngestResultRow extends Record<string, unknown> {
  accepted: Record<string, number> | null;
  occurrences: unknown[] | null;
}

const mergeAggregates = (table: string) => sqlText`
    total = ${raw(table)}.total + excluded.total,
    event_count = ${raw(table)}.event_count + excluded.event_count,
    peak = greatest(${raw(table)}.peak, excluded.peak),
    last_value = case when (excluded.last_at, excluded.last_event_id) > (${raw(table)}.last_at, ${raw(table)}.last_event_id)
      then excluded.last_value else ${raw(table)}.last_value end,
    last_event_id = case when (excluded.last_at, excluded.last_event_id) > (${raw(table)}.last_at, ${raw(table)}.last_event_id)
      then excluded.last_event_id else ${raw(table)}.last_event_id end,
    last_at = greatest(${raw(table)}.last_at, excluded.last_at)`;

/**
 * The ingest statement: one JSON parameter per batch, each table touched once (set-based), every
 * write in key order so concurrent batches queue on a row instead of deadlocking. Rollups are
 * built from the events whose dedup key is new (`fresh`), and the plain key insert stores exactly
 * those: a key another writer is storing makes it wait, and fail with a unique violation on
 * `usage_event_keys_pk` if that writer commits; the store then writes again and sees the key.
 * (Why a plain insert and `json`, not `jsonb`: bench/README.md, Ingestion.) Times are numbers:
 * `to_timestamp` of a number is exact to the millisecond. The two forms differ only in `fresh`.
 */
const ingestStatement = (name: string, fresh: Fragment) =>
  statement<IngestParams>(
    name,
    ["events", "receivedAt"],
    sqlText`
with input as (
  select p as platform_id, i as event_id, t as tenant_id, m as meter, v as value,
    to_timestamp(ts / 1000) as occurred_at, to_timestamp(b / 1000) as bucket,
    pr as properties, u as unique_value, r as request
  from json_to_recordset(${param("events")}::json)
    as e(p text, i text, t text, m text, v numeric, ts float8, b float8, pr jsonb, u text, r int)
),
fresh as materialized (${fresh}),
keys as (
  insert into usage_event_keys (platform_id, event_id)
  select platform_id, event_id from fresh order by platform_id, event_id
),
raw as (
  insert into usage_events (platform_id, event_id, tenant_id, meter, value, occurred_at, properties, received_at)
  select platform_id, event_id, nullif(tenant_id, ''), meter, value, occurred_at, properties,
    (${param("receivedAt")}::jsonb->>request)::timestamptz
  from fresh
),
occurrences as (
  insert into usage_unique_occurrences (platform_id, tenant_id, meter, value, bucket)
  select distinct platform_id, tenant_id, meter, unique_value, bucket
  from fresh where unique_value is not null order by 1, 2, 3, 4, 5
  on conflict do nothing
  returning platform_id, tenant_id, meter, value, bucket
),
grouped as materialized (
  select platform_id, tenant_id, meter, bucket, sum(value) as total, count(*) as event_count,
    max(value) as peak,
    (array_agg(value order by occurred_at desc, event_id desc))[1] as last_value,
    max(occurred_at) as last_at,
    (array_agg(event_id order by occurred_at desc, event_id desc))[1] as last_event_id,
    min(occurred_at) as first_at,
    min((${param("receivedAt")}::jsonb->>request)::timestamptz) as received_at
  from fresh group by platform_id, tenant_id, meter, bucket
),
tenant_rollups as (
  insert into usage_rollups
    (platform_id, tenant_id, meter, bucket, total, event_count, peak, last_value, last_at, last_event_id)
  select platform_id, tenant_id, meter, bucket, total, event_count, peak, last_value, last_at, last_event_id
  from grouped where tenant_id <> '' order by platform_id, tenant_id, meter, bucket
  on conflict (platform_id, tenant_id, meter, bucket) do update set ${mergeAggregates("usage_rollups")}
),
platform_rollups as (
  insert into usage_platform_rollups
    (platform_id, meter, bucket, total, event_count, peak, last_value, last_at, last_event_id)
  select platform_id, meter, bucket, sum(total), sum(event_count), max(peak),
    (array_agg(last_value order by last_at desc, last_event_id desc))[1], max(last_at),
    (array_agg(last_event_id order by last_at desc, last_event_id desc))[1]
  from grouped group by platform_id, meter, bucket order by platform_id, meter, bucket
  on conflict (platform_id, meter, bucket) do update set ${mergeAggregates("usage_platform_rollups")}
),
tenants as (
  insert into usage_tenants (platform_id, tenant_id, first_seen, last_seen, event_count, created_at)
  select platform_id, tenant_id, min(first_at), max(last_at), sum(event_count), min(received_at)
  from grouped where tenant_id <> '' group by platform_id, tenant_id order by platform_id, tenant_id
  on conflict (platform_id, tenant_id) do update set
    first_seen = least(usage_tenants.first_seen, excluded.first_seen),
    last_seen = greatest(usage_tenants.last_seen, excluded.last_seen),
    event_count = usage_tenants.event_count + excluded.event_count
)
select
  (select jsonb_object_agg(request, n) from (select request, count(*) as n from fresh group by request) x)
    as accepted,
  (select jsonb_agg(jsonb_build_array(platform_id, tenant_id, meter, value, bucket)) from occurrences)
    as occurrences
`,
  );

/**
 * Ingests a batch whose stored keys are skipped: each event's key is probed first. ("offset 0"
 * keeps this a probe of the index per event: as an anti-join, the planner may choose to read the
 * whole key table.)
 */
export const ingestProbingKeys = ingestStatement(
  "usage_ingest_probing_keys",
  sqlText`
  select * from input e
  where not exists (
    select from usage_event_keys k
    where k.platform_id = e.platform_id and k.event_id = e.event_id offset 0
  )
`,
);

/**
 * Ingests a batch taking every event as new: no probe (most batches hold new events only; see
 * bench/README.md, Ingestion). Its key insert fails (unique violation on `usage_event_keys_pk`)
 * if any event was stored before.
 */
export const ingestAllNew = ingestStatement("usage_ingest_all_new", sqlText`select * from input`);

export interface OccurrencesParams extends Record<string, unknown> {
  /** `IngestResultRow.occurrences` as JSON: [platform, tenant, meter, value, bucket] each. */
  occurrences: string;
}

/**
 * Locks the distinct values that just got a new occurrence (one row each, in key order) until
 * commit. Whoever recomputes a value's gaps holds its row, so the next batch for that value sees
 * every occurrence committed before it.
 */
export const lockUniqueValues = statement<OccurrencesParams>(
  "usage_lock_unique_values",
  ["occurrences"],
  sqlText`
insert into usage_unique_values (platform_id, tenant_id, meter, value, last_bucket)
select o->>0, o->>1, o->>2, o->>3, max((o->>4)::timestamptz)
from jsonb_array_elements(${param("occurrences")}::jsonb) o
group by 1, 2, 3, 4 order by 1, 2, 3, 4
on conflict (platform_id, tenant_id, meter, value) do update
  set last_bucket = greatest(usage_unique_values.last_bucket, excluded.last_bucket)
`,
);

/**
 * Updates the gap counts for a write's new occurrences. For each value only the occurrences from
 * the one before its earliest new bucket to the one after its latest are read: a new occurrence
 * counts once under its predecessor, and an older occurrence right after it moves from its old
 * predecessor to the new one.
 */
export const updateUniqueGaps = statement<OccurrencesParams>(
  "usage_update_unique_gaps",
  ["occurrences"],
  sqlText`
with n as (
  select o->>0 as p, o->>1 as t, o->>2 as m, o->>3 as u, (o->>4)::timestamptz as b
  from jsonb_array_elements(${param("occurrences")}::jsonb) o
),
vals as (
  select p, t, m, u, min(b) as lo, max(b) as hi from n group by p, t, m, u
),
o as (
  select v.p, v.t, v.m, v.u, x.bucket as b
  from vals v cross join lateral (
    (select bucket from usage_unique_occurrences
      where platform_id = v.p and tenant_id = v.t and meter = v.m and value = v.u and bucket < v.lo
      order by bucket desc limit 1)
    union all
    (select bucket from usage_unique_occurrences
      where platform_id = v.p and tenant_id = v.t and meter = v.m and value = v.u
        and bucket >= v.lo and bucket <= v.hi)
    union all
    (select bucket from usage_unique_occurrences
      where platform_id = v.p and tenant_id = v.t and meter = v.m and value = v.u and bucket > v.hi
      order by bucket limit 1)
  ) x
),
w as (
  select o.p, o.t, o.m, o.b, n.b is not null as is_new,
    lag(o.b) over win as prev_all,
    max(o.b) filter (where n.b is null) over (win rows between unbounded preceding and 1 preceding)
      as prev_old
  from o left join n on n.p = o.p and n.t = o.t and n.m = o.m and n.u = o.u and n.b = o.b
  window win as (partition by o.p, o.t, o.m, o.u order by o.b)
),
deltas as (
  select p, t, m, b, coalesce(prev_all, '-infinity') as prev, 1 as k from w where is_new
  union all
  select p, t, m, b, coalesce(prev_old, '-infinity'), -1 from w
    where not is_new and prev_all is distinct from prev_old
  union all
  select p, t, m, b, coalesce(prev_all, '-infinity'), 1 from w
    where not is_new and prev_all is distinct from prev_old
),
summed as (
  select p, t, m, b, prev, sum(k)::bigint as k from deltas group by p, t, m, b, prev
),
tenant_gaps as (
  insert into usage_unique_gaps (platform_id, tenant_id, meter, bucket, prev_bucket, occurrences)
  select p, t, m, b, prev, k from summed where t <> '' and k <> 0 order by p, t, m, b, prev
  on conflict (platform_id, tenant_id, meter, bucket, prev_bucket) do update
    set occurrences = usage_unique_gaps.occurrences + excluded.occurrences
)
insert into usage_platform_unique_gaps (platform_id, meter, bucket, prev_bucket, occurrences)
select p, m, b, prev, sum(k) from summed group by p, m, b, prev having sum(k) <> 0
order by p, m, b, prev
on conflict (platform_id, meter, bucket, prev_bucket) do update
  set occurrences = usage_platform_unique_gaps.occurrences + excluded.occurrences
`,
);

// ---------------------------------------------------------------------------------------------
// Reads

/** A platform with what usage needs of its live subscription (null columns: none). */
export interface SubscriptionColumns extends Record<string, unknown> {
  platform_id: string;
  tier: string | null;
  interval: "month" | "year" | null;
  anchor_ms: number | null;
  start_ms: number | null;
  end_ms: number | null;
  created_ms: number | null;
  usage_periods: Array<{ start: string; end: string }> | null;
}

/** `SubscriptionColumns` (and the period bounds `cps`, `cpe`) of the platforms `where` selects. */
const platformsWithSubscription = (where: Fragment) => sqlText`
select p.platform_id, s.tier, s.interval,
  (extract(epoch from s.billing_anchor) * 1000)::float8 as anchor_ms,
  (extract(epoch from s.current_period_start) * 1000)::float8 as start_ms,
  (extract(epoch from s.current_period_end) * 1000)::float8 as end_ms,
  (extract(epoch from s.created_at) * 1000)::float8 as created_ms,
  s.usage_periods,
  s.current_period_start as cps, s.current_period_end as cpe
from platforms p
left join subscriptions s on s.platform_id = p.platform_id
  and s.status in (${raw(liveSubscriptionStatuses.map((status) => `'${status}'`).join(", "))})
${where}`;

/** Which platforms exist, each with its live subscription: every usage request starts with it. */
export const platformSubscriptions = statement<{ platformIds: string[] }>(
  "usage_platform_subscriptions",
  ["platformIds"],
  platformsWithSubscription(sqlText`where p.platform_id = any(${param("platformIds")}::text[])`),
);

/** One row of aggregates per range (`i`) and meter. */
export interface AggregateRow extends Record<string, unknown> {
  i: number;
  meter: string;
  total: string | null;
  events: number | null;
  peak: string | null;
  latest: string | null;
  uniques: number | null;
}

/**
 * The aggregate CTEs over the ranges of a CTE `r(i, s, e)`, for the platform `platform` or, with
 * `tenant`, one of its tenants, ending in a CTE `aggregates` of `AggregateRow`s. A distinct count
 * is the occurrences in a range whose previous occurrence of the same value is before the range.
 */
const aggregateCtes = ({ platform, tenant }: { platform: Fragment; tenant?: Param }) => {
  const rollups = raw(tenant ? "usage_rollups" : "usage_platform_rollups");
  const gaps = raw(tenant ? "usage_unique_gaps" : "usage_platform_unique_gaps");
  const rollupTenant = tenant ? sqlText`and u.tenant_id = ${tenant}` : raw("");
  const gapTenant = tenant ? sqlText`and g.tenant_id = ${tenant}` : raw("");
  return sqlText`
agg as (
  select r.i, u.meter,
    sum(u.total)::text as total,
    sum(u.event_count)::float8 as events,
    max(u.peak)::text as peak,
    (array_agg(u.last_value order by u.last_at desc, u.last_event_id desc))[1]::text as latest
  from r join ${rollups} u
    on u.platform_id = ${platform} ${rollupTenant}
    and u.bucket >= r.s and u.bucket < r.e
  group by r.i, u.meter
),
uniq as (
  select r.i, g.meter, sum(g.occurrences)::float8 as uniques
  from r join ${gaps} g
    on g.platform_id = ${platform} ${gapTenant}
    and g.bucket >= r.s and g.bucket < r.e and g.prev_bucket < r.s
  group by r.i, g.meter
),
aggregates as (
  select coalesce(agg.i, uniq.i) as i, coalesce(agg.meter, uniq.meter) as meter,
    agg.total, agg.events, agg.peak, agg.latest, uniq.uniques
  from agg full join uniq on uniq.i = agg.i and uniq.meter = agg.meter
)`;
};

export interface RangeParams extends Record<string, unknown> {
  /** `[{ i, s, e }]` as JSON: index and ISO bounds of each range. */
  ranges: string;
  platformId: string;
}

/** Aggregates of one platform over ranges `r(i, s, e)`. */
export const platformRangeAggregates = statement<RangeParams>(
  "usage_platform_range_aggregates",
  ["ranges", "platformId"],
  sqlText`
with r as (
  select * from jsonb_to_recordset(${param("ranges")}::jsonb) as r(i int, s timestamptz, e timestamptz)
),
${aggregateCtes({ platform: sqlText`${param("platformId")}` })}
select * from aggregates`,
);

/** Aggregates of one tenant of a platform over ranges `r(i, s, e)`. */
export const tenantRangeAggregates = statement<RangeParams & { tenantId: string }>(
  "usage_tenant_range_aggregates",
  ["ranges", "platformId", "tenantId"],
  sqlText`
with r as (
  select * from jsonb_to_recordset(${param("ranges")}::jsonb) as r(i int, s timestamptz, e timestamptz)
),
${aggregateCtes({ platform: sqlText`${param("platformId")}`, tenant: param("tenantId") })}
select * from aggregates`,
);

/** Aggregates of several platforms' ranges `r(i, p, s, e)` at once (a renewal batch). */
export const periodsAggregates = statement<{ periods: string }>(
  "usage_periods_aggregates",
  ["periods"],
  sqlText`
with r as (
  select * from jsonb_to_recordset(${param("periods")}::jsonb) as r(i int, p text, s timestamptz, e timestamptz)
),
${aggregateCtes({ platform: raw("r.p") })}
select * from aggregates`,
);

export interface CurrentUsageParams extends Record<string, unknown> {
  /** ISO. */
  now: string;
  platformId: string;
}

/** The platform, its live subscription, the current period when known, and its aggregates. */
export interface CurrentUsageRow extends SubscriptionColumns {
  period_start_ms: number | null;
  period_end_ms: number | null;
  aggregates: AggregateRow[] | null;
}

/**
 * The current period and its aggregates in one statement (one round trip per request): the
 * period is the calendar month without a live subscription, else the subscription's current
 * period when it contains now; otherwise (null) the caller computes it from the anchor.
 */
const currentUsage = (tenant?: Param) =>
  sqlText`
with sub as (
  ${platformsWithSubscription(sqlText`where p.platform_id = ${param("platformId")}`)}
),
bounds as (
  select
    case when sub.tier is null then date_trunc('month', ${param("now")}::timestamptz at time zone 'UTC') at time zone 'UTC'
      when sub.cps <= ${param("now")}::timestamptz and ${param("now")}::timestamptz < sub.cpe
      then sub.cps end as s,
    case when sub.tier is null
      then (date_trunc('month', ${param("now")}::timestamptz at time zone 'UTC') + interval '1 month') at time zone 'UTC'
      when sub.cps <= ${param("now")}::timestamptz and ${param("now")}::timestamptz < sub.cpe
      then sub.cpe end as e
  from sub
),
r as (select 0 as i, s, e from bounds where s is not null),
${aggregateCtes({ platform: sqlText`${param("platformId")}`, ...(tenant ? { tenant } : {}) })}
select sub.platform_id, sub.tier, sub.interval, sub.anchor_ms, sub.start_ms, sub.end_ms, sub.created_ms, sub.usage_periods,
  (extract(epoch from bounds.s) * 1000)::float8 as period_start_ms,
  (extract(epoch from bounds.e) * 1000)::float8 as period_end_ms,
  (select jsonb_agg(a) from aggregates a) as aggregates
from sub cross join bounds`;

export const platformCurrentUsage = statement<CurrentUsageParams>(
  "usage_platform_current",
  ["now", "platformId"],
  currentUsage(),
);

export const tenantCurrentUsage = statement<CurrentUsageParams & { tenantId: string }>(
  "usage_tenant_current",
  ["now", "platformId", "tenantId"],
  currentUsage(param("tenantId")),
);
