import { createHash, randomUUID } from "node:crypto";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { z } from "zod";
import { AppError, invalid } from "../errors.ts";
import { secretsEqual } from "../services/api-keys.ts";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
} from "../services/idempotency.ts";
import type { ConsoleEnv } from "./session.ts";

/** The hidden fields every console form carries. */
export const CSRF_FIELD = "_csrf";
export const IDEMPOTENCY_FIELD = "_idempotency";

export type FormFields = Record<string, string>;

/** A form's fields as strings (files and repeated names are not accepted). */
export const readForm = async (c: Context<ConsoleEnv>): Promise<FormFields> => {
  const body = await c.req.parseBody();
  const fields: FormFields = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== "string")
      throw invalid(`field '${name}' must be text`, [{ path: [name] }]);
    fields[name] = value;
  }
  return fields;
};

/**
 * A fresh idempotency key for one rendering of one form: a random UUID (122 random bits; node
 * draws them from a buffered CSPRNG, where a `randomToken` per form was a system call each, and
 * a platform's page renders dozens of forms).
 */
export const newFormKey = () => randomUUID();

/**
 * CSRF: every POST of a signed-in console carries its session's token in `_csrf`; one without
 * it, or with another session's, is refused (403) before its handler runs, so it changes
 * nothing. SameSite=Strict already keeps other sites' requests from carrying the cookie; the
 * token also holds where that attribute is not honoured.
 */
export const requireCsrf = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (c.req.method !== "POST") return next();
  const form = await readForm(c);
  const sent = form[CSRF_FIELD] ?? "";
  if (!sent || !secretsEqual(sent, c.get("consoleSession").csrfToken)) {
    throw new AppError("FORBIDDEN", "the form's CSRF token is missing or not this session's");
  }
  await next();
});

/** Field name → message, from a validation error's zod issues (`details`). */
export const fieldErrors = (error: AppError): Record<string, string> => {
  const out: Record<string, string> = {};
  if (error.code !== "VALIDATION_ERROR" || !Array.isArray(error.details)) return out;
  for (const issue of error.details as { path?: unknown[]; message?: string }[]) {
    const field = String(issue.path?.[0] ?? "");
    if (field && !out[field]) out[field] = issue.message ?? "invalid";
  }
  return out;
};

/**
 * Parses form input with the API route's own body schema, so the console refuses exactly what
 * the API refuses, with the same messages.
 */
export const parseWith = <S extends z.ZodType>(schema: S, input: unknown): z.output<S> => {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ path: i.path, message: i.message }));
  throw invalid(details.map((d) => `${d.path.join(".")}: ${d.message}`).join("; "), details);
};

/** A number field: empty stays undefined (the schema says whether it is required). */
export const numberField = (value: string | undefined) =>
  value === undefined || value.trim() === "" ? undefined : Number(value);

/**
 * Runs a form's action at most once per idempotency key (the hidden `_idempotency` field, new
 * for each rendering of the form), through the API's idempotency records (scoped to the
 * console session): a double click, a resubmitted page or a retried request finds the first
 * submission's outcome — the page it redirected to — and does nothing again. An action that
 * fails (a refused input, a conflict) releases its key: it changed nothing, and the form
 * rendered again carries a new one anyway.
 */
export const submitOnce = async (
  c: Context<ConsoleEnv>,
  form: FormFields,
  action: () => Promise<{ location: string; response?: Response }>,
): Promise<Response> => {
  const key = form[IDEMPOTENCY_FIELD] ?? "";
  if (key.length < 1 || key.length > 255) {
    throw invalid("the form's idempotency key is missing; reload the page", [
      { path: [IDEMPOTENCY_FIELD], message: "1 to 255 characters" },
    ]);
  }
  const ctx = c.get("deps");
  const scope = `console:${c.get("consoleSession").idHash}`;
  const signed = Object.entries(form)
    .filter(([name]) => name !== CSRF_FIELD && name !== IDEMPOTENCY_FIELD)
    .sort(([a], [b]) => a.localeCompare(b));
  const fingerprint = createHash("sha256")
    .update(`${c.req.method} ${c.req.path}\n${JSON.stringify(signed)}`)
    .digest("hex");
  const claim = await claimIdempotencyKey({ ctx, input: { scope, key, fingerprint } });
  if (claim.kind === "replay") {
    return c.redirect(claim.body, 303);
  }
  let outcome: { location: string; response?: Response };
  try {
    outcome = await action();
  } catch (error) {
    await releaseIdempotencyKey({ ctx, input: { scope, key } });
    throw error;
  }
  await completeIdempotencyKey({ ctx, input: { scope, key, status: 303, body: outcome.location } });
  return outcome.response ?? c.redirect(outcome.location, 303);
};
