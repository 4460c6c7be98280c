import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request the receiver got, with whether its Standard Webhooks signature verified. */
export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads are read by assertions
  event: any;
  verified: boolean;
  verifyError: string | null;
  receivedAt: number;
  headers: IncomingHttpHeaders;
}

/** What the receiver does with a request: answer a status, or never answer (a timeout). */
export type Behaviour = { status: number; body?: string } | "hang";

/**
 * A real HTTP receiver on 127.0.0.1 that verifies every delivery with the `standardwebhooks`
 * verifier (the secret is set once the endpoint is created). `behaviours` are used in order,
 * then `fallback`.
 */
export const startReceiver = async (opts: { fallback?: Behaviour } = {}) => {
  const received: Received[] = [];
  const behaviours: Behaviour[] = [];
  const hanging = new Set<() => void>();
  let secret: string | undefined;
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": String(req.headers["webhook-id"] ?? ""),
        "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
        "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
      };
      let verified = false;
      let verifyError: string | null = null;
      try {
        if (!secret) throw new Error("no secret yet");
        new Webhook(secret).verify(body, headers);
        verified = true;
      } catch (error) {
        verifyError = (error as Error).message;
      }
      received.push({
        id: headers["webhook-id"],
        timestamp: headers["webhook-timestamp"],
        signature: headers["webhook-signature"],
        body,
        event: JSON.parse(body),
        verified,
        verifyError,
        receivedAt: performance.now(),
        headers: req.headers,
      });
      for (const w of waiters.splice(0)) w();
      const behaviour = behaviours.shift() ?? opts.fallback ?? { status: 200 };
      if (behaviour === "hang") {
        const end = () => res.destroy();
        hanging.add(end);
        return;
      }
      res.writeHead(behaviour.status, { "content-type": "text/plain" });
      res.end(behaviour.body ?? "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    setSecret: (s: string) => {
      secret = s;
    },
    respondWith: (...next: Behaviour[]) => behaviours.push(...next),
    /** Resolves once `count` requests have arrived (or rejects after `timeoutMs`). */
    waitFor: async (count: number, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} arrived`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: async () => {
      for (const end of hanging) end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
