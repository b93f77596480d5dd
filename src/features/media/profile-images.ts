/**
 * Avatars and headers: the same guards as every upload (type sniffed from the bytes, pixel bombs refused
 * before decoding, EXIF dropped), then Mastodon's sizes — avatars cropped to 400×400, headers to 1500×500.
 * An animated GIF stays animated, with a still first frame for `avatar_static` / `header_static`.
 */
import { ApiError } from "../../infra/errors";
import { loadSharp } from "../../infra/sharp";
import { inspectImage, undecodable } from "./images";
import { sniff } from "./sniff";

/** Mastodon's limit for avatar and header files. */
export const PROFILE_IMAGE_SIZE_LIMIT = 8 * 1024 * 1024;

export const PROFILE_IMAGE_SIZES = { avatar: { width: 400, height: 400 }, header: { width: 1500, height: 500 } } as const;
export type ProfileImageKind = keyof typeof PROFILE_IMAGE_SIZES;

export interface ProfileImage {
  data: Uint8Array;
  contentType: string;
  ext: string;
  /** The first frame, for animated images only. */
  still?: { data: Uint8Array; contentType: string; ext: string };
}

export async function processProfileImage(bytes: Uint8Array, kind: ProfileImageKind): Promise<ProfileImage> {
  if (bytes.byteLength > PROFILE_IMAGE_SIZE_LIMIT) throw ApiError.unprocessable(`Validation failed: ${kind === "avatar" ? "Avatar" : "Header"} must be less than 8 MB`);
  const sniffed = sniff(bytes);
  if (!sniffed || sniffed.kind !== "image") throw ApiError.unprocessable(`Validation failed: ${kind === "avatar" ? "Avatar" : "Header"} content type is invalid`);
  const header = await inspectImage(bytes, sniffed);
  const sharp = await loadSharp();
  const { width, height } = PROFILE_IMAGE_SIZES[kind];
  const open = (animated: boolean) =>
    sharp(bytes, { failOn: "error", animated, pages: animated ? -1 : 1 })
      .rotate()
      .resize(width, height, { fit: "cover", withoutEnlargement: true });
  try {
    const still = async () => {
      const png = header.hasAlpha;
      const out = png ? await open(false).png().toBuffer() : await open(false).jpeg({ quality: 90, mozjpeg: true }).toBuffer();
      return { data: new Uint8Array(out), contentType: png ? "image/png" : "image/jpeg", ext: png ? "png" : "jpg" };
    };
    if (header.pages > 1 && sniffed.contentType === "image/gif") {
      const gif = await open(true).gif().toBuffer();
      // The still of an animation is always a PNG, so its key can be derived from the GIF's (see stillKeyOf).
      const first = await open(false).png().toBuffer();
      return { data: new Uint8Array(gif), contentType: "image/gif", ext: "gif", still: { data: new Uint8Array(first), contentType: "image/png", ext: "png" } };
    }
    return still();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw undecodable();
  }
}

/** Where an animated avatar's still lives: next to it, under static/, as PNG. Undefined for still images. */
export function stillKeyOf(key: string): string | undefined {
  return key.endsWith(".gif") ? key.replace("/original/", "/static/").replace(/\.gif$/, ".png") : undefined;
}
