import { randomBytes } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Db, Tx } from "../../db/client.ts";
import { preparedRead } from "../../db/prepared.ts";
import {
  type WebhookEndpointRow,
  type WebhookSecret,
  webhookEndpoints,
} from "../../db/schema/index.ts";
import { forbidden, invalid, notFound } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { ServiceContext } from "../context.ts";
import type { WebhookEndpointObject } from "../events/catalog.ts";
import { eventTypes } from "../events/catalog.ts";
import {
  olderThanPlaceholder,
  type Page,
  type PageInput,
  pagePlaceholders,
  toPage,
} from "../pagination.ts";
import type { Principal } from "../principal.ts";
import { checkWebhookUrl } from "./destination.ts";

/** How long a rotated-out secret keeps signing beside the new one. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60_000;
/** Endpoints one owner (a platform, or the operator) may have. */
export const MAX_ENDPOINTS = 16;

export const presentEndpoint = (row: WebhookEndpointRow): WebhookEndpointObject => ({
  id: row.id,
  platformId: row.platformId,
  url: row.url,
  enabledEvents: row.enabledEvents,
  description: row.description,
  disabled: row.disabled,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** A new signing secret in the Standard Webhooks format: `whsec_` + base64 of 32 random bytes. */
const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

/** The secrets that still sign at `now` (the current one and a rotated one in its overlap). */
export const activeSecrets = (row: Pick<WebhookEndpointRow, "secrets">, now: Date) =>
  row.secrets.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime());

/**
 * Whose endpoints a caller manages: a platform key its platform's, the operator the operator's
 * (null), which receive every platform's events.
 */
const ownerOf = (principal: Principal): string | null => {
  if (principal.kind === "platform") return principal.platformId;
  if (principal.kind === "operator") return null;
  throw forbidden("a usage:write service key may only ingest usage events");
};

const ownedBy = (owner: string | null) =>
  owner === null ? isNull(webhookEndpoints.platformId) : eq(webhookEndpoints.platformId, owner);

const checkEvents = (enabledEvents: string[]) => {
  const known = new Set<string>([...eventTypes.filter((t) => t !== "ping"), "*"]);
  const unknown = enabledEvents.filter((e) => !known.has(e));
  if (unknown.length > 0) {
    throw invalid(`unknown event types: ${unknown.join(", ")}`, [
      { path: ["enabledEvents"], message: `unknown: ${unknown.join(", ")}` },
    ]);
  }
  return [...new Set(enabledEvents)];
};

/**
 * An endpoint the caller manages: a platform key its own platform's, the operator any (it acts on
 * every platform). Someone else's is reported missing.
 */
const findEndpoint = async (tx: Tx, principal: Principal, id: string) => {
  const owner = ownerOf(principal);
  const [row] = await tx
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), owner === null ? undefined : ownedBy(owner)));
  if (!row) throw notFound("webhook endpoint", id);
  return row;
};

export const createWebhookEndpoint = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { url: string; enabledEvents: string[]; description?: string | undefined };
}): Promise<WebhookEndpointObject & { secret: string }> => {
  const owner = ownerOf(principal);
  const url = await checkWebhookUrl(input.url, { allowPrivate: ctx.config.webhooks.allowPrivate });
  const enabledEvents = checkEvents(input.enabledEvents);
  const now = ctx.clock.now();
  const secret = newSecret();
  const row = await ctx.db.transaction(async (tx) => {
    const existing = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(ownedBy(owner))
      .limit(MAX_ENDPOINTS);
    if (existing.length >= MAX_ENDPOINTS) {
      throw invalid(`at most ${MAX_ENDPOINTS} webhook endpoints; delete one first`);
    }
    const [created] = await tx
      .insert(webhookEndpoints)
      .values({
        id: newId("we"),
        platformId: owner,
        url,
        enabledEvents,
        description: input.description ?? null,
        secrets: [{ secret, expiresAt: null }],
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    return created as WebhookEndpointRow;
  });
  return { ...presentEndpoint(row), secret };
};

export const listWebhookEndpoints = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: PageInput;
}): Promise<Page<WebhookEndpointObject>> => {
  const owner = ownerOf(principal);
  const values = pagePlaceholders(input);
  const rows =
    owner === null
      ? await operatorEndpoints(ctx.db).execute(values)
      : await platformEndpoints(ctx.db).execute({ ...values, platformId: owner });
  return toPage(rows, input.limit, (r) => r, presentEndpoint);
};

/** A page of endpoints, newest first: one platform's, or the operator's own. */
const endpointsPage = (owner: "platform" | "operator") => (db: Db, name: string) =>
  db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        owner === "platform"
          ? eq(webhookEndpoints.platformId, sql.placeholder("platformId"))
          : isNull(webhookEndpoints.platformId),
        olderThanPlaceholder(webhookEndpoints.createdAt, webhookEndpoints.id),
      ),
    )
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(sql.placeholder("limit"))
    .prepare(name);
const platformEndpoints = preparedRead("webhook_endpoints_of_platform", endpointsPage("platform"));
const operatorEndpoints = preparedRead("webhook_endpoints_of_operator", endpointsPage("operator"));

export const getWebhookEndpoint = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string };
}) => presentEndpoint(await findEndpoint(ctx.db, principal, input.id));

/** The endpoint row itself, for the delivery routes (ownership checked). */
export const ownedEndpoint = ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string };
}) => findEndpoint(ctx.db, principal, input.id);

export const updateWebhookEndpoint = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: {
    id: string;
    url?: string | undefined;
    enabledEvents?: string[] | undefined;
    description?: string | null | undefined;
    disabled?: boolean | undefined;
  };
}): Promise<WebhookEndpointObject> => {
  const existing = await findEndpoint(ctx.db, principal, input.id);
  const url =
    input.url === undefined
      ? undefined
      : await checkWebhookUrl(input.url, { allowPrivate: ctx.config.webhooks.allowPrivate });
  const enabledEvents =
    input.enabledEvents === undefined ? undefined : checkEvents(input.enabledEvents);
  const [row] = await ctx.db
    .update(webhookEndpoints)
    .set({
      ...(url !== undefined ? { url } : {}),
      ...(enabledEvents !== undefined ? { enabledEvents } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      // Enabling again starts a fresh run: the 5 failing days count from the next failure.
      ...(input.disabled !== undefined
        ? { disabled: input.disabled, ...(input.disabled ? {} : { failingSince: null }) }
        : {}),
      updatedAt: ctx.clock.now(),
    })
    .where(eq(webhookEndpoints.id, existing.id))
    .returning();
  if (!row) throw notFound("webhook endpoint", input.id);
  return presentEndpoint(row);
};

export const deleteWebhookEndpoint = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string };
}): Promise<{ id: string; deleted: true }> => {
  const existing = await findEndpoint(ctx.db, principal, input.id);
  // Its pending deliveries find no endpoint and are marked failed by the worker.
  await ctx.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, existing.id));
  return { id: existing.id, deleted: true };
};

/**
 * A new signing secret; the previous current one keeps signing beside it for 24 hours, so a
 * receiver can switch without missing a delivery. Secrets already past their overlap are dropped.
 */
export const rotateWebhookSecret = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string };
}): Promise<WebhookEndpointObject & { secret: string }> => {
  const now = ctx.clock.now();
  const secret = newSecret();
  const row = await ctx.db.transaction(async (tx) => {
    const found = await findEndpoint(tx, principal, input.id);
    const [locked] = await tx
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, found.id))
      .for("update");
    if (!locked) throw notFound("webhook endpoint", input.id);
    const expiresAt = new Date(now.getTime() + SECRET_OVERLAP_MS).toISOString();
    const kept: WebhookSecret[] = activeSecrets(locked, now).map((s) => ({
      secret: s.secret,
      expiresAt: s.expiresAt ?? expiresAt,
    }));
    const [updated] = await tx
      .update(webhookEndpoints)
      .set({ secrets: [{ secret, expiresAt: null }, ...kept], updatedAt: now })
      .where(eq(webhookEndpoints.id, locked.id))
      .returning();
    return updated as WebhookEndpointRow;
  });
  return { ...presentEndpoint(row), secret };
};
