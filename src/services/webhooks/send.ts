import { request as httpRequest, type RequestOptions } from "node:http";
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
 * Where an endpoint's URL sends, parsed once (per endpoint and pass, not per request): the
 * request options without headers, the `Host` header, or why no request may be made.
 */
export type Destination =
  | {
      refused: null;
      send: typeof httpRequest;
      options: Pick<RequestOptions, "protocol" | "hostname" | "port" | "path" | "lookup">;
      host: string;
    }
  | { refused: string };

/**
 * The destination of a URL. Outside `allowPrivate` only `https://` is allowed, a literal private
 * address is refused here, and the connection resolves a name itself and refuses private
 * addresses (`publicOnlyLookup`), so a DNS change after the endpoint was saved cannot point
 * deliveries at the service's own network.
 */
export const destinationOf = (rawUrl: string, allowPrivate: boolean): Destination => {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { refused: "invalid url" };
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  if (
    !allowPrivate &&
    (url.protocol !== "https:" || (isIP(hostname) && isPrivateAddress(hostname)))
  ) {
    return { refused: "refused: not a public https URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { refused: "invalid url" };
  return {
    refused: null,
    send: url.protocol === "https:" ? httpsRequest : httpRequest,
    options: {
      protocol: url.protocol,
      hostname,
      port: url.port === "" ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      lookup: allowPrivate ? undefined : publicOnlyLookup,
    },
    host: url.host,
  };
};

const USER_AGENT = "nno-billing-webhooks/1";

/**
 * One POST of a signed payload to a destination; `headers` are name, value pairs (the
 * `webhook-*` ones; `Host`, `content-type`, `content-length` and `user-agent` are added).
 * Redirects are not followed (a 3xx is a failure, as Svix and Stripe count them); the whole
 * exchange must finish within `timeoutMs`; only the first KiB of the answer is read.
 */
export const postTo = (
  destination: Destination,
  body: string,
  headers: readonly string[],
  timeoutMs: number,
): Promise<SendResult> => {
  if (destination.refused !== null) {
    return Promise.resolve({
      statusCode: null,
      durationMs: 0,
      error: destination.refused,
      responseExcerpt: null,
      ok: false,
    });
  }
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (statusCode: number | null, error: string | null, excerpt: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        statusCode,
        durationMs: Math.max(0, Math.round(performance.now() - started)),
        error,
        responseExcerpt: excerpt,
        ok: error === null && statusCode !== null && statusCode >= 200 && statusCode < 300,
      });
    };
    // Raw name, value pairs: node:http writes them as they are, without a header object.
    const raw = [
      "Host",
      destination.host,
      ...headers,
      "content-type",
      "application/json",
      "content-length",
      String(Buffer.byteLength(body)),
      "user-agent",
      USER_AGENT,
    ];
    const { options } = destination;
    const req = destination.send(
      {
        protocol: options.protocol,
        hostname: options.hostname,
        port: options.port,
        path: options.path,
        lookup: options.lookup,
        method: "POST",
        headers: raw as unknown as RequestOptions["headers"],
      },
      (res) => {
        let first: Buffer | undefined;
        let more: Buffer[] | undefined;
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          if (size < RESPONSE_EXCERPT_BYTES) {
            if (first === undefined) first = chunk;
            else {
              more ??= [first];
              more.push(chunk);
            }
          }
          size += chunk.length;
          if (size >= RESPONSE_EXCERPT_BYTES) res.destroy();
        });
        const done = () => {
          const excerpt =
            first === undefined
              ? ""
              : (more ? Buffer.concat(more) : first)
                  .subarray(0, RESPONSE_EXCERPT_BYTES)
                  .toString("utf8");
          finish(res.statusCode ?? null, null, excerpt);
        };
        res.on("end", done);
        res.on("close", done);
        res.on("error", done);
      },
    );
    const timer = setTimeout(() => {
      finish(null, `timed out after ${timeoutMs} ms`, null);
      req.destroy();
    }, timeoutMs);
    req.on("error", (error) => finish(null, error.message.slice(0, 500), null));
    req.end(body);
  });
};
