import pino, { type Logger } from "pino";
import { afterAll } from "vitest";
import { type Clock, ManualClock } from "../src/clock.ts";
import { composeService } from "../src/compose.ts";
import { loadConfig } from "../src/config.ts";
import type { Database } from "../src/db/client.ts";
import type { StripeEmulator } from "../src/emulator/stripe/index.ts";
import { randomToken } from "../src/ids.ts";
import { createTestDatabase } from "./test-database.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON read by assertions
export interface TestResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  /** Bearer key; `null` sends no Authorization header. Defaults to the operator key. */
  key?: string | null;
  body?: unknown;
  /** A raw body, sent as is (for malformed JSON and size tests). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * A complete app on its own database with a clock that stands still, composed by the same root
 * as `npm start` (`composeService`). Requests go through `app.request`, the same pipeline a
 * socket request takes.
 */
export const createTestApp = async (
  opts: {
    env?: Record<string, string>;
    start?: string;
    database?: Database;
    logger?: Logger;
    /** The clock webhooks are signed and verified by (`npm start`: the real one); `clock` by default. */
    webhookClock?: Clock;
  } = {},
) => {
  const database = opts.database ?? (await createTestDatabase());
  const clock = new ManualClock(opts.start ?? "2026-01-15T12:00:00.000Z");
  const config = loadConfig({
    NODE_ENV: "test",
    BILLING_DATA_DIR: "/nonexistent-test-data-dir",
    ...opts.env,
  });
  const operatorKey = `nno_op_${randomToken(40)}`;
  const logger = opts.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const composed = composeService({
    database,
    config,
    logger,
    clock,
    testClock: clock,
    ...(opts.webhookClock ? { webhookClock: opts.webhookClock } : {}),
    operatorKey,
  });
  const { app, deps } = composed;
  // Undefined only for tests that point the SDK elsewhere (STRIPE_API_BASE) on purpose.
  const emulator = composed.emulator as StripeEmulator;

  // biome-ignore lint/suspicious/noExplicitAny: as above
  const request = async <T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<TestResponse<T>> => {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? operatorKey : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await app.request(path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON; tests read `text`
    }
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  };

  let counter = 0;
  /** A unique platform with a platform key. */
  const createPlatform = async (scopes?: string[]) => {
    counter += 1;
    const platformId = `plat_${counter}_${randomToken(6).toLowerCase()}`;
    const created = await request("POST", "/operator/platforms", {
      body: { platformId, name: `Platform ${counter}`, email: `billing+${counter}@example.com` },
    });
    if (created.status !== 201) throw new Error(`platform not created: ${created.text}`);
    const key = await request("POST", `/operator/platforms/${platformId}/api-keys`, {
      body: scopes ? { scopes } : {},
    });
    if (key.status !== 201) throw new Error(`key not created: ${key.text}`);
    return {
      platformId,
      customerId: created.body.customerId as string,
      key: key.body.key as string,
      keyId: key.body.id as string,
    };
  };

  /** Stops the emulator's webhook delivery, the rate limiter and the database. */
  const close = composed.close;
  return {
    app,
    deps,
    clock,
    config,
    database,
    operatorKey,
    emulator,
    request,
    createPlatform,
    close,
  };
};

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** A test app for the whole file, closed after its last test. */
export const useTestApp = async (opts: Parameters<typeof createTestApp>[0] = {}) => {
  const t = await createTestApp(opts);
  afterAll(() => t.close());
  return t;
};
