export * from "../../emulator/stripe/schema.ts";
export * from "./api-keys.ts";
export * from "./customers.ts";
export * from "./idempotency-keys.ts";
export * from "./payment-methods.ts";
export * from "./platforms.ts";
export * from "./processor-events.ts";
