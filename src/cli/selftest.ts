/**
 * `woolly selftest`: checks that the parts of the runtime the binary cannot take for granted work in
 * this process (no database or Redis needed). One line per check on stdout; exit code 0 when all pass.
 * The build's integration test runs it against the compiled binary from an empty directory, so a sharp
 * upgrade that changes its loader fails there, not in production.
 */
import { generateKeyPairSync, sign, verify } from "node:crypto";
import { sharpSelfTest } from "../infra/sharp.ts";

interface Check {
  name: string;
  run: () => Promise<{ ok: boolean; detail: string }>;
}

const checks: Check[] = [
  { name: "sharp", run: () => sharpSelfTest() },
  {
    name: "argon2id",
    run: async () => {
      // Small cost parameters: this proves the algorithm is there, not the production cost.
      const hash = await Bun.password.hash("selftest", { algorithm: "argon2id", memoryCost: 1024, timeCost: 1 });
      const ok = (await Bun.password.verify("selftest", hash)) && !(await Bun.password.verify("wrong", hash));
      return { ok, detail: ok ? "hash and verify" : "verify gave the wrong answer" };
    },
  },
  {
    name: "rsa",
    run: async () => {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const data = Buffer.from("selftest");
      const signature = sign("sha256", data, privateKey);
      const ok = verify("sha256", data, publicKey, signature) && !verify("sha256", Buffer.from("x"), publicKey, signature);
      return { ok, detail: ok ? "2048-bit rsa-sha256 sign and verify" : "verify gave the wrong answer" };
    },
  },
];

export async function runSelftest(): Promise<number> {
  let failed = 0;
  for (const check of checks) {
    let result: { ok: boolean; detail: string };
    try {
      result = await check.run();
    } catch (err) {
      result = { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
    if (!result.ok) failed++;
    // A multi-line detail (sharp's loader error) stays readable but each check still starts its own line.
    console.log(`${check.name} ${result.ok ? "ok" : "FAILED"}: ${result.detail}`);
  }
  return failed === 0 ? 0 : 1;
}
