import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { type PlanCatalog, parsePlanCatalog } from "./billing/plan-catalog.ts";

const booleanFlag = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

/** A rate (per second) or a bucket size: a positive finite number. */
const positive = z.coerce.number().positive().finite();

/** The largest batch `POST /usage/events` takes: an event bucket smaller than this could never admit one. */
export const minEventBurst = 1000;

const envSchema = z
  .object({
    NODE_ENV: z.string().default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    DATABASE_URL: z
      .string()
      .regex(
        /^(postgres(ql)?|memory):\/\//,
        "must start with postgres://, postgresql:// or memory://",
      )
      .optional(),
    BILLING_DATA_DIR: z.string().min(1).default("./.data"),
    BILLING_PGLITE_SHARED_BUFFERS: z
      .string()
      .regex(/^[1-9][0-9]{0,5}(kB|MB|GB)$/, "a size such as 16MB, 512kB or 1GB")
      .default("16MB"),
    BILLING_OPERATOR_KEY: z.string().min(16, "must be at least 16 characters").optional(),
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(live|test)_/, "must be a Stripe secret key (sk_live_..., sk_test_...)")
      .optional(),
    STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
    STRIPE_API_BASE: z.url().optional(),
    STRIPE_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
    /** Unset: chosen by the key (see `defaultMaxWritesPerSecond`); 0: no pacing. */
    STRIPE_MAX_WRITES_PER_SECOND: z.coerce.number().finite().min(0).optional(),
    /** The same for each endpoint (one operation, e.g. creating PaymentIntents). */
    STRIPE_MAX_WRITES_PER_SECOND_PER_ENDPOINT: z.coerce.number().finite().min(0).optional(),
    /** The in-process emulator answers 429 above this many writes per second; 0/unset: never. */
    STRIPE_EMULATOR_RATE_LIMIT: z.coerce.number().finite().min(0).default(0),
    STRIPE_EMULATOR_PORTAL_SESSION_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
    BILLING_CONSOLE_SESSION_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(8 * 3600),
    /** Serve the in-process emulator's API at /emulator/stripe/v1; unset: on outside production. */
    STRIPE_EMULATOR_API: booleanFlag.optional(),
    BILLING_TEST_CLOCK: booleanFlag.default(false),
    BILLING_PLANS_FILE: z.string().min(1).optional(),
    /** How long a closed period's usage waits for late events before it is invoiced. */
    BILLING_USAGE_GRACE_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(3600),
    PUBLIC_BASE_URL: z.url().optional(),
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    BILLING_RATE_LIMITS: booleanFlag.default(true),
    BILLING_RATE_LIMIT_REQUESTS_PER_SECOND: positive.default(100),
    BILLING_RATE_LIMIT_REQUEST_BURST: positive.min(1).default(200),
    BILLING_RATE_LIMIT_OPERATOR_REQUESTS_PER_SECOND: positive.default(1000),
    BILLING_RATE_LIMIT_OPERATOR_REQUEST_BURST: positive.min(1).default(2000),
    BILLING_RATE_LIMIT_EVENTS_PER_SECOND: positive.default(20_000),
    BILLING_RATE_LIMIT_EVENT_BURST: positive
      .min(minEventBurst, `must be at least ${minEventBurst} (the largest batch)`)
      .default(100_000),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
      .optional(),
    BILLING_RATE_LIMIT_REDIS_PREFIX: z.string().min(1).default("nno:rl:"),
    /** Webhook URLs may be http:// or resolve to private addresses; unset: on outside production. */
    BILLING_WEBHOOK_ALLOW_PRIVATE: booleanFlag.optional(),
    /** How long one webhook delivery attempt may take before it counts as failed. */
    BILLING_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
    /** How long events are kept before the worker prunes them. */
    BILLING_EVENT_RETENTION_DAYS: z.coerce.number().int().min(30).max(3650).default(30),
    BILLING_SELLER_NAME: z.string().trim().min(1).max(200).default("NNO"),
    /** Address lines separated by `|` ("1 Main St|Springfield 12345|US"). */
    BILLING_SELLER_ADDRESS: z
      .string()
      .max(1000)
      .transform((v) =>
        v
          .split("|")
          .map((line) => line.trim())
          .filter((line) => line.length > 0),
      )
      .refine((lines) => lines.length <= 6, "at most 6 lines separated by |")
      .refine((lines) => lines.every((l) => l.length <= 200), "each line at most 200 characters")
      .optional(),
    BILLING_SELLER_EMAIL: z.email().max(320).optional(),
    BILLING_SELLER_TAX_ID: z.string().trim().min(1).max(64).optional(),
    BILLING_SELLER_LOGO_FILE: z.string().min(1).optional(),
  })
  .refine((env) => !(env.BILLING_TEST_CLOCK && env.NODE_ENV === "production"), {
    path: ["BILLING_TEST_CLOCK"],
    message: "the test clock is refused when NODE_ENV=production",
  })
  // Without its own secret, real Stripe's events would be checked against the emulator's
  // published default: anyone could sign them.
  .refine((env) => !env.STRIPE_SECRET_KEY || env.STRIPE_WEBHOOK_SECRET, {
    path: ["STRIPE_WEBHOOK_SECRET"],
    message: "is required with STRIPE_SECRET_KEY (the endpoint's signing secret, whsec_...)",
  });

export interface Config {
  env: string;
  port: number;
  /** `postgres://...` for PostgreSQL, `memory://` for a throwaway PGlite, undefined for PGlite on disk. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** PostgreSQL's `shared_buffers` for the embedded database (resident from its start). */
  pgliteSharedBuffers: string;
  operatorKey: string | undefined;
  stripe: {
    secretKey: string | undefined;
    webhookSecret: string | undefined;
    apiBase: string | undefined;
    emulatorPort: number;
    /** Writes per second the processor adapter paces itself to; 0: no pacing. */
    maxWritesPerSecond: number;
    /** The same for the writes to any one endpoint; 0: no limit of its own. */
    maxWritesPerSecondPerEndpoint: number;
    /** The in-process emulator's own limit on writes per second (0: none), to exercise 429s. */
    emulatorRateLimit: number;
    /** How long an unused portal session of the in-process emulator stays valid. */
    portalSessionTtlSeconds: number;
    /** Whether the in-process emulator's API is served over HTTP (its portal pages always are). */
    emulatorApiServed: boolean;
  };
  testClock: boolean;
  /**
   * Seconds a closed period's usage waits for late events before its usage invoice is issued
   * (Stripe keeps a period's invoice a draft for about an hour for the same reason).
   */
  usageGraceSeconds: number;
  /** How long an operator console session lasts after sign-in (`/console`). */
  consoleSessionTtlSeconds: number;
  catalog: PlanCatalog;
  publicBaseUrl: string;
  logLevel: string;
  /** When set, `/metrics` answers only `Authorization: Bearer <this>`; unset, it is open. */
  metricsToken: string | undefined;
  rateLimits: RateLimitConfig;
  webhooks: WebhookConfig;
  /** Who issues the invoices, as printed on documents (`BILLING_SELLER_*`). */
  seller: SellerConfig;
}

/** Outbound webhooks (README "Events and webhooks"). */
export interface WebhookConfig {
  /** http:// URLs and private, loopback and link-local destinations are allowed. */
  allowPrivate: boolean;
  /** The deadline of one delivery attempt (a 2xx within it is success). */
  timeoutMs: number;
  /** Events older than this are pruned by the worker. */
  eventRetentionDays: number;
}

export interface SellerConfig {
  name: string;
  addressLines: string[];
  email: string | undefined;
  taxId: string | undefined;
  /** The logo file's bytes and type (PNG or JPEG, at most 512 KiB), read once at start. */
  logo: { bytes: Buffer; mimeType: "image/png" | "image/jpeg" } | undefined;
}

export const MAX_LOGO_BYTES = 512 * 1024;

/** Reads and checks the seller's logo: a PNG or JPEG file of at most 512 KiB. */
export const loadSellerLogo = (file: string): NonNullable<SellerConfig["logo"]> => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(file));
  } catch (error) {
    throw new ConfigError(
      `BILLING_SELLER_LOGO_FILE: cannot read ${file}: ${(error as Error).message}`,
    );
  }
  if (bytes.length > MAX_LOGO_BYTES) {
    throw new ConfigError(`BILLING_SELLER_LOGO_FILE: ${file} is larger than 512 KiB`);
  }
  const png = bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!png && !jpeg) {
    throw new ConfigError(`BILLING_SELLER_LOGO_FILE: ${file} is neither a PNG nor a JPEG image`);
  }
  return { bytes, mimeType: png ? "image/png" : "image/jpeg" };
};

/** A token bucket's refill rate (tokens per second) and size (the burst it admits at once). */
export interface BucketLimit {
  rate: number;
  burst: number;
}

/**
 * Default limits (README "Rate limits"); the operator overrides the platform ones per platform.
 * `requests`: per API key of a platform (and per operator-level ingestion key); `operator`: the
 * operator key; `events`: usage events per platform. `redisUrl` moves the buckets from the
 * database to Redis.
 */
export interface RateLimitConfig {
  enabled: boolean;
  requests: BucketLimit;
  operator: BucketLimit;
  events: BucketLimit;
  redisUrl: string | undefined;
  redisPrefix: string;
}

export class ConfigError extends Error {}

/**
 * Stripe's limits are about 100 requests per second live and 25 in test mode for the account,
 * and 25 per second for any one endpoint unless it raised them; keep a margin under each.
 */
export const LIVE_MAX_WRITES_PER_SECOND = 90;
export const TEST_MAX_WRITES_PER_SECOND = 20;
export const ENDPOINT_MAX_WRITES_PER_SECOND = 22;

/**
 * The write rate the processor adapter keeps to when `STRIPE_MAX_WRITES_PER_SECOND` is unset: a
 * margin under Stripe's limit for the key's mode, and no pacing without a key (the built-in
 * emulator, or `STRIPE_API_BASE` without a key), where there is no limit to keep under.
 */
export const defaultMaxWritesPerSecond = (secretKey: string | undefined): number => {
  if (secretKey === undefined) return 0;
  return /^(sk|rk)_live_/.test(secretKey) ? LIVE_MAX_WRITES_PER_SECOND : TEST_MAX_WRITES_PER_SECOND;
};

/** The same per endpoint (`STRIPE_MAX_WRITES_PER_SECOND_PER_ENDPOINT` unset). */
export const defaultMaxWritesPerSecondPerEndpoint = (secretKey: string | undefined): number =>
  secretKey === undefined ? 0 : ENDPOINT_MAX_WRITES_PER_SECOND;

const defaultPlansFile = new URL("./billing/default-plans.json", import.meta.url);

export const loadPlanCatalog = (file: string | URL): PlanCatalog => {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(
      `BILLING_PLANS_FILE: cannot read ${String(file)}: ${(error as Error).message}`,
    );
  }
  try {
    return parsePlanCatalog(raw);
  } catch (error) {
    throw new ConfigError(
      `BILLING_PLANS_FILE: ${String(file)} is not a valid catalog: ${(error as Error).message}`,
    );
  }
};

/** For entry points: the configuration, or a message naming the bad variable and exit 1. */
export const loadConfigOrExit = (): Config => {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
};

/** Parses the environment once at start; a bad value stops start-up naming the variable. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  // An empty variable (`DATABASE_URL= npm start`) means "unset", as in most tools.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(e.BILLING_DATA_DIR),
    pgliteSharedBuffers: e.BILLING_PGLITE_SHARED_BUFFERS,
    operatorKey: e.BILLING_OPERATOR_KEY,
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      apiBase: e.STRIPE_API_BASE,
      emulatorPort: e.STRIPE_EMULATOR_PORT,
      maxWritesPerSecond:
        e.STRIPE_MAX_WRITES_PER_SECOND ?? defaultMaxWritesPerSecond(e.STRIPE_SECRET_KEY),
      maxWritesPerSecondPerEndpoint:
        e.STRIPE_MAX_WRITES_PER_SECOND_PER_ENDPOINT ??
        defaultMaxWritesPerSecondPerEndpoint(e.STRIPE_SECRET_KEY),
      emulatorRateLimit: e.STRIPE_EMULATOR_RATE_LIMIT,
      portalSessionTtlSeconds: e.STRIPE_EMULATOR_PORTAL_SESSION_TTL_SECONDS,
      emulatorApiServed: e.STRIPE_EMULATOR_API ?? e.NODE_ENV !== "production",
    },
    testClock: e.BILLING_TEST_CLOCK,
    usageGraceSeconds: e.BILLING_USAGE_GRACE_SECONDS,
    consoleSessionTtlSeconds: e.BILLING_CONSOLE_SESSION_TTL_SECONDS,
    catalog: loadPlanCatalog(
      e.BILLING_PLANS_FILE ? resolve(e.BILLING_PLANS_FILE) : defaultPlansFile,
    ),
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    rateLimits: {
      enabled: e.BILLING_RATE_LIMITS,
      requests: {
        rate: e.BILLING_RATE_LIMIT_REQUESTS_PER_SECOND,
        burst: e.BILLING_RATE_LIMIT_REQUEST_BURST,
      },
      operator: {
        rate: e.BILLING_RATE_LIMIT_OPERATOR_REQUESTS_PER_SECOND,
        burst: e.BILLING_RATE_LIMIT_OPERATOR_REQUEST_BURST,
      },
      events: {
        rate: e.BILLING_RATE_LIMIT_EVENTS_PER_SECOND,
        burst: e.BILLING_RATE_LIMIT_EVENT_BURST,
      },
      redisUrl: e.REDIS_URL,
      redisPrefix: e.BILLING_RATE_LIMIT_REDIS_PREFIX,
    },
    webhooks: {
      allowPrivate: e.BILLING_WEBHOOK_ALLOW_PRIVATE ?? e.NODE_ENV !== "production",
      timeoutMs: e.BILLING_WEBHOOK_TIMEOUT_MS,
      eventRetentionDays: e.BILLING_EVENT_RETENTION_DAYS,
    },
    seller: {
      name: e.BILLING_SELLER_NAME,
      addressLines: e.BILLING_SELLER_ADDRESS ?? [],
      email: e.BILLING_SELLER_EMAIL,
      taxId: e.BILLING_SELLER_TAX_ID,
      logo: e.BILLING_SELLER_LOGO_FILE ? loadSellerLogo(e.BILLING_SELLER_LOGO_FILE) : undefined,
    },
  };
};
