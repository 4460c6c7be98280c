import type { Db } from "./client.ts";

/**
 * A read that a page runs on every request, built by drizzle once per database handle and
 * prepared under `name`: drizzle does not assemble its SQL again, and PostgreSQL parses it once
 * per connection (a named prepared statement) and may keep its plan. On PGlite only the
 * assembly is saved. Use it for reads outside a transaction (`ctx.db`); a statement prepared on
 * the database does not run inside one. Values are passed as `sql.placeholder(...)`s.
 *
 * `name` must be unique in the process and its text must never change under it (PostgreSQL
 * keeps the statement per connection).
 */
export const preparedRead = <Query>(
  name: string,
  build: (db: Db, name: string) => Query,
): ((db: Db) => Query) => {
  const byDatabase = new WeakMap<Db, Query>();
  return (db) => {
    let query = byDatabase.get(db);
    if (query === undefined) {
      query = build(db, name);
      byDatabase.set(db, query);
    }
    return query;
  };
};
