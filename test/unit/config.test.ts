import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig, parseEnvFile } from "../../src/infra/config";

const base = { LOCAL_DOMAIN: "example.com", SECRET_KEY_BASE: "x".repeat(64), DATABASE_URL: "postgres://u:p@db:5432/w", REDIS_URL: "redis://r:6379" };

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  test("a complete environment gives typed values and Mastodon defaults", () => {
    const config = loadConfig(base);
    expect(config.webDomain).toBe("example.com");
    expect(config.baseUrl).toBe("https://example.com");
    expect(config.db.pool).toBe(10);
    expect(config.db.preparedStatements).toBe(true);
    expect(config.port).toBe(3000);
    expect(config.streamingPort).toBe(4000);
    expect(config.streamingApiBaseUrl).toBe("wss://example.com");
    expect(config.media.s3).toBeUndefined();
  });

  test("a missing required variable is named", () => {
    const error = errorOf({ ...base, LOCAL_DOMAIN: "" });
    expect(error.variable).toBe("LOCAL_DOMAIN");
    expect(error.message).toContain("not set");
  });

  test("a malformed value is named with what it expects", () => {
    expect(errorOf({ ...base, DB_POOL: "lots" }).message).toContain("DB_POOL: expected an integer");
    expect(errorOf({ ...base, PREPARED_STATEMENTS: "maybe" }).variable).toBe("PREPARED_STATEMENTS");
    expect(errorOf({ ...base, DATABASE_URL: "mysql://x" }).variable).toBe("DATABASE_URL");
    expect(errorOf({ ...base, LOG_LEVEL: "loud" }).variable).toBe("LOG_LEVEL");
    expect(errorOf({ ...base, S3_ENABLED: "true" }).variable).toBe("S3_BUCKET");
    expect(errorOf({ ...base, TRUSTED_PROXY_IP: "10.0.0.0/8, 300.1.1.1" }).variable).toBe("TRUSTED_PROXY_IP");
    expect(errorOf({ ...base, ALLOWED_PRIVATE_ADDRESSES: "10.0.0.0/99" }).variable).toBe("ALLOWED_PRIVATE_ADDRESSES");
  });

  test("secret values never appear in error messages", () => {
    const error = errorOf({ ...base, SECRET_KEY_BASE: "short-but-secret" });
    expect(error.variable).toBe("SECRET_KEY_BASE");
    expect(error.message).not.toContain("short-but-secret");
    const redis = errorOf({ ...base, REDIS_URL: "http://user:hunter2@r" });
    expect(redis.message).not.toContain("hunter2");
  });

  test("DB_* variables build the URL when DATABASE_URL is absent; PREPARED_STATEMENTS=false is honoured", () => {
    const { DATABASE_URL: _, ...rest } = base;
    const config = loadConfig({ ...rest, DB_HOST: "db.internal", DB_PORT: "6432", DB_NAME: "woolly", DB_USER: "w", DB_PASS: "p@ss", PREPARED_STATEMENTS: "false" });
    expect(config.db.url).toBe("postgres://w:p%40ss@db.internal:6432/woolly");
    expect(config.db.preparedStatements).toBe(false);
  });

  test("split domains: handles on LOCAL_DOMAIN, URLs on WEB_DOMAIN", () => {
    const config = loadConfig({ ...base, WEB_DOMAIN: "social.example.com" });
    expect(config.localDomain).toBe("example.com");
    expect(config.baseUrl).toBe("https://social.example.com");
  });
});

describe("env files", () => {
  test("KEY=value lines, comments, quotes and export", () => {
    expect(parseEnvFile('# comment\nA=1\nexport B="two words"\nC=\'x#y\'\nD=plain # trailing\n\n')).toEqual({ A: "1", B: "two words", C: "x#y", D: "plain" });
  });
  test("a line that is not KEY=value is an error naming the line", () => {
    expect(() => parseEnvFile("A=1\nthis is not valid\n")).toThrow("line 2");
  });
});
