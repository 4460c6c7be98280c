import { forbidden, invalid, notFound } from "../errors.ts";

/**
 * Scopes of an API key issued for a platform:
 * - `platform`: everything the platform may do with its own data (the default);
 * - `usage:write`: a service key; may only ingest usage, for that platform.
 * An operator-level ingestion key (`createIngestionKey`) has `usage:write` for every platform.
 */
export const apiKeyScopes = ["platform", "usage:write"] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/**
 * Who a request acts for. A `service` principal only ingests usage: for its `platformId`, or for
 * any platform when `platformId` is null (an operator-level ingestion key).
 */
export type Principal =
  | { kind: "operator" }
  | { kind: "platform"; platformId: string; keyId: string; scopes: ApiKeyScope[] }
  | { kind: "service"; platformId: string | null; keyId: string; scopes: ApiKeyScope[] };

/** Whether the caller may act on an object of `platformId` (null: an object of no platform). */
export const owns = (principal: Principal, platformId: string | null): boolean =>
  principal.kind === "operator" ||
  (principal.platformId !== null && principal.platformId === platformId);

/**
 * The one ownership rule. The operator may act on everything; a key only on its own platform's
 * objects. A missing object and another platform's answer the same 404 (`notFound(what, id)`), so
 * a key learns nothing of which other objects exist.
 */
export function assertOwns<T extends { platformId: string | null }>(
  principal: Principal,
  object: T | undefined,
  what: string,
  id: string,
): asserts object is T {
  if (!object || !owns(principal, object.platformId)) throw notFound(what, id);
}

/**
 * The platform a request acts on. A platform key acts on its own platform only (naming another
 * is 403: the key knows which platform it belongs to); the operator names one (`requested`,
 * else 400); a service key only ingests usage (403).
 */
export const actingPlatform = (principal: Principal, requested: string | undefined): string => {
  switch (principal.kind) {
    case "operator":
      if (!requested) {
        throw invalid("operator requests name the platform with ?platformId= or X-Platform-Id", [
          { path: ["platformId"], message: "required for operator requests" },
        ]);
      }
      return requested;
    case "platform":
      if (requested !== undefined && requested !== principal.platformId) {
        throw forbidden(`this key belongs to platform '${principal.platformId}'`);
      }
      return principal.platformId;
    case "service":
      throw forbidden("a usage:write service key may only ingest usage events");
  }
};
