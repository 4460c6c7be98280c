import type { Database } from "../../db/client.ts";

/**
 * The ingestion hot path talks to the driver directly, below drizzle: its statements are named
 * prepared statements on PostgreSQL (parsed and planned once per connection instead of once per
 * batch), and a batch that needs several statements runs them on one pooled connection.
 */
export interface SqlStatement {
  /** Prepared-statement name; the text must never change under one name. */
  name: string;
  text: string;
}

export type Row = Record<string, unknown>;

export interface SqlRunner {
  query<T extends Row = Row>(statement: SqlStatement, values: unknown[]): Promise<T[]>;
}

/** SQLSTATEs after which a whole transaction may simply run again. */
const retryable = new Set(["40001", "40P01"]);
const maxAttempts = 5;

const isRetryable = (error: unknown) =>
  retryable.has(String((error as { code?: unknown } | null)?.code ?? ""));

/** Runs `work` on one connection, inside a transaction when `transaction` is set. */
export const runSql = async <T>(
  database: Database,
  opts: { transaction: boolean },
  work: (runner: SqlRunner) => Promise<T>,
): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(database, opts, work);
    } catch (error) {
      // Deadlocks cannot happen between batches (every statement touches rows in key order),
      // but a retry is the documented answer if one ever does.
      if (!isRetryable(error) || attempt >= maxAttempts) throw error;
    }
  }
};

const runOnce = async <T>(
  database: Database,
  opts: { transaction: boolean },
  work: (runner: SqlRunner) => Promise<T>,
): Promise<T> => {
  const { pool, pglite } = database;
  if (pool) {
    const client = await pool.connect();
    const runner: SqlRunner = {
      query: async <R extends Row>(statement: SqlStatement, values: unknown[]) =>
        (await client.query<R>({ name: statement.name, text: statement.text, values })).rows,
    };
    let broken = false;
    try {
      if (!opts.transaction) return await work(runner);
      await client.query("begin");
      try {
        const result = await work(runner);
        await client.query("commit");
        return result;
      } catch (error) {
        await client.query("rollback").catch(() => {
          broken = true;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }
  if (pglite) {
    const direct: SqlRunner = {
      query: async <R extends Row>(statement: SqlStatement, values: unknown[]) =>
        (await pglite.query<R>(statement.text, values)).rows,
    };
    if (!opts.transaction) return work(direct);
    return pglite.transaction((tx) =>
      work({
        query: async <R extends Row>(statement: SqlStatement, values: unknown[]) =>
          (await tx.query<R>(statement.text, values)).rows,
      }),
    );
  }
  throw new Error("database has neither a pool nor a PGlite instance");
};
