/**
 * Video and audio. With ffprobe/ffmpeg on PATH we read duration, dimensions, frame rate and bitrate, enforce
 * Mastodon's video limits and grab the first frame as the preview. Without them the file is stored as
 * uploaded, typed from its sniffed container; for MP4/QuickTime the headers still give width, height and
 * duration (mp4.ts), and the pixel limit is applied from them. Other containers get no meta. There is no
 * preview frame without ffmpeg. Nothing here transcodes (so container metadata is NOT stripped from
 * video/audio yet — see the leftovers).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../../infra/errors";
import { VIDEO_FRAME_RATE_LIMIT, VIDEO_MATRIX_LIMIT } from "./limits";
import { readMp4 } from "./mp4";
import type { MediaKind, Sniffed } from "./sniff";

export interface MediaCapabilities {
  ffprobe: boolean;
  ffmpeg: boolean;
}

let capabilities: MediaCapabilities | undefined;

/** Which external tools this process can use (looked up once). */
export function mediaCapabilities(): MediaCapabilities {
  capabilities ??= { ffprobe: Bun.which("ffprobe") !== null, ffmpeg: Bun.which("ffmpeg") !== null };
  return capabilities;
}

export interface AvResult {
  kind: MediaKind;
  /** Mastodon's meta.original for video/audio: width, height, frame_rate, duration, bitrate (what is known). */
  original: Record<string, unknown> | null;
  /** The first video frame as PNG, when ffmpeg could extract one. */
  frame?: Uint8Array;
}

const TOOL_TIMEOUT_MS = 60_000;

async function run(cmd: string[]): Promise<{ code: number; stdout: Uint8Array }> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), TOOL_TIMEOUT_MS);
  try {
    const [stdout, code] = await Promise.all([new Response(proc.stdout).bytes(), proc.exited]);
    return { code, stdout };
  } finally {
    clearTimeout(timer);
  }
}

interface Probe {
  streams?: Array<{ codec_type?: string; width?: number; height?: number; r_frame_rate?: string; avg_frame_rate?: string }>;
  format?: { duration?: string; bit_rate?: string };
}

const rate = (text: string | undefined) => {
  const [n, d] = (text ?? "").split("/").map(Number);
  return n && d ? n / d : 0;
};

export async function probeAv(bytes: Uint8Array, sniffed: Sniffed): Promise<AvResult> {
  const caps = mediaCapabilities();
  if (!caps.ffprobe) return withoutProbe(bytes, sniffed);
  const dir = await mkdtemp(join(tmpdir(), "woolly-av-"));
  const path = join(dir, `input.${sniffed.ext}`);
  try {
    await writeFile(path, bytes);
    const probed = await run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path]);
    let info: Probe;
    try {
      info = JSON.parse(new TextDecoder().decode(probed.stdout)) as Probe;
    } catch {
      info = {};
    }
    if (probed.code !== 0 || !info.format) throw ApiError.unprocessable("File type of uploaded media could not be verified");
    const videoStream = info.streams?.find((s) => s.codec_type === "video" && s.width && s.height);
    const hasAudio = info.streams?.some((s) => s.codec_type === "audio") ?? false;
    const duration = Number(info.format.duration);
    const bitrate = Number(info.format.bit_rate);
    const common = {
      ...(Number.isFinite(duration) && { duration: Math.round(duration * 100) / 100 }),
      ...(Number.isFinite(bitrate) && { bitrate }),
    };
    // An MP4/WebM/Ogg with only sound is audio, whatever its container suggested (cover art is not video here).
    if (!videoStream || (sniffed.kind === "audio" && hasAudio)) {
      if (!hasAudio) throw ApiError.unprocessable("File type of uploaded media could not be verified");
      return { kind: "audio", original: common };
    }
    const width = videoStream.width!;
    const height = videoStream.height!;
    const fps = rate(videoStream.avg_frame_rate) || rate(videoStream.r_frame_rate);
    if (width * height > VIDEO_MATRIX_LIMIT) throw ApiError.unprocessable(`${width}x${height} videos are not supported`);
    if (Math.floor(fps) > VIDEO_FRAME_RATE_LIMIT) throw ApiError.unprocessable(`${Math.floor(fps)}fps videos are not supported`);
    const original = { width, height, frame_rate: videoStream.r_frame_rate ?? videoStream.avg_frame_rate, ...common };
    let frame: Uint8Array | undefined;
    if (caps.ffmpeg) {
      const grabbed = await run(["ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-f", "image2", "-c:v", "png", "pipe:1"]);
      if (grabbed.code === 0 && grabbed.stdout.length > 0) frame = grabbed.stdout;
    }
    return { kind: "video", original, frame };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ISO_CONTAINERS = new Set(["video/mp4", "video/quicktime", "audio/mp4"]);

/** What the container headers tell without ffprobe (MP4/QuickTime only); the sniffed kind otherwise. */
function withoutProbe(bytes: Uint8Array, sniffed: Sniffed): AvResult {
  const info = ISO_CONTAINERS.has(sniffed.contentType) ? readMp4(bytes) : undefined;
  if (!info) return { kind: sniffed.kind, original: null };
  const timing = info.duration ? { duration: info.duration, bitrate: Math.round((bytes.byteLength * 8) / info.duration) } : {};
  if (!info.video) {
    // Sound only: audio, as ffprobe would say; a file with no track we know of keeps its sniffed kind.
    return { kind: info.hasAudio ? "audio" : sniffed.kind, original: Object.keys(timing).length ? timing : null };
  }
  const { width, height } = info.video;
  if (width * height > VIDEO_MATRIX_LIMIT) throw ApiError.unprocessable(`${width}x${height} videos are not supported`);
  return { kind: "video", original: { width, height, ...timing } };
}
