/**
 * The images every account and the instance point at until someone uploads their own: Mastodon's
 * `/avatars/original/missing.png`, `/headers/original/missing.png` and the instance thumbnail. Clients
 * fetch these URLs like any other, so they must resolve to real PNGs. Each is drawn once with sharp (plain
 * grey at Mastodon's sizes) and kept in memory; should sharp be unavailable, a 1×1 grey PNG stands in.
 */
import { Elysia } from "elysia";
import { log } from "../infra/log";
import { loadSharp } from "../infra/sharp";

const GREY = "#d9e1e8";
const ONE_PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAADElEQVQImWO4+fAFAAU5AqOSnJggAAAAAElFTkSuQmCC",
  "base64",
);

export const DEFAULT_IMAGE_PATHS = {
  avatar: "/avatars/original/missing.png",
  header: "/headers/original/missing.png",
  thumbnail: "/images/preview.png",
} as const;

const SIZES: Record<keyof typeof DEFAULT_IMAGE_PATHS, { width: number; height: number }> = {
  avatar: { width: 400, height: 400 },
  header: { width: 1500, height: 500 },
  thumbnail: { width: 1200, height: 630 },
};

const drawn = new Map<string, Promise<Uint8Array>>();

function image(kind: keyof typeof DEFAULT_IMAGE_PATHS): Promise<Uint8Array> {
  let png = drawn.get(kind);
  if (!png) {
    png = loadSharp()
      .then((sharp) => sharp({ create: { ...SIZES[kind], channels: 3, background: GREY } }).png({ palette: true, compressionLevel: 9 }).toBuffer())
      .then((buffer) => new Uint8Array(buffer))
      .catch((error: unknown) => {
        log.warn("default image: sharp unavailable, serving a 1x1 PNG", { kind, error: (error as Error).message });
        return new Uint8Array(ONE_PIXEL);
      });
    drawn.set(kind, png);
  }
  return png;
}

export function defaultImageRoutes() {
  const app = new Elysia({ name: "default-images" });
  for (const kind of Object.keys(DEFAULT_IMAGE_PATHS) as (keyof typeof DEFAULT_IMAGE_PATHS)[]) {
    app.get(DEFAULT_IMAGE_PATHS[kind], async () =>
      new Response(await image(kind), { headers: { "content-type": "image/png", "cache-control": "public, max-age=86400" } }),
    );
  }
  return app;
}
