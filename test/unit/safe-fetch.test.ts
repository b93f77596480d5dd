/**
 * The outbound client's SSRF guard: every private spelling is refused before a connection is made, the
 * explicit allowance (ALLOWED_PRIVATE_ADDRESSES) lets loopback through, redirects are checked again, and
 * bodies and redirect chains are bounded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { judgeAddress, safeFetch, SafeFetchError, type SafeFetchSettings } from "../../src/infra/http/safe-fetch";

const strict: SafeFetchSettings = { allowedPrivateAddresses: [], baseUrl: "https://woolly.test" };
const loopbackAllowed: SafeFetchSettings = { allowedPrivateAddresses: ["127.0.0.0/8", "::1/128"], baseUrl: "https://woolly.test" };

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "fetched";
  } catch (error) {
    if (error instanceof SafeFetchError) return error.reason;
    throw error;
  }
}

let server: ReturnType<typeof Bun.serve>;
let base: string;
let lastHeaders: Headers | undefined;

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      lastHeaders = request.headers;
      if (url.pathname === "/ok") return Response.json({ ok: true });
      if (url.pathname === "/big") return new Response("x".repeat(2048));
      if (url.pathname === "/stream") {
        // No Content-Length: the cap must hold while streaming.
        const stream = new ReadableStream({
          start(controller) {
            for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode("y".repeat(512)));
            controller.close();
          },
        });
        return new Response(stream);
      }
      if (url.pathname === "/to-metadata") return Response.redirect("http://169.254.169.254/latest/meta-data/", 302);
      if (url.pathname.startsWith("/loop/")) return Response.redirect(`/loop/${Number(url.pathname.slice(6)) + 1}`, 302);
      if (url.pathname === "/to-ok") return Response.redirect("/ok", 301);
      if (url.pathname === "/slow") return new Promise((resolve) => setTimeout(() => resolve(new Response("late")), 2000));
      return new Response("nope", { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(() => server.stop(true));

describe("refused addresses", () => {
  const forms = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://0.0.0.0/",
    "https://[::]/",
    "https://224.0.0.1/",
    "https://100.64.0.1/",
    "https://[::ffff:10.0.0.1]/",
    "https://localhost/",
  ];
  for (const form of forms) {
    test(form, async () => {
      expect(await reason(safeFetch(form, strict))).toBe("forbidden_address");
    });
  }

  test("a name whose DNS answer is private", async () => {
    const settings = { ...strict, resolve: async () => ["93.184.216.34", "10.0.0.5"] };
    expect(await reason(safeFetch("https://mixed.example/", settings))).toBe("forbidden_address");
  });

  test("judgeAddress", () => {
    expect(judgeAddress("93.184.216.34", [])).toBe("public");
    expect(judgeAddress("2606:4700::1111", [])).toBe("public");
    expect(judgeAddress("127.0.0.1", [])).toBe("forbidden");
    expect(judgeAddress("::ffff:127.0.0.1", ["127.0.0.0/8"])).toBe("allowed_private");
    expect(judgeAddress("10.0.0.1", ["10.0.0.1"])).toBe("allowed_private");
    expect(judgeAddress("10.0.0.2", ["10.0.0.1"])).toBe("forbidden");
    expect(judgeAddress("not an ip", [])).toBe("forbidden");
  });
});

describe("schemes", () => {
  test("plain http to a public address is refused", async () => {
    const settings = { ...strict, resolve: async () => ["93.184.216.34"] };
    expect(await reason(safeFetch("http://example.com/", settings))).toBe("forbidden_scheme");
  });
  test("other schemes are refused", async () => {
    expect(await reason(safeFetch("file:///etc/passwd", strict))).toBe("forbidden_scheme");
    expect(await reason(safeFetch("ftp://example.com/", strict))).toBe("forbidden_scheme");
    expect(await reason(safeFetch("not a url", strict))).toBe("bad_url");
  });
  test("a blocked host is refused", async () => {
    const settings = { ...loopbackAllowed, isBlockedHost: (host: string) => host.startsWith("127.0.0.1") };
    expect(await reason(safeFetch(`${base}/ok`, settings))).toBe("blocked_domain");
  });
});

describe("with the allowance", () => {
  test("loopback is fetched over http, with our User-Agent and the original Host", async () => {
    const response = await safeFetch(`${base}/ok`, loopbackAllowed);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ ok: true });
    expect(lastHeaders?.get("user-agent")).toMatch(/^Woolly\/\S+ \(\+https:\/\/woolly\.test\/\)$/);
    expect(lastHeaders?.get("host")).toBe(`127.0.0.1:${server.port}`);
  });
  test("localhost resolves and is allowed", async () => {
    const response = await safeFetch(`http://localhost:${server.port}/ok`, loopbackAllowed);
    expect(response.status).toBe(200);
    expect(lastHeaders?.get("host")).toBe(`localhost:${server.port}`);
  });
  test("redirects are followed and re-checked", async () => {
    expect((await safeFetch(`${base}/to-ok`, loopbackAllowed)).url).toBe(`${base}/ok`);
    expect(await reason(safeFetch(`${base}/to-metadata`, loopbackAllowed))).toBe("forbidden_address");
    expect(await reason(safeFetch(`${base}/loop/0`, loopbackAllowed))).toBe("too_many_redirects");
  });
  test("bodies over the cap are refused, declared or streamed", async () => {
    expect(await reason(safeFetch(`${base}/big`, loopbackAllowed, { maxBytes: 1024 }))).toBe("too_large");
    expect(await reason(safeFetch(`${base}/stream`, loopbackAllowed, { maxBytes: 1024 }))).toBe("too_large");
    expect((await safeFetch(`${base}/stream`, loopbackAllowed, { maxBytes: 8192 })).body.byteLength).toBe(4096);
  });
  test("timeouts", async () => {
    expect(await reason(safeFetch(`${base}/slow`, loopbackAllowed, { headersTimeoutMs: 200 }))).toBe("timeout");
  });
  test("the sign hook runs on every hop with that hop's URL", async () => {
    const seen: string[] = [];
    await safeFetch(`${base}/to-ok`, loopbackAllowed, {
      sign: ({ url }) => {
        seen.push(url.pathname);
        return { signature: url.pathname };
      },
    });
    expect(seen).toEqual(["/to-ok", "/ok"]);
    expect(lastHeaders?.get("signature")).toBe("/ok");
  });
});

test("a refused first address falls through to the next checked one", async () => {
  // ::1 is not listening on this port (the server binds 127.0.0.1 only); 127.0.0.1 answers.
  const settings = { ...loopbackAllowed, resolve: async () => ["::1", "127.0.0.1"] };
  const response = await safeFetch(`http://dual.test:${server.port}/ok`, settings);
  expect(response.status).toBe(200);
  expect(lastHeaders?.get("host")).toBe(`dual.test:${server.port}`);
});

// Connecting to the checked address while TLS still checks the name: run in a child process, because the
// self-signed test CA can only be trusted through NODE_EXTRA_CA_CERTS at start-up.
test.skipIf(!Bun.which("openssl"))("https goes to the checked address with the original name for SNI and the certificate", async () => {
  const dir = mkdtempSync(`${tmpdir()}/woolly-tls-`);
  const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`, "-days", "1", "-subj", "/CN=fed-tls.test", "-addext", "subjectAltName=DNS:fed-tls.test"]);
  expect(made.exitCode).toBe(0);
  const script = `
    import { safeFetch } from ${JSON.stringify(`${import.meta.dir}/../../src/infra/http/safe-fetch.ts`)};
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: Bun.file("${dir}/cert.pem"), key: Bun.file("${dir}/key.pem") }, fetch: (r) => new Response(r.headers.get("host")) });
    const settings = { allowedPrivateAddresses: ["127.0.0.0/8"], baseUrl: "https://woolly.test", resolve: async () => ["127.0.0.1"] };
    const ok = await safeFetch("https://fed-tls.test:" + server.port + "/", settings);
    let other = "accepted";
    try { await safeFetch("https://other-name.test:" + server.port + "/", settings); } catch (e) { other = e.reason; }
    console.log(JSON.stringify({ status: ok.status, host: ok.text().replace(/:\\d+$/, ""), other }));
    server.stop(true);`;
  writeFileSync(`${dir}/check.ts`, script);
  const run = Bun.spawnSync(["bun", `${dir}/check.ts`], { env: { ...process.env, NODE_EXTRA_CA_CERTS: `${dir}/cert.pem` } });
  rmSync(dir, { recursive: true, force: true });
  expect(JSON.parse(run.stdout.toString())).toEqual({ status: 200, host: "fed-tls.test", other: "network" });
});
