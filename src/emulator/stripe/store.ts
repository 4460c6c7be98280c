import { type AnyColumn, and, asc, desc, eq, gt, inArray, lt, type SQL, sql } from "drizzle-orm";
import { resourceMissing } from "./errors.ts";
import type { OperationContext } from "./operation-context.ts";
import { stripeEmuObjects } from "./schema.ts";

/** Any Stripe API object as stored: its JSON representation. */
export interface StripeObject {
  id: string;
  object: string;
  [key: string]: unknown;
}

export interface StripeList<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
}

/** The names Stripe uses in "No such ..." messages. */
const displayNames: Record<string, string> = {
  customer: "customer",
  payment_method: "PaymentMethod",
  setup_intent: "setupintent",
  payment_intent: "payment_intent",
  charge: "charge",
  refund: "refund",
  "billing_portal.session": "billing portal session",
  event: "event",
};

export const displayNameOf = (object: string) => displayNames[object] ?? object;

type ReadContext = Pick<OperationContext, "tx" | "objects">;

/**
 * Reads several objects in one statement into the operation's `objects`, where `findObject`
 * then finds them without a round trip. Only for objects the operation reads without a lock.
 */
export const prefetchObjects = async (
  ctx: ReadContext,
  ids: ReadonlyArray<string | null | undefined>,
): Promise<void> => {
  const wanted = ids.filter((id): id is string => typeof id === "string");
  if (wanted.length === 0 || !ctx.objects) return;
  const rows = await ctx.tx
    .select({ data: stripeEmuObjects.data })
    .from(stripeEmuObjects)
    .where(inArray(stripeEmuObjects.id, wanted));
  for (const row of rows) {
    const data = row.data as StripeObject;
    ctx.objects.set(data.id, data);
  }
};

export const findObject = async <T extends StripeObject = StripeObject>(
  ctx: ReadContext,
  id: string,
  object?: string,
  opts: { forUpdate?: boolean } = {},
): Promise<T | undefined> => {
  const known = opts.forUpdate ? undefined : ctx.objects?.get(id);
  if (known) return object === undefined || known.object === object ? (known as T) : undefined;
  const where = object
    ? and(eq(stripeEmuObjects.id, id), eq(stripeEmuObjects.object, object))
    : eq(stripeEmuObjects.id, id);
  const query = ctx.tx.select({ data: stripeEmuObjects.data }).from(stripeEmuObjects).where(where);
  // Row locks serialise concurrent writers of one object (two attaches of one payment method).
  const rows = opts.forUpdate ? await query.for("update") : await query;
  return rows[0]?.data as T | undefined;
};

/** Reads an object or fails as Stripe does: 404 `resource_missing` naming the parameter. */
export const requireObject = async <T extends StripeObject = StripeObject>(
  ctx: ReadContext,
  id: string,
  object: string,
  opts: { param?: string; forUpdate?: boolean } = {},
): Promise<T> => {
  const found = await findObject<T>(ctx, id, object, opts);
  if (!found) throw resourceMissing(displayNameOf(object), id, opts.param);
  return found;
};

/** Whether an object's row is retired (`deleted`, see schema.ts); false for an unknown id. */
export const isRetired = async (ctx: ReadContext, id: string): Promise<boolean> => {
  const [row] = await ctx.tx
    .select({ deleted: stripeEmuObjects.deleted })
    .from(stripeEmuObjects)
    .where(eq(stripeEmuObjects.id, id));
  return row?.deleted ?? false;
};

type WriteContext = Pick<OperationContext, "tx" | "now" | "objects">;

/** Stores new objects, in one statement however many; `customer` is the owner, if any. */
export const insertObjects = async (
  ctx: WriteContext,
  items: ReadonlyArray<{ data: StripeObject; customer?: string | null }>,
): Promise<void> => {
  if (items.length === 0) return;
  await ctx.tx.insert(stripeEmuObjects).values(
    items.map(({ data, customer }) => ({
      id: data.id,
      object: data.object,
      customer: customer ?? null,
      createdAt: ctx.now,
      updatedAt: ctx.now,
      data,
    })),
  );
  for (const { data } of items) ctx.objects?.set(data.id, data);
};

export const insertObject = (
  ctx: WriteContext,
  data: StripeObject,
  customer: string | null = null,
): Promise<void> => insertObjects(ctx, [{ data, customer }]);

export const saveObject = async (
  ctx: WriteContext,
  data: StripeObject,
  opts: { customer?: string | null; deleted?: boolean } = {},
): Promise<void> => {
  await ctx.tx
    .update(stripeEmuObjects)
    .set({
      data,
      updatedAt: ctx.now,
      ...(opts.customer !== undefined ? { customer: opts.customer } : {}),
      ...(opts.deleted !== undefined ? { deleted: opts.deleted } : {}),
    })
    .where(eq(stripeEmuObjects.id, data.id));
  ctx.objects?.set(data.id, data);
};

/** Bounds on an object's `created` (unix seconds), as lists take them. */
export interface CreatedBounds {
  eq?: number;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** SQL conditions on the `created` field of JSON objects stored in `column`. */
export const createdConditions = (column: AnyColumn, bounds?: CreatedBounds) => {
  if (!bounds) return [];
  const created = sql`(${column}->>'created')::bigint`;
  const conditions: SQL[] = [];
  if (bounds.eq !== undefined) conditions.push(sql`${created} = ${bounds.eq}`);
  if (bounds.gt !== undefined) conditions.push(sql`${created} > ${bounds.gt}`);
  if (bounds.gte !== undefined) conditions.push(sql`${created} >= ${bounds.gte}`);
  if (bounds.lt !== undefined) conditions.push(sql`${created} < ${bounds.lt}`);
  if (bounds.lte !== undefined) conditions.push(sql`${created} <= ${bounds.lte}`);
  return conditions;
};

export interface ListQuery {
  object: string;
  customer?: string;
  created?: CreatedBounds;
  /** Further conditions, e.g. on `data->>'type'`. */
  where?: SQL[];
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  url: string;
}

/** A list filter on a top-level text field of the stored object. */
export const dataFieldEquals = (field: string, value: string): SQL =>
  sql`${stripeEmuObjects.data}->>${field} = ${value}`;

/**
 * Stripe lists: newest first; `starting_after` continues towards older objects, `ending_before`
 * walks back towards newer ones. Ordered by insertion (`seq`), so pages never skip or repeat
 * objects created in the same second.
 */
export const listObjects = async <T extends StripeObject>(
  ctx: Pick<OperationContext, "tx">,
  query: ListQuery,
): Promise<StripeList<T>> => {
  const conditions: SQL[] = [
    eq(stripeEmuObjects.object, query.object),
    eq(stripeEmuObjects.deleted, false),
    ...(query.where ?? []),
    ...createdConditions(stripeEmuObjects.data, query.created),
  ];
  if (query.customer !== undefined) conditions.push(eq(stripeEmuObjects.customer, query.customer));
  const cursorId = query.startingAfter ?? query.endingBefore;
  let backwards = false;
  if (cursorId !== undefined) {
    const [cursor] = await ctx.tx
      .select({ seq: stripeEmuObjects.seq })
      .from(stripeEmuObjects)
      .where(and(eq(stripeEmuObjects.id, cursorId), eq(stripeEmuObjects.object, query.object)));
    if (!cursor) {
      const param = query.startingAfter !== undefined ? "starting_after" : "ending_before";
      throw resourceMissing(displayNameOf(query.object), cursorId, param);
    }
    if (query.startingAfter !== undefined) {
      conditions.push(lt(stripeEmuObjects.seq, cursor.seq));
    } else {
      conditions.push(gt(stripeEmuObjects.seq, cursor.seq));
      backwards = true;
    }
  }
  const rows = await ctx.tx
    .select({ data: stripeEmuObjects.data })
    .from(stripeEmuObjects)
    .where(and(...conditions))
    .orderBy(backwards ? asc(stripeEmuObjects.seq) : desc(stripeEmuObjects.seq))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit).map((row) => row.data as T);
  // `ending_before` fetches the objects just newer than the cursor, oldest first; show them
  // newest first like every other page.
  if (backwards) page.reverse();
  return { object: "list", data: page, has_more: rows.length > query.limit, url: query.url };
};
