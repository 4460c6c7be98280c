import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import { preparedRead } from "../db/prepared.ts";
import { type PlatformRow, platforms } from "../db/schema/index.ts";
import { conflict, notFound } from "../errors.ts";
import type { ServiceContext } from "./context.ts";
import { storeCustomer } from "./customers.ts";
import { decodeCursor, type Page, toPage } from "./pagination.ts";

export interface Platform {
  platformId: string;
  name: string;
  email: string;
  customerId: string | null;
  createdAt: string;
}

export const presentPlatform = (row: PlatformRow): Platform => ({
  platformId: row.platformId,
  name: row.name,
  email: row.email,
  customerId: row.customerId,
  createdAt: row.createdAt.toISOString(),
});

export const createPlatform = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; name: string; email: string };
}): Promise<Platform> => {
  const exists = () => conflict(`platform '${input.platformId}' already exists`);
  if (await findPlatform({ ctx, input })) throw exists();
  // The processor call is keyed by the platform id, so a retry after a crash reuses the
  // customer it created instead of making a second one.
  const customer = await ctx.processor.createCustomer(
    { email: input.email, name: input.name, metadata: { platformId: input.platformId } },
    { idempotencyKey: `platform-customer-${input.platformId}` },
  );
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(platforms)
      .values({ ...input, customerId: customer.id, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!row) throw exists();
    await storeCustomer({ tx, input: { customer, now, platformId: input.platformId } });
    return presentPlatform(row);
  });
};

export const findPlatform = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<PlatformRow | undefined> => {
  const [row] = await platformById(ctx.db).execute({ platformId: input.platformId });
  return row;
};

const platformById = preparedRead("platform_by_id", (db, name) =>
  db
    .select()
    .from(platforms)
    .where(eq(platforms.platformId, sql.placeholder("platformId")))
    .prepare(name),
);

export const getPlatform = async (args: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<Platform> => {
  const row = await findPlatform(args);
  if (!row) throw notFound("platform", args.input.platformId);
  return presentPlatform(row);
};

/** Platforms, newest first. */
export const listPlatforms = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { limit: number; cursor?: string | undefined };
}): Promise<Page<Platform>> => {
  const after = decodeCursor(input.cursor);
  const rows = await ctx.db
    .select()
    .from(platforms)
    .where(
      after
        ? or(
            lt(platforms.createdAt, after.createdAt),
            and(eq(platforms.createdAt, after.createdAt), lt(platforms.platformId, after.id)),
          )
        : undefined,
    )
    .orderBy(desc(platforms.createdAt), desc(platforms.platformId))
    .limit(input.limit + 1);
  return toPage(
    rows,
    input.limit,
    (r) => ({ createdAt: r.createdAt, id: r.platformId }),
    presentPlatform,
  );
};
