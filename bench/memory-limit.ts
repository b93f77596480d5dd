/**
 * Run a command under a real memory limit for its whole process group, and measure what the group uses.
 * In order of preference:
 *
 * 1. `systemd-run --scope -p MemoryMax=…` when systemd is the init (a transient scope = a cgroup v2 group);
 * 2. a cgroup v2 group of our own, when the unified hierarchy already delegates the memory controller;
 * 3. a cgroup v1 memory group nested under our own (memory.limit_in_bytes, and memsw so swap is no escape);
 * 4. `prlimit --as` (RLIMIT_AS, per process and virtual memory only: a much weaker stand-in).
 *
 * The command joins the cgroup before it execs (a tiny `sh -c 'echo $$ > cgroup.procs; exec …'`), so
 * everything it starts is inside from its first byte. `method` says which one was used: print it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface MemoryLimit {
  /** e.g. "cgroup v1 memory.limit_in_bytes=1073741824 (/sys/fs/cgroup/memory/…)" */
  method: string;
  /** The command to spawn in place of `cmd`. */
  wrap(cmd: string[]): string[];
  /** Sum of VmRSS over the group's processes now (bytes); `rootPid` is the spawned process. */
  groupRss(rootPid: number): number;
  /** The kernel's own peak for the group (cgroup peak usage, page cache included), when it keeps one. */
  kernelPeak(): number | undefined;
  /** Times the limit was hit / OOM kills, when the kernel says. */
  limitEvents(): string | undefined;
  /** Remove what we created (call once the command has exited). */
  cleanup(): void;
}

const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(read(`/proc/${pid}/status`) ?? "")?.[1] ?? 0) * 1024;
}

/** The process and all its descendants (for a limit that has no group of its own). */
function tree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) : NaN;
    if (Number.isFinite(ppid)) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(rootPid);
  return out;
}

const joinThenExec = (procsFile: string, cmd: string[]) => ["sh", "-c", `echo $$ > '${procsFile}' && exec "$@"`, "sh", ...cmd];

function cgroupLimit(dir: string, version: 1 | 2, bytes: number, method: string): MemoryLimit {
  const procs = join(dir, "cgroup.procs");
  const pids = () => (read(procs) ?? "").split("\n").filter(Boolean).map(Number);
  return {
    method,
    wrap: (cmd) => joinThenExec(procs, cmd),
    groupRss: () => pids().reduce((sum, pid) => sum + rssOf(pid), 0),
    kernelPeak: () => {
      const value = read(join(dir, version === 2 ? "memory.peak" : "memory.max_usage_in_bytes"));
      return value === undefined ? undefined : Number(value.trim());
    },
    limitEvents: () => {
      if (version === 2) return read(join(dir, "memory.events"))?.trim().replace(/\n/g, ", ");
      const oom = /oom_kill (\d+)/.exec(read(join(dir, "memory.oom_control")) ?? "")?.[1];
      return `failcnt ${read(join(dir, "memory.failcnt"))?.trim() ?? "?"}, oom_kill ${oom ?? "?"}`;
    },
    cleanup: () => {
      try {
        rmdirSync(dir);
      } catch (error) {
        console.error(`could not remove ${dir}: ${(error as Error).message} (${bytes} byte limit left in place)`);
      }
    },
  };
}

function mounts(): { path: string; type: string; options: string[] }[] {
  return (read("/proc/mounts") ?? "").split("\n").filter(Boolean).map((line) => {
    const [, path, type, options] = line.split(" ");
    return { path: path!, type: type!, options: options!.split(",") };
  });
}

function ownCgroup(match: (controllers: string) => boolean): string | undefined {
  for (const line of (read("/proc/self/cgroup") ?? "").split("\n")) {
    const [, controllers, path] = line.split(":");
    if (controllers !== undefined && path !== undefined && match(controllers)) return path;
  }
  return undefined;
}

export function memoryLimit(bytes: number, name: string): MemoryLimit {
  // 1. systemd: a transient scope with MemoryMax; its cgroup is found from the spawned process afterwards.
  if (existsSync("/run/systemd/system") && Bun.which("systemd-run")) {
    const unit = `${name}.scope`;
    const v2 = mounts().find((m) => m.type === "cgroup2");
    let dir: string | undefined;
    const locate = () => {
      if (!dir && v2) {
        const path = /ControlGroup=(.*)/.exec(Bun.spawnSync(["systemctl", "show", "-p", "ControlGroup", unit]).stdout.toString())?.[1]?.trim();
        if (path) dir = join(v2.path, path);
      }
      return dir;
    };
    return {
      method: `systemd-run --scope -p MemoryMax=${bytes} (${unit})`,
      wrap: (cmd) => ["systemd-run", "--scope", "--quiet", `--unit=${unit}`, "-p", `MemoryMax=${bytes}`, "-p", "MemorySwapMax=0", ...cmd],
      groupRss: (rootPid) => {
        const d = locate();
        const pids = d ? (read(join(d, "cgroup.procs")) ?? "").split("\n").filter(Boolean).map(Number) : tree(rootPid);
        return pids.reduce((sum, pid) => sum + rssOf(pid), 0);
      },
      kernelPeak: () => {
        const d = locate();
        const value = d ? read(join(d, "memory.peak")) : undefined;
        return value === undefined ? undefined : Number(value.trim());
      },
      limitEvents: () => {
        const d = locate();
        return d ? read(join(d, "memory.events"))?.trim().replace(/\n/g, ", ") : undefined;
      },
      cleanup: () => {},
    };
  }
  // 2. cgroup v2 with the memory controller delegated to the hierarchy's root (we never switch it on).
  const v2 = mounts().find((m) => m.type === "cgroup2");
  if (v2 && /\bmemory\b/.test(read(join(v2.path, "cgroup.subtree_control")) ?? "")) {
    const dir = join(v2.path, name);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "memory.max"), String(bytes));
      if (existsSync(join(dir, "memory.swap.max"))) writeFileSync(join(dir, "memory.swap.max"), "0");
      return cgroupLimit(dir, 2, bytes, `cgroup v2 memory.max=${bytes} (${dir})`);
    } catch (error) {
      console.error(`cgroup v2 not usable: ${(error as Error).message}`);
    }
  }
  // 3. cgroup v1: a child of our own memory cgroup, so whatever limits the parent has still apply.
  const v1 = mounts().find((m) => m.type === "cgroup" && m.options.includes("memory"));
  const own = ownCgroup((c) => c.split(",").includes("memory"));
  if (v1 && own !== undefined) {
    const dir = join(v1.path, own, name);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "memory.limit_in_bytes"), String(bytes));
      // memsw (memory + swap) must be set after, and ≥ the memory limit; equal means no swapping past it.
      if (existsSync(join(dir, "memory.memsw.limit_in_bytes"))) writeFileSync(join(dir, "memory.memsw.limit_in_bytes"), String(bytes));
      return cgroupLimit(dir, 1, bytes, `cgroup v1 memory.limit_in_bytes=${bytes} (${dir})`);
    } catch (error) {
      console.error(`cgroup v1 not usable: ${(error as Error).message}`);
      try {
        rmdirSync(dir);
      } catch {}
    }
  }
  // 4. RLIMIT_AS: per process and virtual, so only a rough guard; RSS is summed over the process tree.
  return {
    method: `prlimit --as=${bytes} (no cgroup available: per-process virtual memory limit only)`,
    wrap: (cmd) => ["prlimit", `--as=${bytes}`, "--", ...cmd],
    groupRss: (rootPid) => tree(rootPid).reduce((sum, pid) => sum + rssOf(pid), 0),
    kernelPeak: () => undefined,
    limitEvents: () => undefined,
    cleanup: () => {},
  };
}
