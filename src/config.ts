import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { type PlanCatalog, parsePlanCatalog } from "./billing/plan-catalog.ts";

const booleanFlag = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

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
    BILLING_OPERATOR_KEY: z.string().min(16, "must be at least 16 characters").optional(),
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(live|test)_/, "must be a Stripe secret key (sk_live_..., sk_test_...)")
      .optional(),
    STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
    STRIPE_API_BASE: z.url().optional(),
    STRIPE_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
    BILLING_TEST_CLOCK: booleanFlag.default(false),
    BILLING_PLANS_FILE: z.string().min(1).optional(),
    PUBLIC_BASE_URL: z.url().optional(),
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
  })
  .refine((env) => !(env.BILLING_TEST_CLOCK && env.NODE_ENV === "production"), {
    path: ["BILLING_TEST_CLOCK"],
    message: "the test clock is refused when NODE_ENV=production",
  });

export interface Config {
  env: string;
  port: number;
  /** `postgres://...` for PostgreSQL, `memory://` for a throwaway PGlite, undefined for PGlite on disk. */
  databaseUrl: string | undefined;
  dataDir: string;
  operatorKey: string | undefined;
  stripe: {
    secretKey: string | undefined;
    webhookSecret: string | undefined;
    apiBase: string | undefined;
    emulatorPort: number;
  };
  testClock: boolean;
  catalog: PlanCatalog;
  publicBaseUrl: string;
  logLevel: string;
  /** When set, `/metrics` answers only `Authorization: Bearer <this>`; unset, it is open. */
  metricsToken: string | undefined;
}

export class ConfigError extends Error {}

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
    operatorKey: e.BILLING_OPERATOR_KEY,
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      apiBase: e.STRIPE_API_BASE,
      emulatorPort: e.STRIPE_EMULATOR_PORT,
    },
    testClock: e.BILLING_TEST_CLOCK,
    catalog: loadPlanCatalog(
      e.BILLING_PLANS_FILE ? resolve(e.BILLING_PLANS_FILE) : defaultPlansFile,
    ),
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
  };
};
