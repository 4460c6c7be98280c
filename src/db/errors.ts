/** True when a query failed on a unique constraint (PostgreSQL and PGlite report 23505). */
export const isUniqueViolation = (error: unknown, constraint?: string): boolean => {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const { code, constraint: name } = e as { code?: string; constraint?: string };
    if (code === "23505")
      return constraint === undefined || name === undefined || name === constraint;
  }
  return false;
};

/**
 * SQLSTATEs that mean the connection, not the statement, failed: the server is going down, was
 * restarting, or refused the session. Class 08 (connection exception) is matched by prefix.
 */
const connectionSqlStates = new Set([
  "57P01", // admin_shutdown: terminating connection due to administrator command
  "57P02", // crash_shutdown: another server process crashed
  "57P03", // cannot_connect_now: the database system is starting up / shutting down
  "53300", // too_many_connections: the server refuses new sessions for now
]);

/** Socket-level failures reaching the server (`code` of Node's system errors). */
const connectionErrnos = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * Messages of node-postgres and pg-pool for a connection lost or never obtained; they carry no
 * code. ("Connection terminated unexpectedly", "... due to connection timeout", the pool's
 * "timeout exceeded when trying to connect", a client left "not queryable" by a broken socket.)
 */
const connectionMessages = [
  /^Connection terminated\b/,
  /^timeout exceeded when trying to connect$/,
  /is not queryable$/,
];

/** The error itself, then its causes (drizzle wraps the driver's) and an AggregateError's parts. */
const errorChain = function* (error: unknown): Generator<object> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    yield e;
    queue.push((e as { cause?: unknown }).cause);
    if (e instanceof AggregateError) queue.push(...e.errors);
  }
};

/**
 * True when `error` means the database could not be reached or dropped the connection (a
 * restart, a failover, a network cut), as opposed to a statement that failed. Such a request may
 * simply be retried once the database is back, so it is a 503, not a 500. PGlite runs in the
 * process and never fails this way.
 */
export const isConnectionFailure = (error: unknown): boolean => {
  for (const e of errorChain(error)) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string") {
      if (code.startsWith("08") && code.length === 5) return true;
      if (connectionSqlStates.has(code) || connectionErrnos.has(code)) return true;
    }
    if (typeof message === "string" && connectionMessages.some((m) => m.test(message))) {
      return true;
    }
  }
  return false;
};
