import { createServer, type Server, type Socket } from "node:net";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { AppError } from "../errors.ts";
import { wrapPool } from "./client.ts";
import { isConnectionFailure, isUniqueViolation } from "./errors.ts";

/**
 * Which failures mean "the database is unreachable" (a 503 the caller may retry) rather than "the
 * statement failed". The connection failures are real ones, produced by node-postgres against
 * local sockets that refuse, hang up or never answer; no PostgreSQL server is needed.
 */
const servers: Server[] = [];
const sockets = new Set<Socket>();
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A local TCP server doing `onConnection` with every connection; resolves to its port. */
const listen = (onConnection: (socket: Socket) => void) =>
  new Promise<number>((resolve) => {
    const server = createServer((socket) => {
      sockets.add(socket);
      onConnection(socket);
    });
    servers.push(server);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });

/** A port nothing listens on. */
const closedPort = async () => {
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
  await new Promise((r) => server.close(r));
  return port;
};

/** The error a one-connection pool to `port` reports for `select 1`, through drizzle. */
const failureAt = async (port: number, opts: pg.PoolConfig = {}) => {
  const pool = new pg.Pool({
    connectionString: `postgres://postgres@127.0.0.1:${port}/none`,
    max: 1,
    ...opts,
  });
  const database = wrapPool(pool);
  try {
    await database.db.execute(sql`select 1`);
  } catch (error) {
    return error;
  } finally {
    await pool.end();
  }
  throw new Error("the query succeeded");
};

const sqlState = (code: string, message = "failed") => {
  const error = new pg.DatabaseError(message, 0, "error");
  error.code = code;
  return error;
};

describe("isConnectionFailure", () => {
  it("is true for a refused connection", async () => {
    const error = await failureAt(await closedPort());
    expect(isConnectionFailure(error)).toBe(true);
  });

  it("is true for a connection the server drops", async () => {
    const port = await listen((socket) => socket.destroy());
    const error = await failureAt(port);
    expect(String((error as Error).cause)).toMatch(/Connection terminated|ECONNRESET/);
    expect(isConnectionFailure(error)).toBe(true);
  });

  it("is true for a server that never answers (connection timeout)", async () => {
    const port = await listen(() => {});
    const error = await failureAt(port, { connectionTimeoutMillis: 200 });
    expect(isConnectionFailure(error)).toBe(true);
  });

  it("is true for shutdown and connection SQLSTATEs, also wrapped as a cause", () => {
    for (const code of ["57P01", "57P02", "57P03", "08006", "08001", "08003", "53300"]) {
      expect(isConnectionFailure(sqlState(code)), code).toBe(true);
      expect(isConnectionFailure(new Error("Failed query", { cause: sqlState(code) })), code).toBe(
        true,
      );
    }
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(isConnectionFailure(new AggregateError([refused], "all addresses failed"))).toBe(true);
  });

  it("is false for statements that fail and for everything else", () => {
    for (const code of ["23505", "40001", "40P01", "57014", "42P01", "22003"]) {
      expect(isConnectionFailure(sqlState(code)), code).toBe(false);
    }
    expect(isConnectionFailure(new Error("boom"))).toBe(false);
    expect(isConnectionFailure(new AppError("CONFLICT", "no"))).toBe(false);
    expect(isConnectionFailure(undefined)).toBe(false);
    expect(isConnectionFailure("ECONNREFUSED")).toBe(false);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(isConnectionFailure(loop)).toBe(false);
  });

  it("leaves isUniqueViolation to unique violations", () => {
    expect(isUniqueViolation(sqlState("23505"))).toBe(true);
    expect(isUniqueViolation(sqlState("57P01"))).toBe(false);
  });
});
