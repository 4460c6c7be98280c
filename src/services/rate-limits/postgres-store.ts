import type { Database } from "../../db/client.ts";
import { runSql, type SqlStatement } from "../usage/sql-runner.ts";
import { type BucketCharge, type BucketState, type BucketStore, inLockOrder } from "./buckets.ts";

/**
 * Buckets in the database (`rate_limit_buckets`, unlogged): the default store, on PostgreSQL
 * and on embedded PGlite alike. A check is one statement, `INSERT … ON CONFLICT DO UPDATE …
 * RETURNING`, which creates a missing bucket full, or locks the row, refills it for the time
 * since its last check and spends the cost when there is enough. The row lock orders concurrent
 * checks of one bucket, from any number of instances.
 *
 * Time is the database's `statement_timestamp()`: one clock for every instance (no skew between
 * hosts), real time (the service's injected clock is billing time, frozen under the test
 * clock). A clock that steps back never takes tokens away: the elapsed time is at least 0 and
 * `refilled_at` never moves backwards.
 *
 * The limits come from the same statement: the platform's override (`platform_rate_limits`)
 * when it has one, else the default passed in, so an operator's change applies to the next
 * request on every instance, and a check costs one round trip.
 */
const refill = `least(excluded.burst, b.tokens + excluded.rate *
      greatest(0, extract(epoch from excluded.refilled_at - b.refilled_at)::float8))`;

export const spendStatement: SqlStatement = {
  name: "rate_limit_spend_v1",
  text: `
with c as (
  select * from rows from (
    json_to_recordset($1::json) as (p text, b text, k text, c float8, r float8, u float8)
  ) with ordinality as c(p, b, k, c, r, u, ord)
),
l as (
  select c.ord, c.p, c.b, c.c,
    case when c.k = 'events' then coalesce(o.events_per_second, c.r)
      else coalesce(o.requests_per_second, c.r) end as r,
    case when c.k = 'events' then coalesce(o.event_burst, c.u)
      else coalesce(o.request_burst, c.u) end as u
  from c left join platform_rate_limits o on o.platform_id = c.p
)
insert into rate_limit_buckets as b
  (platform_id, bucket, tokens, rate, burst, last_cost, granted, refilled_at)
select p, b, case when c <= u then u - c else u end, r, u, c, c <= u, statement_timestamp()
from l order by ord
on conflict (platform_id, bucket) do update set
  tokens = case when ${refill} >= excluded.last_cost
    then ${refill} - excluded.last_cost else ${refill} end,
  granted = ${refill} >= excluded.last_cost,
  rate = excluded.rate,
  burst = excluded.burst,
  last_cost = excluded.last_cost,
  refilled_at = greatest(b.refilled_at, excluded.refilled_at)
returning platform_id, bucket, tokens, rate, burst, granted`,
};

type SpentRow = {
  platform_id: string;
  bucket: string;
  tokens: number;
  rate: number;
  burst: number;
  granted: boolean;
};

/** Thrown inside the transaction of a multi-bucket check that must not spend: rolls it back. */
class Refused extends Error {
  constructor(readonly rows: SpentRow[]) {
    super("refused");
  }
}

/** The charges as the statement's JSON parameter (short field names, as ingestion's batches). */
const parameterOf = (charges: BucketCharge[]) =>
  JSON.stringify(
    charges.map((c) => ({
      p: c.platformId,
      b: c.bucket,
      k: c.kind,
      c: c.cost,
      r: c.defaults.rate,
      u: c.defaults.burst,
    })),
  );

/**
 * Bucket states in the order of `charges`. When the check was refused, a bucket that had
 * enough was not spent (its transaction rolled back): its tokens are given back here.
 */
const statesOf = (charges: BucketCharge[], rows: SpentRow[], granted: boolean): BucketState[] =>
  charges.map((charge) => {
    const row = rows.find((r) => r.platform_id === charge.platformId && r.bucket === charge.bucket);
    if (!row) throw new Error(`rate limit check returned no row for ${charge.bucket}`);
    return {
      charge,
      rate: row.rate,
      burst: row.burst,
      tokens: row.granted && !granted ? row.tokens + charge.cost : row.tokens,
      sufficient: row.granted,
    };
  });

export const createPostgresStore = (database: Database): BucketStore => ({
  kind: "postgres",
  spend: async (charges) => {
    const ordered = inLockOrder(charges);
    const parameter = parameterOf(ordered);
    // One bucket: one autocommit statement. Several (a batch naming several platforms): one
    // transaction, rolled back unless every bucket had enough, so none is spent alone.
    const several = ordered.length > 1;
    let rows: SpentRow[];
    try {
      rows = await runSql(database, { transaction: several }, async (runner) => {
        const spent = await runner.query<SpentRow>(spendStatement, [parameter]);
        if (several && spent.some((row) => !row.granted)) throw new Refused(spent);
        return spent;
      });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      rows = error.rows;
    }
    const granted = rows.every((row) => row.granted);
    return { granted, buckets: statesOf(charges, rows, granted) };
  },
  close: async () => {},
});
