import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import { openPgliteFiles } from "./pglite-files.ts";
import * as schema from "./schema/index.ts";

/** One typed database handle over either driver; services never know which one they have. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction or the database itself: anything services can run queries on. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0] | Db;

export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  /** Runs raw SQL, returning rows; used by migrations and health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The PGlite instance, when embedded (tests clone it). */
  pglite?: PGlite;
  /** The pool, when on PostgreSQL. */
  pool?: pg.Pool;
}

const INT8 = pg.types.builtins.INT8;
const parseInt8 = (value: string) => Number.parseInt(value, 10);

/** `types` that read int8 as a number and leave every other type to `base`. */
const int8AsNumber = (base: pg.CustomTypesConfig): pg.CustomTypesConfig => ({
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 && format !== "binary"
      ? parseInt8
      : base.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
});

/**
 * node-postgres returns int8 and numeric as strings; this connection parses int8 (counts, bigint
 * sums) as numbers so both drivers agree. Values beyond 2^53 never occur in minor units or event
 * counts. Only this connection changes (never `pg.types`, which every pool in the process
 * shares): its own parser for queries without `types`, and for queries that bring their own
 * (Drizzle's, which fall back to the global parsers) int8 is put in front of theirs.
 */
const readInt8AsNumber = (client: pg.PoolClient) => {
  client.setTypeParser(INT8, "text", parseInt8);
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((config: unknown, ...rest: unknown[]) => {
    const own = config as { types?: pg.CustomTypesConfig; submit?: unknown } | null;
    if (own && typeof own === "object" && own.types && typeof own.submit !== "function") {
      return query({ ...own, types: int8AsNumber(own.types) }, ...rest);
    }
    return query(config, ...rest);
  }) as typeof client.query;
};

export const wrapPglite = (client: PGlite): Database => {
  const db = drizzlePglite({ client, schema, casing: "snake_case" }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    pglite: client,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
};

/** Does nothing: the failure it is given is reported to whoever was using the connection. */
const ignore = () => {};

export const wrapPool = (pool: pg.Pool): Database => {
  // An idle client lost its connection (server restart, database dropped); the pool replaces it
  // on next use and queries report their own errors. Unhandled, this would crash the process.
  pool.on("error", ignore);
  // The pool listens for errors only on idle clients. A checked-out client (a transaction, the
  // ingestion path's statements) whose connection drops also emits "error", besides failing its
  // query; with no listener that event crashed the process on a PostgreSQL restart.
  pool.on("connect", (client) => {
    client.on("error", ignore);
    readInt8AsNumber(client);
  });
  const db = drizzlePg({ client: pool, schema, casing: "snake_case" }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    pool,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => pool.end(),
  };
};

/** How long getting a PostgreSQL connection may take before the request fails with a 503. */
export const CONNECTION_TIMEOUT_MS = 5_000;

/**
 * Opens the database the configuration names: PostgreSQL for `postgres://`, an in-memory PGlite
 * for `memory://`, otherwise PGlite persisted in `dataDir`.
 */
export const openDatabase = async (opts: {
  databaseUrl: string | undefined;
  dataDir: string;
  /** `shared_buffers` of an embedded database on disk (`pglite-files.ts`). */
  pgliteSharedBuffers?: string;
  poolSize?: number;
}): Promise<Database> => {
  const url = opts.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    return wrapPool(
      new pg.Pool({
        connectionString: url,
        max: opts.poolSize ?? 10,
        // pg's default closes a connection idle for 10 s. Under steady traffic that means a
        // connection is opened (and its prepared statements planned again) every few seconds,
        // and the request that waits for it is an outlier; keep idle connections for minutes.
        idleTimeoutMillis: 5 * 60_000,
        // pg waits forever by default for a connection (a free one from the pool, or a new one
        // from a server that does not answer): a request then hangs instead of failing. After
        // this long it fails as a connection failure, which the API answers with a 503.
        connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
        // Probes idle connections, so one silently cut (a failover, a NAT dropping it) is noticed
        // and replaced rather than handed to the next query.
        keepAlive: true,
      }),
    );
  }
  if (url?.startsWith("memory://")) return wrapPglite(await PGlite.create());
  return wrapPglite(await openPgliteFiles(opts.dataDir, opts.pgliteSharedBuffers ?? "16MB"));
};
