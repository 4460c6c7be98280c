import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";
import { invalid } from "../../errors.ts";

/**
 * Where webhooks may go. Outside `allowPrivate` (production by default) a URL must be https and
 * every address its host resolves to must be public: private (10/8, 172.16/12, 192.168/16,
 * 100.64/10, fc00::/7), loopback (127/8, ::1), link-local (169.254/16 — the cloud metadata
 * service — and fe80::/10), unspecified, multicast and reserved ranges are refused, also when
 * written as an IPv4-mapped IPv6 address. The check runs when an endpoint is saved and again in
 * the connection's own DNS lookup at each delivery, so a name re-pointed later is still refused.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["64:ff9b::", 96],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** Whether an IP address (v4 or v6) is private, loopback, link-local or otherwise not public. */
export const isPrivateAddress = (address: string): boolean => {
  const bare = address.replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1]) return blocked.check(mapped[1], "ipv4");
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, "ipv4");
  if (family === 6) {
    // IPv4-mapped written in hex (::ffff:7f00:1) and IPv4-compatible forms.
    const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare);
    if (hexMapped?.[1] && hexMapped[2]) {
      const hi = Number.parseInt(hexMapped[1], 16);
      const lo = Number.parseInt(hexMapped[2], 16);
      return blocked.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, "ipv4");
    }
    return blocked.check(bare, "ipv6");
  }
  return true; // not an address at all
};

export type Resolver = (hostname: string) => Promise<string[]>;

/** Every address the system resolver gives for a host name. */
export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    ),
  );

const refuse = (message: string) => invalid(message, [{ path: ["url"], message }]);

/**
 * Checks a webhook URL before it is saved (400 `VALIDATION_ERROR` naming `url` when refused).
 * With `allowPrivate` any http(s) URL is accepted without resolving it.
 */
export const checkWebhookUrl = async (
  raw: string,
  opts: { allowPrivate: boolean; resolve?: Resolver },
): Promise<string> => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse("url is not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw refuse("url must be https://");
  }
  if (url.username || url.password) throw refuse("url must not carry credentials");
  if (opts.allowPrivate) return url.toString();
  if (url.protocol !== "https:") {
    throw refuse("url must be https:// (BILLING_WEBHOOK_ALLOW_PRIVATE=1 allows http://)");
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (opts.resolve ?? systemResolver)(host);
    } catch {
      throw refuse(`url's host '${host}' does not resolve`);
    }
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw refuse(
      `url's host '${host}' resolves to a private, loopback or link-local address; webhooks go to public addresses only`,
    );
  }
  return url.toString();
};

/**
 * A `lookup` for `http.request` that refuses private addresses: the connection itself checks what
 * the name resolves to at the moment it connects (no DNS rebinding between check and use).
 */
export const publicOnlyLookup = (
  hostname: string,
  options: object,
  callback: (
    error: NodeJS.ErrnoException | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void,
) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "");
    const list = addresses;
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad || list.length === 0) {
      return callback(new Error(`refused: ${hostname} resolves to a non-public address`), "");
    }
    if ((options as { all?: boolean }).all) return callback(null, list);
    const first = list[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
};
