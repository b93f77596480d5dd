/**
 * The image pipeline: a sniffed upload in, a stored-ready original, a small preview and a blurhash out.
 *
 * - Pixel bombs are refused from the header (sharp's metadata() reads no pixel data), before any decoding,
 *   and `limitInputPixels` guards every decode besides.
 * - `.rotate()` applies the EXIF orientation; nothing but the ICC profile is written back (sharp drops EXIF,
 *   XMP and IPTC unless asked), so GPS coordinates never survive.
 * - Originals above ORIGINAL_PIXELS are scaled down; previews fit SMALL_PIXELS. Both keep the aspect ratio.
 * - HEIC/HEIF/AVIF become JPEG (PNG when they have transparency), as Mastodon converts them. This sharp build
 *   decodes AVIF but not HEVC-coded HEIC (its libheif has no HEVC decoder): such files fail to decode → 422.
 * - Animated GIF/WebP stay animated images (type "image"). Mastodon turns GIFs into MP4 "gifv" with
 *   ffmpeg; that conversion is not done here.
 * - The blurhash is computed from the small preview scaled to at most 32×32, with Mastodon's 4×4 components.
 */
import { encode as encodeBlurhash } from "blurhash";
import { ApiError } from "../../infra/errors";
import { loadSharp, type Sharp } from "../../infra/sharp";
import { GIF_MATRIX_LIMIT, IMAGE_MATRIX_LIMIT, ORIGINAL_PIXELS, SMALL_PIXELS } from "./limits";
import type { Sniffed } from "./sniff";

type SharpInstance = ReturnType<Sharp>;

export interface ImageVariant {
  data: Uint8Array;
  contentType: string;
  ext: string;
  width: number;
  height: number;
}

export interface ProcessedImage {
  original: ImageVariant;
  small: ImageVariant;
  blurhash: string;
  animated: boolean;
}

export interface Geometry {
  width: number;
  height: number;
  size: string;
  aspect: number;
}

export const geometry = (v: { width: number; height: number }): Geometry => ({
  width: v.width,
  height: v.height,
  size: `${v.width}x${v.height}`,
  aspect: v.width / v.height,
});

/** Mastodon's answer when a file claims to be an image but cannot be decoded. */
export const undecodable = () => ApiError.unprocessable("File type of uploaded media could not be verified");

type OutputFormat = "jpeg" | "png" | "webp" | "gif";
const CONTENT_TYPES: Record<OutputFormat, [string, string]> = {
  jpeg: ["image/jpeg", "jpg"],
  png: ["image/png", "png"],
  webp: ["image/webp", "webp"],
  gif: ["image/gif", "gif"],
};

interface Header {
  width: number;
  height: number;
  pages: number;
  hasAlpha: boolean;
}

/**
 * Dimensions from the header only, with the pixel limits applied. Cheap enough to run inside a request
 * (v2 uploads check this before queueing, so a bomb is a 422, not a failed job).
 */
export async function inspectImage(bytes: Uint8Array, sniffed: Sniffed): Promise<Header> {
  const sharp = await loadSharp();
  let meta: Awaited<ReturnType<SharpInstance["metadata"]>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: IMAGE_MATRIX_LIMIT, animated: true }).metadata();
  } catch (error) {
    if (/pixel limit/i.test((error as Error).message)) throw tooLarge();
    throw undecodable();
  }
  const width = meta.width ?? 0;
  const pages = meta.pages ?? 1;
  // With animated: true, height is all frames stacked; pageHeight is one frame.
  const frameHeight = meta.pageHeight ?? (meta.height ?? 0) / pages;
  if (!width || !frameHeight) throw undecodable();
  if (width * frameHeight * pages > IMAGE_MATRIX_LIMIT) throw tooLarge();
  if (pages > 1 && width * frameHeight > GIF_MATRIX_LIMIT) throw tooLarge();
  if (sniffed.contentType === "image/gif" && width * frameHeight > IMAGE_MATRIX_LIMIT) throw tooLarge();
  // EXIF orientations 5–8 turn the picture a quarter: report what will be shown, as .rotate() produces it.
  const turned = (meta.orientation ?? 1) >= 5;
  return { width: turned ? frameHeight : width, height: turned ? width : frameHeight, pages, hasAlpha: meta.hasAlpha ?? false };
}

const tooLarge = () => ApiError.unprocessable("Validation failed: File dimensions are too large");

/** Scale (w, h) down to at most `pixels`, keeping the aspect ratio; never up. */
export function fitPixels(width: number, height: number, pixels: number): { width: number; height: number } {
  if (width * height <= pixels) return { width, height };
  const scale = Math.sqrt(pixels / (width * height));
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

function outputFormats(sniffed: Sniffed, header: Header): { original: OutputFormat; small: OutputFormat } {
  const converted: OutputFormat = header.hasAlpha ? "png" : "jpeg";
  switch (sniffed.contentType) {
    case "image/jpeg":
      return { original: "jpeg", small: "jpeg" };
    case "image/png":
      return { original: "png", small: "png" };
    case "image/webp":
      return { original: "webp", small: "webp" };
    case "image/gif":
      return { original: "gif", small: "png" }; // the preview is the first frame, a still
    default:
      return { original: converted, small: converted }; // heic, heif, avif
  }
}

/**
 * "original": the large re-encode, where Huffman-table optimisation (a second pass over every coefficient)
 * costs ~30 % of the time for 5–7.5 % fewer bytes (bench/media.ts, docs/benchmarks.md). Originals are
 * opened one at a time, previews in every timeline, so only previews get the optimised tables.
 */
type Role = "original" | "small";

function encode(pipeline: SharpInstance, format: OutputFormat, role: Role): SharpInstance {
  // Quality 90 as Mastodon's convert options; keepIccProfile keeps colours right and drops all other metadata.
  const kept = pipeline.keepIccProfile();
  switch (format) {
    case "jpeg":
      return kept.jpeg({ quality: 90, optimiseCoding: role === "small" });
    case "png":
      return kept.png();
    case "webp":
      return kept.webp({ quality: 90 });
    case "gif":
      return kept.gif();
  }
}

async function render(pipeline: SharpInstance, format: OutputFormat, role: Role): Promise<ImageVariant> {
  const { data, info } = await encode(pipeline, format, role).toBuffer({ resolveWithObject: true });
  const [contentType, ext] = CONTENT_TYPES[format];
  const height = info.pageHeight ?? info.height;
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), contentType, ext, width: info.width, height };
}

/** Full processing of an image upload. Throws ApiError 422 for anything that is not a decodable image. */
export async function processImage(bytes: Uint8Array, sniffed: Sniffed): Promise<ProcessedImage> {
  const header = await inspectImage(bytes, sniffed);
  const sharp = await loadSharp();
  const animated = header.pages > 1;
  const formats = outputFormats(sniffed, header);
  // failOn "error": truncated or corrupt data is refused; mere warnings (odd but decodable files) are not.
  const open = (asAnimation: boolean) =>
    sharp(bytes, { limitInputPixels: IMAGE_MATRIX_LIMIT, failOn: "error", animated: asAnimation }).rotate();
  try {
    if (animated) {
      const original = await render(open(true), formats.original, "original");
      const small = await makeSmall(bytes, formats.small, true);
      return { original, small, blurhash: await blurhashOf(small.data), animated };
    }
    // libvips streams decode → resize → encode, so the original costs one pass over the upload. The preview
    // is made from that (smaller, already oriented) original: JPEG shrink-on-load makes it cheap. Measured:
    // faster than decoding once into a raw buffer and encoding both from it (bench/media.ts).
    const target = fitPixels(header.width, header.height, ORIGINAL_PIXELS);
    let pipeline = open(false);
    // Mitchell rather than lanczos3: ~7 % less CPU on a 12 MP original, and no visible difference at the
    // mild scale factors originals get (≥ 0.5 for anything up to 33 MP).
    if (target.width !== header.width || target.height !== header.height)
      pipeline = pipeline.resize(target.width, target.height, { fit: "inside", kernel: "mitchell" });
    const original = await render(pipeline, formats.original, "original");
    const small = await makeSmall(original.data, formats.small, false);
    return { original, small, blurhash: await blurhashOf(small.data), animated };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (/pixel limit/i.test((error as Error).message)) throw tooLarge();
    throw undecodable();
  }
}

/** `orient`: apply EXIF orientation (false when `bytes` is our own, already oriented, original). */
async function makeSmall(bytes: Uint8Array, format: OutputFormat, orient: boolean): Promise<ImageVariant> {
  const sharp = await loadSharp();
  // Page 0 only: the preview of an animation is its first frame.
  const input = sharp(bytes, { limitInputPixels: IMAGE_MATRIX_LIMIT, failOn: "error", pages: 1 });
  const base = orient ? input.rotate() : input;
  const meta = await sharp(bytes, { limitInputPixels: IMAGE_MATRIX_LIMIT, pages: 1 }).metadata();
  const oriented = orient && (meta.orientation ?? 1) >= 5;
  const width = oriented ? meta.height! : meta.width!;
  const height = oriented ? meta.width! : meta.height!;
  const target = fitPixels(width, height, SMALL_PIXELS);
  return render(base.resize(target.width, target.height, { fit: "inside" }), format, "small");
}

/** A custom preview (for audio and video): any accepted still image, made small. */
export async function processThumbnail(bytes: Uint8Array, sniffed: Sniffed): Promise<{ small: ImageVariant; blurhash: string }> {
  const header = await inspectImage(bytes, sniffed);
  try {
    const format = outputFormats(sniffed, header).small;
    const small = await makeSmall(bytes, format, true);
    return { small, blurhash: await blurhashOf(small.data) };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw undecodable();
  }
}

export async function blurhashOf(bytes: Uint8Array): Promise<string> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(bytes, { pages: 1 })
    .resize(32, 32, { fit: "inside" })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return encodeBlurhash(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, 4, 4);
}
