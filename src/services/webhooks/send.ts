import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { isPrivateAddress, publicOnlyLookup } from "./destination.ts";

/** How much of a response the delivery log keeps. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface SendResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
  ok: boolean;
}

/**
 * One POST of a signed payload. Redirects are not followed (a 3xx is a failure, as Svix and
 * Stripe count them); the whole exchange must finish within `timeoutMs`; only the first KiB of
 * the answer is read. Outside `allowPrivate` the connection resolves the host itself and refuses
 * private addresses (`publicOnlyLookup`), so a DNS change after the endpoint was saved cannot
 * point deliveries at the service's own network.
 */
export const sendWebhook = (input: {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
  now: () => number;
}): Promise<SendResult> => {
  const started = input.now();
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: Omit<SendResult, "durationMs" | "ok">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ok =
        r.error === null && r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
      resolve({ ...r, durationMs: Math.max(0, Math.round(input.now() - started)), ok });
    };
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      return finish({ statusCode: null, error: "invalid url", responseExcerpt: null });
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (
      !input.allowPrivate &&
      (url.protocol !== "https:" || (isIP(host) && isPrivateAddress(host)))
    ) {
      return finish({
        statusCode: null,
        error: "refused: not a public https URL",
        responseExcerpt: null,
      });
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: "POST",
        headers: {
          ...input.headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(input.body),
          "user-agent": "nno-billing-webhooks/1",
        },
        ...(input.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          if (size < RESPONSE_EXCERPT_BYTES) chunks.push(chunk);
          size += chunk.length;
          if (size >= RESPONSE_EXCERPT_BYTES) res.destroy();
        });
        const done = () =>
          finish({
            statusCode: res.statusCode ?? null,
            error: null,
            responseExcerpt: Buffer.concat(chunks)
              .subarray(0, RESPONSE_EXCERPT_BYTES)
              .toString("utf8"),
          });
        res.on("end", done);
        res.on("close", done);
        res.on("error", done);
      },
    );
    timer = setTimeout(() => {
      finish({
        statusCode: null,
        error: `timed out after ${input.timeoutMs} ms`,
        responseExcerpt: null,
      });
      req.destroy();
    }, input.timeoutMs);
    req.on("error", (error) =>
      finish({ statusCode: null, error: error.message.slice(0, 500), responseExcerpt: null }),
    );
    req.end(input.body);
  });
};
