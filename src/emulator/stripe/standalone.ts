import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import pino, { type Logger } from "pino";
import { z } from "zod";
import type { Clock } from "../../clock.ts";
import { type Database, openDatabase } from "../../db/client.ts";
import { migrate } from "../../db/migrate.ts";
import {
  createStripeEmulator,
  EMULATOR_WEBHOOK_SECRET_DEFAULT,
  type StripeEmulator,
} from "./index.ts";

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(
      /^(postgres(ql)?|memory):\/\//,
      "must start with postgres://, postgresql:// or memory://",
    )
    .optional(),
  BILLING_DATA_DIR: z.string().min(1).default("./.data"),
  STRIPE_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
  /** Loopback by default: the emulator accepts any test key, so it is not for open networks. */
  STRIPE_EMULATOR_HOST: z.string().min(1).default("127.0.0.1"),
  STRIPE_EMULATOR_WEBHOOK_URL: z.url().optional(),
  /** Where browsers reach the emulator, for portal URLs; defaults to the listening address. */
  STRIPE_EMULATOR_PUBLIC_URL: z.url().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Writes per second above which the API answers Stripe's 429 `rate_limit`; 0: no limit. */
  STRIPE_EMULATOR_RATE_LIMIT: z.coerce.number().finite().min(0).default(0),
  /** How long a billing portal session stays valid without being used. */
  STRIPE_EMULATOR_PORTAL_SESSION_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export class StandaloneConfigError extends Error {}

/** Webhooks to a real endpoint give up on an attempt after 30 s, then retry with backoff. */
const DELIVERY_TIMEOUT_MS = 30_000;

export interface StandaloneEmulator {
  url: string;
  port: number;
  emulator: StripeEmulator;
  database: Database;
  close(): Promise<void>;
}

/**
 * `npm run emulator`: the emulator on its own port with its own state, serving any client of
 * Stripe's API (the SDKs configured with `host`/`port`/`protocol: "http"`). Tests pass an open
 * `database`; otherwise it opens DATABASE_URL, or PGlite in `$BILLING_DATA_DIR/emulator`.
 */
export const startStandaloneEmulator = async (opts: {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  database?: Database;
  logger?: Logger;
}): Promise<StandaloneEmulator> => {
  const parsed = envSchema.safeParse(opts.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new StandaloneConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  const logger =
    opts.logger ?? pino({ level: env.LOG_LEVEL, base: { service: "nno-stripe-emulator" } });
  const ownsDatabase = opts.database === undefined;
  const database =
    opts.database ??
    (await openDatabase({
      databaseUrl: env.DATABASE_URL,
      dataDir: resolve(env.BILLING_DATA_DIR, "emulator"),
    }));
  if (ownsDatabase) await migrate(database);

  // Listen first: with port 0 the port, and so the portal URLs, are known only afterwards.
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const { server, port } = await new Promise<{
    server: ReturnType<typeof serve>;
    port: number;
  }>((resolveListening, reject) => {
    const server = serve(
      {
        fetch: (request: Request) =>
          handler ? handler(request) : new Response("starting", { status: 503 }),
        port: env.STRIPE_EMULATOR_PORT,
        hostname: env.STRIPE_EMULATOR_HOST,
      },
      (info: AddressInfo) => resolveListening({ server, port: info.port }),
    );
    server.once("error", reject);
  });
  const host = env.STRIPE_EMULATOR_HOST.includes(":")
    ? `[${env.STRIPE_EMULATOR_HOST}]`
    : env.STRIPE_EMULATOR_HOST;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;

  const webhookUrl = env.STRIPE_EMULATOR_WEBHOOK_URL;
  const emulator = createStripeEmulator({
    db: database.db,
    clock: opts.clock,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? EMULATOR_WEBHOOK_SECRET_DEFAULT,
    webhookUrl,
    deliver: webhookUrl
      ? (request) => fetch(request, { signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) })
      : undefined,
    publicBaseUrl: env.STRIPE_EMULATOR_PUBLIC_URL ?? url,
    logger,
    rateLimit: { writesPerSecond: env.STRIPE_EMULATOR_RATE_LIMIT },
    portalSessionTtlSeconds: env.STRIPE_EMULATOR_PORTAL_SESSION_TTL_SECONDS,
  });
  handler = emulator.fetch;
  if (webhookUrl) emulator.startDelivery();
  logger.info(
    {
      url,
      port,
      database: database.kind,
      webhookUrl: webhookUrl ?? null,
      writeRateLimit: env.STRIPE_EMULATOR_RATE_LIMIT || null,
    },
    `stripe emulator listening on ${url}`,
  );

  return {
    url,
    port,
    emulator,
    database,
    close: async () => {
      await emulator.stopDelivery();
      await new Promise<void>((done) => server.close(() => done()));
      if (ownsDatabase) await database.close();
    },
  };
};
