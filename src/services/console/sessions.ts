import { createHash } from "node:crypto";
import { and, eq, gt, lt, sql } from "drizzle-orm";
import { preparedRead } from "../../db/prepared.ts";
import { consoleSessions } from "../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { randomToken } from "../../ids.ts";
import { secretsEqual } from "../api-keys.ts";
import type { ServiceContext } from "../context.ts";

/** What a signed-in console request knows of its session. */
export interface ConsoleSession {
  /** The stored hash of the session id: names the session without being a credential. */
  idHash: string;
  csrfToken: string;
  expiresAt: Date;
}

const hashOf = (sessionId: string) => createHash("sha256").update(sessionId).digest("hex");

/**
 * Sessions run in real time, as webhook signatures do (`webhookClock`): moving the operator test
 * clock a month ahead must not sign the operator out of the console that moved it.
 */
const sessionClock = (ctx: ServiceContext) => ctx.webhookClock ?? ctx.clock;

/**
 * Exchanges the operator key for a console session: the returned `sessionId` goes into the
 * cookie (only its hash is stored), with a CSRF token of the session's own. A wrong key is a 401
 * and stores nothing. Expired sessions are swept here, at sign-in, so the table stays small.
 */
export const signInToConsole = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { key: string; operatorKey: string };
}): Promise<{ sessionId: string; session: ConsoleSession }> => {
  if (!secretsEqual(input.key, input.operatorKey)) {
    throw new AppError("UNAUTHORIZED", "that is not the operator key");
  }
  const now = sessionClock(ctx).now();
  await ctx.db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, now));
  const sessionId = randomToken(43);
  const session: ConsoleSession = {
    idHash: hashOf(sessionId),
    csrfToken: randomToken(43),
    expiresAt: new Date(now.getTime() + ctx.config.consoleSessionTtlSeconds * 1000),
  };
  await ctx.db.insert(consoleSessions).values({ ...session, createdAt: now });
  return { sessionId, session };
};

/** The live session a cookie names, or undefined (unknown, signed out or expired). */
export const findConsoleSession = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { sessionId: string };
}): Promise<ConsoleSession | undefined> => {
  if (input.sessionId.length > 128) return undefined;
  const [row] = await liveSession(ctx.db).execute({
    idHash: hashOf(input.sessionId),
    now: sessionClock(ctx).now(),
  });
  return row;
};

/** Every console request reads its session: prepared once. */
const liveSession = preparedRead("console_session_live", (db, name) =>
  db
    .select({
      idHash: consoleSessions.idHash,
      csrfToken: consoleSessions.csrfToken,
      expiresAt: consoleSessions.expiresAt,
    })
    .from(consoleSessions)
    .where(
      and(
        eq(consoleSessions.idHash, sql.placeholder("idHash")),
        gt(consoleSessions.expiresAt, sql.placeholder("now")),
      ),
    )
    .prepare(name),
);

/** Ends a session: its cookie and CSRF token are worth nothing afterwards. */
export const signOutOfConsole = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { idHash: string };
}): Promise<void> => {
  await ctx.db.delete(consoleSessions).where(eq(consoleSessions.idHash, input.idHash));
};
