import { and, desc, eq, lt, or } from "drizzle-orm";
import { type PlatformRow, platforms } from "../db/schema/index.ts";
import { conflict, notFound } from "../errors.ts";
import type { ServiceContext } from "./context.ts";
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
  const now = ctx.clock.now();
  const [row] = await ctx.db
    .insert(platforms)
    .values({ ...input, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning();
  if (!row) throw conflict(`platform '${input.platformId}' already exists`);
  return presentPlatform(row);
};

export const findPlatform = async ({
  ctx,
  platformId,
}: {
  ctx: ServiceContext;
  platformId: string;
}): Promise<PlatformRow | undefined> => {
  const [row] = await ctx.db.select().from(platforms).where(eq(platforms.platformId, platformId));
  return row;
};

export const getPlatform = async (args: {
  ctx: ServiceContext;
  platformId: string;
}): Promise<Platform> => {
  const row = await findPlatform(args);
  if (!row) throw notFound("platform", args.platformId);
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
