import { type AnyColumn, and, eq, lt, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { invalid } from "../errors.ts";

/**
 * Opaque keyset cursors over `(created_at, id)`: stable under concurrent inserts because a page
 * continues strictly after the last row it returned.
 */
export interface CursorPosition {
  createdAt: Date;
  id: string;
}

/** Rows are created by this service: a position outside these years was not made by it. */
const earliest = Date.parse("2000-01-01T00:00:00.000Z");
const latest = Date.parse("9999-12-31T23:59:59.999Z");

const cursorSchema = z.object({
  t: z
    .string()
    .datetime()
    .refine((t) => {
      const ms = Date.parse(t);
      return ms >= earliest && ms <= latest;
    }),
  id: z.string().min(1).max(255),
});

export const encodeCursor = (position: CursorPosition): string =>
  Buffer.from(JSON.stringify({ t: position.createdAt.toISOString(), id: position.id })).toString(
    "base64url",
  );

export const decodeCursor = (cursor: string | undefined): CursorPosition | undefined => {
  if (cursor === undefined) return undefined;
  try {
    const parsed = cursorSchema.parse(
      JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")),
    );
    return { createdAt: new Date(parsed.t), id: parsed.id };
  } catch {
    throw invalid("cursor is not valid; pass the nextCursor of a previous page", [
      { path: ["cursor"], message: "invalid cursor" },
    ]);
  }
};

/** Page query of a cursor-paginated list: `limit` rows after `cursor` (a previous nextCursor). */
export interface PageInput {
  limit: number;
  cursor?: string | undefined;
}

/**
 * The rows after a cursor position of a list ordered newest first by `(createdAt desc, id desc)`;
 * undefined (no condition) for the first page.
 */
export const olderThan = (
  after: CursorPosition | undefined,
  createdAt: AnyColumn,
  id: AnyColumn,
): SQL | undefined =>
  after
    ? or(lt(createdAt, after.createdAt), and(eq(createdAt, after.createdAt), lt(id, after.id)))
    : undefined;

/**
 * `olderThan` for a prepared read (`preparedRead`): the position comes from the placeholders
 * `afterCreatedAt` and `afterId`, which `pagePlaceholders` fills.
 */
export const olderThanPlaceholder = (createdAt: AnyColumn, id: AnyColumn): SQL =>
  or(
    lt(createdAt, sql.placeholder("afterCreatedAt")),
    and(eq(createdAt, sql.placeholder("afterCreatedAt")), lt(id, sql.placeholder("afterId"))),
  ) as SQL;

/**
 * The values of a prepared page read: its position (`olderThanPlaceholder`), before every row
 * for the first page (PostgreSQL's `infinity` is later than any time), and `limit + 1` rows to
 * tell whether another page follows (`toPage`).
 */
export const pagePlaceholders = (page: PageInput) => {
  const after = decodeCursor(page.cursor);
  return {
    afterCreatedAt: after ? after.createdAt : "infinity",
    afterId: after ? after.id : "",
    limit: page.limit + 1,
  };
};

/** A list that cannot grow past a few entries, as one page in the list shape. */
export const wholeList = <T>(data: T[]): Page<T> => ({ data, hasMore: false, nextCursor: null });

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** Builds a page from `limit + 1` fetched rows. */
export const toPage = <Row, T>(
  rows: Row[],
  limit: number,
  position: (row: Row) => CursorPosition,
  present: (row: Row) => T,
): Page<T> => {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return {
    data: pageRows.map(present),
    hasMore,
    nextCursor: hasMore && last ? encodeCursor(position(last)) : null,
  };
};
