/**
 * Configuration: read once from the environment (plus an optional --env-file), validated with valibot.
 * Names follow Mastodon's where the meaning is the same, so an operator's existing knowledge carries over.
 * A bad or missing setting is a ConfigError naming the variable and what it expects; the CLI turns it into
 * one line on stderr and exit code 2. Every variable here is documented in docs/configuration.md and
 * .env.example (a test keeps the three in step).
 */
import ipaddr from "ipaddr.js";
import * as v from "valibot";

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
  ) {
    super(`${variable}: expected ${expected}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

// ---- small typed readers: each returns the parsed value or throws a ConfigError naming the variable ----

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function parsed<T>(env: Env, name: string, schema: v.GenericSchema<string, T>, expected: string, fallback?: T): T {
  const value = raw(env, name);
  if (value === undefined) {
    if (fallback === undefined) throw new ConfigError(name, `${expected} (it is not set)`);
    return fallback;
  }
  const result = v.safeParse(schema, value);
  if (!result.success) throw new ConfigError(name, `${expected}, got ${JSON.stringify(isSecret(name) ? "***" : value)}`);
  return result.output;
}

const intIn = (min: number, max: number) =>
  v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.integer(), v.minValue(min), v.maxValue(max));
const bool = v.pipe(
  v.string(),
  v.toLowerCase(),
  v.picklist(["true", "false", "1", "0", "yes", "no", "on", "off"]),
  v.transform((s) => ["true", "1", "yes", "on"].includes(s)),
);
const hostname = v.pipe(v.string(), v.regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, "a host name"));
const urlWith = (...protocols: string[]) =>
  v.pipe(
    v.string(),
    v.url(),
    v.check((s) => protocols.includes(new URL(s).protocol), `a ${protocols.join(" or ")} URL`),
  );

const int = (env: Env, name: string, fallback: number, min = 0, max = 2 ** 31) =>
  parsed(env, name, intIn(min, max), `an integer between ${min} and ${max}`, fallback);
const flag = (env: Env, name: string, fallback: boolean) => parsed(env, name, bool, "true or false", fallback);
const str = (env: Env, name: string, fallback?: string) => raw(env, name) ?? fallback;

/** Variables whose values must never be printed. */
const SECRET_NAMES = /PASS|SECRET|KEY|TOKEN|DATABASE_URL|REDIS_URL/;
export function isSecret(name: string): boolean {
  return SECRET_NAMES.test(name);
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Config {
  localDomain: string;
  webDomain: string;
  localHttps: boolean;
  /** https://web.domain — the base every URL we hand out starts with. */
  baseUrl: string;
  secretKeyBase: string;
  singleUserMode: boolean;
  statuses: { maxCharacters: number };
  /** Where the running code can be had (AGPL), shown as source_url in /api/v2/instance. */
  sourceBaseUrl: string;

  bind: string;
  port: number;
  streamingPort: number;
  streamingApiBaseUrl: string;
  /** Streaming connection limits (Woolly's own; Mastodon has none). */
  streaming: { maxConnectionsPerToken: number; maxConnectionsPerIp: number };
  trustedProxies: string[];
  shutdownTimeoutMs: number;
  logLevel: LogLevel;

  db: {
    url: string;
    pool: number;
    preparedStatements: boolean;
    ssl: false | "require" | "prefer" | "verify-full";
    connectTimeoutSeconds: number;
  };
  redis: { url: string; namespace: string };
  worker: { concurrency: number };
  /** Threads serving the web port in `woolly web` and `woolly all` (cli/roles/web-threads.ts); 1 = the main thread only. */
  /** Threads serving the web port; undefined when WEB_CONCURRENCY is unset (the role's default applies). */
  webConcurrency: number | undefined;

  smtp: {
    server?: string;
    port: number;
    login?: string;
    password?: string;
    fromAddress: string;
    domain?: string;
    authMethod: "plain" | "login" | "cram_md5" | "none";
    opensslVerifyMode: "none" | "peer";
    enableStarttls: "auto" | "always" | "never";
    tls: boolean;
  };
  mailOutboxDir: string;

  media: {
    rootPath: string;
    s3?: {
      bucket: string;
      region: string;
      endpoint?: string;
      forcePathStyle: boolean;
      accessKeyId?: string;
      secretAccessKey?: string;
      aliasHost?: string;
      /** Canned ACL sent with public files ("public-read"); "" sends none (R2 and B2 refuse ACLs). */
      permission: string;
    };
  };
  sharpCacheDir?: string;
  /** Cached copies of remote media (src/features/media/remote.ts, cache.ts). 0 = no limit. */
  mediaCache: { retentionDays: number; maxBytes: number; fetchTimeoutMs: number };
  /** MEDIA_FETCH_FOLLOWED: warm the remote media cache for posts by followed accounts as they arrive. */
  mediaFetchFollowed: boolean;
  rateLimits: { enabled: boolean; overrides: Record<string, { limit: number; periodSeconds: number }> };
  /** CIDRs that outbound fetches may reach although they are private (Mastodon's ALLOWED_PRIVATE_ADDRESSES). */
  allowedPrivateAddresses: string[];
  /** Mastodon's AUTHORIZED_FETCH: ActivityPub GETs of actors, objects and collections need an HTTP signature. */
  authorizedFetch: boolean;
  /** Mastodon's LIMITED_FEDERATION_MODE: federate only with the domain allow-list (implies authorizedFetch). */
  limitedFederationMode: boolean;
  /** Web Push signing keys (base64url, as `web-push generate-vapid-keys` prints); unset means no Web Push. */
  vapid?: { publicKey: string; privateKey: string };
  /** Link previews: the most a fetch waits after the post, in seconds (spreads the stampede on the linked site). */
  previewCards: { maxDelaySeconds: number };
  /** /metrics: a Bearer token (else loopback only) and the listener port of roles without HTTP (0 = none). */
  metrics: { token?: string; port: number };
}

function databaseUrl(env: Env): string {
  const url = raw(env, "DATABASE_URL");
  if (url !== undefined) {
    const ok = v.safeParse(urlWith("postgres:", "postgresql:"), url).success;
    if (!ok) throw new ConfigError("DATABASE_URL", "a postgres:// URL");
    return url;
  }
  const host = str(env, "DB_HOST", "/var/run/postgresql")!;
  const port = int(env, "DB_PORT", 5432, 1, 65535);
  const name = str(env, "DB_NAME", "woolly_production")!;
  const user = str(env, "DB_USER", "woolly")!;
  const pass = str(env, "DB_PASS");
  const auth = encodeURIComponent(user) + (pass ? `:${encodeURIComponent(pass)}` : "");
  // A host starting with / is a unix socket directory; postgres.js takes it as ?host=.
  if (host.startsWith("/")) return `postgres://${auth}@localhost:${port}/${encodeURIComponent(name)}?host=${encodeURIComponent(host)}`;
  return `postgres://${auth}@${host}:${port}/${encodeURIComponent(name)}`;
}

function redisUrl(env: Env): string {
  const url = raw(env, "REDIS_URL");
  if (url !== undefined) {
    if (!v.safeParse(urlWith("redis:", "rediss:"), url).success) throw new ConfigError("REDIS_URL", "a redis:// or rediss:// URL");
    return url;
  }
  const host = str(env, "REDIS_HOST", "127.0.0.1")!;
  const port = int(env, "REDIS_PORT", 6379, 1, 65535);
  const user = str(env, "REDIS_USER", "")!;
  const pass = str(env, "REDIS_PASSWORD");
  const auth = pass ? `${encodeURIComponent(user)}:${encodeURIComponent(pass)}@` : "";
  return `redis://${auth}${host}:${port}`;
}

/** RATE_LIMITS="sign_up=10/1800,api=600/300": family=requests/seconds. */
function rateLimitOverrides(env: Env): Record<string, { limit: number; periodSeconds: number }> {
  const out: Record<string, { limit: number; periodSeconds: number }> = {};
  for (const entry of list(env, "RATE_LIMITS")) {
    const match = /^([a-z_]+)=(\d+)\/(\d+)$/.exec(entry);
    if (!match || Number(match[3]) === 0) throw new ConfigError("RATE_LIMITS", `family=requests/seconds entries such as sign_up=5/1800, got ${JSON.stringify(entry)}`);
    out[match[1]!] = { limit: Number(match[2]), periodSeconds: Number(match[3]) };
  }
  return out;
}

/** A list of IP addresses or CIDR ranges; each entry is checked. */
function addressList(env: Env, name: string): string[] {
  const entries = list(env, name);
  for (const entry of entries) {
    const ok = entry.includes("/") ? isCidr(entry) : ipaddr.isValid(entry);
    if (!ok) throw new ConfigError(name, `comma-separated IP addresses or CIDR ranges, got ${JSON.stringify(entry)}`);
  }
  return entries;
}

function isCidr(text: string): boolean {
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

const S3_ACLS = ["private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read", "bucket-owner-full-control"];

/** Unset means "public-read"; set but empty means "send no ACL", which raw() cannot tell apart, hence this. */
function s3Permission(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined) return "public-read";
  const trimmed = value.trim();
  if (trimmed !== "" && !S3_ACLS.includes(trimmed)) throw new ConfigError(name, `"" (no ACL) or one of ${S3_ACLS.join(", ")}, got ${JSON.stringify(trimmed)}`);
  return trimmed;
}

/** VAPID keys: both or neither; the public key is an uncompressed P-256 point (65 bytes), the private 32 bytes. */
function vapidKeys(env: Env): Config["vapid"] {
  const b64url = (bytes: number) => v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+=*$/), v.check((s) => Buffer.from(s, "base64url").length === bytes));
  const publicKey = raw(env, "VAPID_PUBLIC_KEY");
  const privateKey = raw(env, "VAPID_PRIVATE_KEY");
  if (publicKey === undefined && privateKey === undefined) return undefined;
  const both = "(set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY together, from `woolly admin vapid generate`)";
  return {
    publicKey: parsed(env, "VAPID_PUBLIC_KEY", b64url(65), `a base64url P-256 public key ${both}`),
    privateKey: parsed(env, "VAPID_PRIVATE_KEY", b64url(32), `a base64url P-256 private key ${both}`),
  };
}

/** A byte size: "5000000", "500MB", "10GB", "1.5 GiB" (K/M/G/T are powers of 1024, B and i optional). */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * 1024 ** " kmgt".indexOf(match[2]!.toLowerCase() || " "));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function byteSize(env: Env, name: string, fallback: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const bytes = parseByteSize(value);
  if (bytes === undefined) throw new ConfigError(name, `a size such as 5GB, 500MB or a number of bytes, got ${JSON.stringify(value)}`);
  return bytes;
}

function list(env: Env, name: string): string[] {
  return (raw(env, name) ?? "")
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function loadConfig(env: Env = process.env): Config {
  const localDomain = parsed(env, "LOCAL_DOMAIN", hostname, "the domain of this instance, e.g. example.com");
  const webDomain = parsed(env, "WEB_DOMAIN", hostname, "a host name", localDomain);
  const localHttps = flag(env, "LOCAL_HTTPS", true);
  const baseUrl = `${localHttps ? "https" : "http"}://${webDomain}`;
  const secretKeyBase = parsed(
    env,
    "SECRET_KEY_BASE",
    v.pipe(v.string(), v.minLength(32)),
    "a random secret of at least 32 characters (generate one with `openssl rand -hex 64`)",
  );
  const port = int(env, "PORT", 3000, 1, 65535);
  const streamingPort = int(env, "STREAMING_PORT", 4000, 1, 65535);
  const streamingApiBaseUrl =
    raw(env, "STREAMING_API_BASE_URL") !== undefined
      ? parsed(env, "STREAMING_API_BASE_URL", urlWith("ws:", "wss:", "http:", "https:"), "a wss:// or https:// URL")
      : `${localHttps ? "wss" : "ws"}://${webDomain}`;

  const sslMode = parsed(
    env,
    "DB_SSLMODE",
    v.picklist(["disable", "prefer", "require", "verify-full"]),
    "disable, prefer, require or verify-full",
    "disable" as const,
  );
  const logLevel = parsed(env, "LOG_LEVEL", v.picklist(["debug", "info", "warn", "error"]), "debug, info, warn or error", "info" as const);

  const s3Enabled = flag(env, "S3_ENABLED", false);
  let s3: Config["media"]["s3"];
  if (s3Enabled) {
    const bucket = raw(env, "S3_BUCKET");
    if (!bucket) throw new ConfigError("S3_BUCKET", "the bucket name (required when S3_ENABLED=true)");
    const endpoint = raw(env, "S3_ENDPOINT");
    if (endpoint !== undefined && !v.safeParse(urlWith("http:", "https:"), endpoint).success)
      throw new ConfigError("S3_ENDPOINT", "an http(s):// URL");
    s3 = {
      bucket,
      region: str(env, "S3_REGION", "us-east-1")!,
      endpoint,
      forcePathStyle: flag(env, "S3_FORCE_PATH_STYLE", flag(env, "S3_OVERRIDE_PATH_STYLE", false)),
      accessKeyId: raw(env, "AWS_ACCESS_KEY_ID"),
      secretAccessKey: raw(env, "AWS_SECRET_ACCESS_KEY"),
      aliasHost: raw(env, "S3_ALIAS_HOST"),
      permission: s3Permission(env, "S3_PERMISSION"),
    };
  }

  const smtpPort = int(env, "SMTP_PORT", 587, 1, 65535);
  return {
    localDomain,
    webDomain,
    localHttps,
    baseUrl,
    secretKeyBase,
    singleUserMode: flag(env, "SINGLE_USER_MODE", false),
    statuses: { maxCharacters: int(env, "MAX_TOOT_CHARS", 500, 1, 100_000) },
    sourceBaseUrl: raw(env, "SOURCE_BASE_URL") === undefined ? "" : parsed(env, "SOURCE_BASE_URL", urlWith("http:", "https:"), "an http(s):// URL"),
    bind: str(env, "BIND", "127.0.0.1")!,
    port,
    streamingPort,
    streamingApiBaseUrl,
    streaming: {
      maxConnectionsPerToken: int(env, "STREAMING_MAX_CONNECTIONS_PER_TOKEN", 32, 1, 100000),
      maxConnectionsPerIp: int(env, "STREAMING_MAX_CONNECTIONS_PER_IP", 256, 1, 1000000),
    },
    trustedProxies: addressList(env, "TRUSTED_PROXY_IP"),
    shutdownTimeoutMs: int(env, "SHUTDOWN_TIMEOUT", 25, 1, 3600) * 1000,
    logLevel,
    db: {
      url: databaseUrl(env),
      pool: int(env, "DB_POOL", 10, 1, 1000),
      preparedStatements: flag(env, "PREPARED_STATEMENTS", true),
      ssl: sslMode === "disable" ? false : sslMode,
      connectTimeoutSeconds: int(env, "DB_CONNECT_TIMEOUT", 5, 1, 300),
    },
    redis: { url: redisUrl(env), namespace: str(env, "REDIS_NAMESPACE", "")! },
    worker: { concurrency: int(env, "WORKER_CONCURRENCY", int(env, "SIDEKIQ_CONCURRENCY", 5, 1, 1000), 1, 1000) },
    // Unset: the role decides (src/cli/roles/web-threads.ts defaultWebThreads). Each thread has its own DB_POOL.
    webConcurrency: raw(env, "WEB_CONCURRENCY") === undefined ? undefined : int(env, "WEB_CONCURRENCY", 1, 1, 256),
    smtp: {
      server: raw(env, "SMTP_SERVER"),
      port: smtpPort,
      login: raw(env, "SMTP_LOGIN"),
      password: raw(env, "SMTP_PASSWORD"),
      fromAddress: str(env, "SMTP_FROM_ADDRESS", `notifications@${localDomain.replace(/:\d+$/, "")}`)!,
      domain: raw(env, "SMTP_DOMAIN"),
      authMethod: parsed(
        env,
        "SMTP_AUTH_METHOD",
        v.picklist(["plain", "login", "cram_md5", "none"]),
        "plain, login, cram_md5 or none",
        "plain" as const,
      ),
      opensslVerifyMode: parsed(env, "SMTP_OPENSSL_VERIFY_MODE", v.picklist(["none", "peer"]), "none or peer", "peer" as const),
      enableStarttls: parsed(
        env,
        "SMTP_ENABLE_STARTTLS",
        v.picklist(["auto", "always", "never"]),
        "auto, always or never",
        flag(env, "SMTP_ENABLE_STARTTLS_AUTO", true) ? ("auto" as const) : ("never" as const),
      ),
      tls: flag(env, "SMTP_TLS", flag(env, "SMTP_SSL", smtpPort === 465)),
    },
    mailOutboxDir: str(env, "MAIL_OUTBOX_DIR", "./.data/mail")!,
    media: { rootPath: str(env, "PAPERCLIP_ROOT_PATH", "./.data/media")!, s3 },
    sharpCacheDir: raw(env, "SHARP_CACHE_DIR"),
    mediaFetchFollowed: flag(env, "MEDIA_FETCH_FOLLOWED", false),
    mediaCache: {
      retentionDays: int(env, "MEDIA_CACHE_RETENTION_PERIOD", 0, 0, 36500),
      maxBytes: byteSize(env, "MEDIA_CACHE_MAX_SIZE", 5 * 1024 ** 3),
      fetchTimeoutMs: int(env, "MEDIA_FETCH_TIMEOUT", 60, 1, 3600) * 1000,
    },
    allowedPrivateAddresses: addressList(env, "ALLOWED_PRIVATE_ADDRESSES"),
    authorizedFetch: flag(env, "AUTHORIZED_FETCH", false) || flag(env, "LIMITED_FEDERATION_MODE", false),
    limitedFederationMode: flag(env, "LIMITED_FEDERATION_MODE", false),
    vapid: vapidKeys(env),
    previewCards: { maxDelaySeconds: int(env, "PREVIEW_CARD_MAX_DELAY", 60, 0, 3600) },
    metrics: { token: str(env, "METRICS_TOKEN"), port: int(env, "METRICS_PORT", 0, 0, 65535) },
    rateLimits: { enabled: flag(env, "RATE_LIMITS_ENABLED", true), overrides: rateLimitOverrides(env) },
  };
}

/** Every variable loadConfig reads, for docs/configuration.md and .env.example to be checked against. */
export const CONFIG_VARIABLES = [
  "LOCAL_DOMAIN", "WEB_DOMAIN", "LOCAL_HTTPS", "SECRET_KEY_BASE", "SINGLE_USER_MODE", "SOURCE_BASE_URL", "MAX_TOOT_CHARS",
  "BIND", "PORT", "STREAMING_PORT", "STREAMING_API_BASE_URL", "STREAMING_MAX_CONNECTIONS_PER_TOKEN",
  "STREAMING_MAX_CONNECTIONS_PER_IP", "TRUSTED_PROXY_IP", "SHUTDOWN_TIMEOUT", "LOG_LEVEL",
  "DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASS", "DB_POOL", "DB_SSLMODE", "DB_CONNECT_TIMEOUT",
  "PREPARED_STATEMENTS",
  "REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_USER", "REDIS_PASSWORD", "REDIS_NAMESPACE",
  "WORKER_CONCURRENCY", "SIDEKIQ_CONCURRENCY", "WEB_CONCURRENCY",
  "SMTP_SERVER", "SMTP_PORT", "SMTP_LOGIN", "SMTP_PASSWORD", "SMTP_FROM_ADDRESS", "SMTP_DOMAIN", "SMTP_AUTH_METHOD",
  "SMTP_OPENSSL_VERIFY_MODE", "SMTP_ENABLE_STARTTLS", "SMTP_ENABLE_STARTTLS_AUTO", "SMTP_TLS", "SMTP_SSL", "MAIL_OUTBOX_DIR",
  "PAPERCLIP_ROOT_PATH", "S3_ENABLED", "S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_FORCE_PATH_STYLE", "S3_OVERRIDE_PATH_STYLE",
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_ALIAS_HOST", "S3_PERMISSION",
  "SHARP_CACHE_DIR", "MEDIA_CACHE_RETENTION_PERIOD", "MEDIA_CACHE_MAX_SIZE", "MEDIA_FETCH_TIMEOUT", "MEDIA_FETCH_FOLLOWED", "ALLOWED_PRIVATE_ADDRESSES", "AUTHORIZED_FETCH", "LIMITED_FEDERATION_MODE", "RATE_LIMITS_ENABLED", "RATE_LIMITS",
  "VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "PREVIEW_CARD_MAX_DELAY",
  "METRICS_TOKEN", "METRICS_PORT",
] as const;

/** Parse the text of an env file (KEY=value lines, # comments, optional quotes, optional `export `). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!match) throw new ConfigError(`line ${index + 1} of the env file`, "KEY=value");
    let value = match[2]!;
    if ((value.startsWith('"') && value.endsWith('"') && value.length >= 2) || (value.startsWith("'") && value.endsWith("'") && value.length >= 2)) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    out[match[1]!] = value;
  }
  return out;
}
