/**
 * The systemd units in systemd/ (see docs/deploy-ubuntu.md): parse every file with a small unit-file parser and
 * check the settings that matter for running Woolly safely; then, where systemd-analyze can run, have systemd
 * itself verify them (unknown keys, bad values, bad unit names, bad specifiers).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const UNIT_DIR = join(import.meta.dir, "../../systemd");
const BINARY = "/usr/local/bin/woolly";
const THP_FILE = "/sys/kernel/mm/transparent_hugepage/enabled";
const ALL_QUEUES = ["default", "push", "pull", "ingress", "mailers", "scheduler"];
const ROLES: Record<string, string> = {
  "woolly-web.service": "web",
  "woolly-streaming.service": "streaming",
  "woolly-scheduler.service": "scheduler",
  // %I, not %i: the instance "ingress,pull" is stored escaped as ingress\x2cpull (commas are not valid in unit
  // names), and only %I unescapes it.
  "woolly-worker@.service": "worker --queues %I",
};

// ---- a small parser for systemd's INI dialect ----

/** section → key → every value assigned, in order (repeated keys accumulate; "Key=" records ""). */
type UnitFile = Map<string, Map<string, string[]>>;

function parseUnit(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Map<string, string[]> | undefined;
  let pending = ""; // a line continued with a trailing backslash
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    // Comments are whole lines starting with # or ;, also between the lines of a continued value.
    if (line.startsWith("#") || line.startsWith(";")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const logical = (pending + line).trim();
    pending = "";
    if (logical === "") continue;
    const header = /^\[([^\]]+)\]$/.exec(logical);
    if (header) {
      current = sections.get(header[1]!) ?? new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = logical.indexOf("=");
    if (eq <= 0) throw new Error(`not a Key=value line: ${JSON.stringify(logical)}`);
    if (!current) throw new Error(`assignment outside a section: ${JSON.stringify(logical)}`);
    const key = logical.slice(0, eq).trim();
    const values = current.get(key) ?? [];
    values.push(logical.slice(eq + 1).trim());
    current.set(key, values);
  }
  if (pending !== "") throw new Error("file ends inside a continued line");
  return sections;
}

const all = (unit: UnitFile, section: string, key: string): string[] => unit.get(section)?.get(key) ?? [];
/** The effective value of a single-valued setting: the last assignment wins, as in systemd. */
const one = (unit: UnitFile, section: string, key: string): string | undefined => all(unit, section, key).at(-1);
/** The words of a list-valued setting (After=, Wants=, ...) across all its assignments. */
const words = (unit: UnitFile, section: string, key: string): string[] =>
  all(unit, section, key).flatMap((v) => v.split(/\s+/).filter(Boolean));
const unescapeUnitName = (name: string) => name.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));

/** A systemd time span in seconds: "35", "35s", "1min 5s", "2m". */
function seconds(span: string): number {
  const units: Record<string, number> = { "": 1, s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, minute: 60, minutes: 60, h: 3600, hr: 3600, hour: 3600, hours: 3600 };
  let total = 0;
  for (const part of span.trim().split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(part);
    if (!m || !(m[2]! in units)) throw new Error(`unsupported time span ${JSON.stringify(span)}`);
    total += Number(m[1]) * units[m[2]!]!;
  }
  return total;
}

/** Split "+-/bin/sh -c '…'" into its special-prefix characters and the command line. */
function execPrefix(value: string): { prefix: string; command: string } {
  const m = /^([@\-:+!]*)(.*)$/s.exec(value)!;
  return { prefix: m[1]!, command: m[2]! };
}

function isThpLine(value: string): boolean {
  const { prefix, command } = execPrefix(value);
  return (
    value.startsWith("+") &&
    !prefix.includes("!") &&
    command.startsWith("/bin/sh -c ") &&
    new RegExp(`echo never > ${THP_FILE.replaceAll("/", "\\/")}'?$`).test(command)
  );
}

// ---- load every file under systemd/ ----

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const units = new Map<string, UnitFile>(filesUnder(UNIT_DIR).map((path) => [relative(UNIT_DIR, path), parseUnit(readFileSync(path, "utf8"))]));
const services = [...units.keys()].filter((name) => name.endsWith(".service"));

describe("the unit-file parser", () => {
  test("handles sections, repeated keys, empty assignments, continuations and comments", () => {
    const unit = parseUnit(
      ["# comment", "[Unit]", "After=a.service", "; another comment", "After=b.service \\", "  c.service", "[Service]", "X=", "ExecStart=/bin/echo \\", "# comment inside", "  hi"].join("\n"),
    );
    expect(words(unit, "Unit", "After")).toEqual(["a.service", "b.service", "c.service"]);
    expect(all(unit, "Service", "X")).toEqual([""]);
    expect(one(unit, "Service", "ExecStart")).toBe("/bin/echo  hi"); // systemd turns the backslash into a space
    expect(() => parseUnit("Key=value")).toThrow("outside a section");
  });

  test("reads the THP line the way systemd does", () => {
    expect(isThpLine(`+-/bin/sh -c 'echo never > ${THP_FILE}'`)).toBe(true);
    expect(isThpLine(`+/bin/sh -c 'echo never > ${THP_FILE}'`)).toBe(true);
    expect(isThpLine(`/bin/sh -c 'echo never > ${THP_FILE}'`)).toBe(false); // would run as woolly, sandboxed
    expect(isThpLine(`-/bin/sh -c 'echo never > ${THP_FILE}'`)).toBe(false);
    expect(isThpLine(`+/bin/sh -c 'echo always > ${THP_FILE}'`)).toBe(false);
  });
});

describe("systemd/", () => {
  test("holds the four role units, the target and the Redis drop-in", () => {
    expect([...units.keys()].sort()).toEqual(
      [...Object.keys(ROLES), "woolly.target", join("redis-server.service.d", "woolly-thp.conf")].sort(),
    );
  });

  test("every file uses only the [Unit], [Service] and [Install] sections", () => {
    for (const [name, unit] of units) {
      for (const section of unit.keys()) expect(["Unit", "Service", "Install"], `${name}: [${section}]`).toContain(section);
    }
  });
});

describe.each(services)("%s", (name) => {
  const unit = units.get(name)!;
  const service = (key: string) => one(unit, "Service", key);

  test("describes itself and starts after its dependencies", () => {
    expect(one(unit, "Unit", "Description")).toBeTruthy();
    expect(words(unit, "Unit", "After")).toEqual(expect.arrayContaining(["network-online.target", "postgresql.service", "redis-server.service"]));
    expect(words(unit, "Unit", "Wants")).toContain("network-online.target");
    expect(words(unit, "Unit", "PartOf")).toContain("woolly.target");
  });

  test("runs the right role of the installed binary as woolly, with /etc/woolly/env", () => {
    expect(service("User")).toBe("woolly");
    expect(service("Group")).toBe("woolly");
    expect(all(unit, "Service", "EnvironmentFile")).toContain("/etc/woolly/env");
    expect(all(unit, "Service", "ExecStart")).toEqual([`${BINARY} ${ROLES[name]}`]);
  });

  test("disables transparent huge pages in a privileged (+) ExecStartPre", () => {
    expect(all(unit, "Service", "ExecStartPre").filter(isThpLine)).toHaveLength(1);
  });

  test("restarts on failure and stops gracefully, after SHUTDOWN_TIMEOUT (25 s by default)", () => {
    expect(service("Restart")).toBe("on-failure");
    expect(service("RestartSec")).toBeTruthy();
    expect(service("KillSignal")).toBe("SIGTERM");
    expect(seconds(service("TimeoutStopSec") ?? "0")).toBeGreaterThanOrEqual(30);
    expect(Number(service("LimitNOFILE"))).toBeGreaterThanOrEqual(65536);
  });

  test("is sandboxed", () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      ProtectKernelTunables: "yes",
      ProtectKernelModules: "yes",
      ProtectControlGroups: "yes",
      RestrictNamespaces: "yes",
      LockPersonality: "yes",
      RestrictRealtime: "yes",
      SystemCallArchitectures: "native",
      CapabilityBoundingSet: "",
      StateDirectory: "woolly",
      CacheDirectory: "woolly",
    };
    for (const [key, value] of Object.entries(expected)) expect(service(key), key).toBe(value);
    expect(words(unit, "Service", "ReadWritePaths")).toContain("/var/lib/woolly");
    expect(words(unit, "Service", "RestrictAddressFamilies").sort()).toEqual(["AF_INET", "AF_INET6", "AF_UNIX"]);
    // Bun's JIT needs writable+executable memory.
    expect(service("MemoryDenyWriteExecute") ?? "no").toBe("no");
  });

  test("is part of woolly.target", () => {
    expect(words(unit, "Install", "WantedBy")).toContain("woolly.target");
  });
});

describe("woolly.target", () => {
  const target = units.get("woolly.target")!;
  const wants = words(target, "Unit", "Wants");

  test("wants web, streaming, scheduler and one worker for every queue", () => {
    expect(one(target, "Unit", "Description")).toBeTruthy();
    expect(wants).toEqual(expect.arrayContaining(["woolly-web.service", "woolly-streaming.service", "woolly-scheduler.service"]));
    const workers = wants.filter((w) => w.startsWith("woolly-worker@"));
    expect(workers).toHaveLength(1);
    // Unit names may not contain commas: the instance must be escaped (what `systemd-escape` prints).
    expect(workers[0]).toMatch(/^woolly-worker@[A-Za-z0-9:_.\\-]+\.service$/);
    const queues = unescapeUnitName(workers[0]!.slice("woolly-worker@".length, -".service".length)).split(",");
    expect(queues.sort()).toEqual([...ALL_QUEUES].sort());
  });

  test("every unit it wants is in systemd/", () => {
    for (const wanted of wants.filter((w) => w.startsWith("woolly-"))) {
      expect(units.has(wanted.replace(/@.+\.service$/, "@.service")), wanted).toBe(true);
    }
  });

  test("starts at boot once enabled", () => {
    expect(words(target, "Install", "WantedBy")).toContain("multi-user.target");
  });
});

test("the redis-server drop-in disables transparent huge pages in a privileged (+) ExecStartPre", () => {
  const dropIn = units.get(join("redis-server.service.d", "woolly-thp.conf"))!;
  expect(all(dropIn, "Service", "ExecStartPre").filter(isThpLine)).toHaveLength(1);
});

// ---- systemd's own verdict ----

const MIN_SYSTEMD = 247; // ProtectProc= is the newest setting the units use
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function analyze(args: string[]) {
  const result = Bun.spawnSync({ cmd: ["systemd-analyze", ...args], stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  return { exitCode: result.exitCode, output: (result.stdout.toString() + result.stderr.toString()).trim() };
}

/** Why `systemd-analyze verify` cannot be used here, or undefined if it can. */
function analyzeUnavailable(): string | undefined {
  if (!Bun.which("systemd-analyze")) return "systemd-analyze is not installed";
  const version = /systemd (\d+)/.exec(analyze(["--version"]).output)?.[1];
  if (!version) return "systemd-analyze --version did not run";
  if (Number(version) < MIN_SYSTEMD) return `systemd ${version} is older than ${MIN_SYSTEMD}, which the units need`;
  const dir = mkdtempSync(join(tmpdir(), "woolly-units-probe-"));
  tempDirs.push(dir);
  writeFileSync(join(dir, "probe.service"), "[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n");
  const probe = analyze(["verify", "--man=no", join(dir, "probe.service")]);
  if (probe.exitCode !== 0) return `systemd-analyze verify cannot run here: ${probe.output.split("\n")[0]}`;
  return undefined;
}

/** Messages about this machine rather than about the unit files. */
const ENVIRONMENTAL = [
  /Failed to (look up|resolve) (user|group)/i,
  /Unknown (user|group)/i,
  /Failed to connect to bus/i,
  /System has not been booted with systemd/i,
  /Running in chroot/i,
];

const unavailable = analyzeUnavailable();
test.skipIf(unavailable !== undefined)(
  unavailable ? `systemd-analyze verify accepts the units (skipped: ${unavailable})` : "systemd-analyze verify accepts the units",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "woolly-units-"));
    tempDirs.push(dir);
    cpSync(UNIT_DIR, dir, { recursive: true });
    // verify insists that ExecStart= binaries exist: point the copies at one that does.
    const fake = Bun.which("true") ?? "/bin/true";
    for (const name of services) {
      const path = join(dir, name);
      writeFileSync(path, readFileSync(path, "utf8").replaceAll(`ExecStart=${BINARY} `, `ExecStart=${fake} `));
    }
    // A stand-in for the packaged redis-server.service, so that the drop-in next to it gets loaded.
    writeFileSync(join(dir, "redis-server.service"), `[Unit]\nDescription=stand-in\n[Service]\nExecStart=${fake}\n`);

    const toVerify = [
      "woolly.target",
      ...services.filter((name) => !name.includes("@")),
      `woolly-worker@${ALL_QUEUES.join("\\x2c")}.service`,
      "woolly-worker@ingress.service",
      "redis-server.service",
    ];
    const { exitCode, output } = analyze(["verify", "--man=no", ...toVerify.map((name) => join(dir, name))]);
    // Only messages about these units count (not about, say, the host's own network-online.target).
    const problems = output
      .split("\n")
      .filter((line) => line.includes(dir) || /woolly|redis-server/.test(line))
      .filter((line) => !ENVIRONMENTAL.some((re) => re.test(line)));
    expect(problems).toEqual([]);
    expect(exitCode).toBe(0);
  },
);
