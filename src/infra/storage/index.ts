/**
 * Where media files live: a local directory served by the web role at /system/…, or an S3-compatible bucket
 * served by its own host (or a CDN alias). Everything else in the code sees only this interface.
 */
import type { Config } from "../config";
import { LocalStorage } from "./local";
import { S3Storage } from "./s3";

export type Body = Uint8Array | Blob | ReadableStream<Uint8Array>;

export interface PutOptions {
  contentType: string;
  cacheControl?: string;
  /**
   * Not for the public: raw uploads waiting for processing (they may still carry EXIF GPS). S3 sends no
   * public-read ACL for them and the local /system/ route never serves their prefix.
   */
  private?: boolean;
}

export interface ObjectInfo {
  size: number;
  contentType: string;
  lastModified: Date;
  etag: string;
}

/** An inclusive byte range, as HTTP's Range header counts. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface Storage {
  readonly kind: "local" | "s3";
  put(key: string, body: Body, options: PutOptions): Promise<void>;
  /** undefined when there is no such object. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** The bytes (or a range of them); undefined when there is no such object. */
  get(key: string, range?: ByteRange): Promise<Blob | ReadableStream<Uint8Array> | undefined>;
  /** Removes what exists; missing keys are not an error. */
  delete(keys: string[]): Promise<void>;
  /** The public URL of a key. */
  url(key: string): string;
  /**
   * This instance's own base URL, for media URLs the web role answers itself rather than the store: the
   * remote media proxy (/media_proxy/…). Empty for a store made without one (tests of the store alone).
   */
  readonly instanceUrl: string;
}

/** Any failure talking to the store (permissions, network, a refused signature). */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageError";
  }
}

/** Public media is immutable (every new file gets a new random key), so caches may keep it for a year. */
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";

/** Key prefixes the public may read. Anything else (tmp/ uploads) is never served by /system/. */
export const PUBLIC_PREFIXES = ["media_attachments/", "accounts/", "custom_emojis/", "site_uploads/", "cache/"];

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** Keys are relative slash-separated names of safe segments: no "..", no leading "/", no dot-files. */
export function isValidKey(key: string): boolean {
  if (key.length === 0 || key.length > 512) return false;
  return key.split("/").every((segment) => SEGMENT.test(segment));
}

export function assertValidKey(key: string): void {
  if (!isValidKey(key)) throw new StorageError(`invalid storage key ${JSON.stringify(key.slice(0, 100))}`);
}

export function readRange(body: Uint8Array, range?: ByteRange): Uint8Array {
  return range ? body.subarray(range.start, range.end + 1) : body;
}

const CONTENT_TYPES: Record<string, string> = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp", avif: "image/avif",
  heic: "image/heic", heif: "image/heif", mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", webm: "video/webm",
  ogv: "video/ogg", ogg: "audio/ogg", oga: "audio/ogg", mp3: "audio/mpeg", m4a: "audio/mp4", wav: "audio/wav",
  flac: "audio/flac", aac: "audio/aac",
};

/** Content-Type from a key's extension (keys always carry the extension we chose from the sniffed type). */
export function contentTypeForKey(key: string): string {
  const ext = key.slice(key.lastIndexOf(".") + 1).toLowerCase();
  return CONTENT_TYPES[ext] ?? "application/octet-stream";
}

type StorageConfig = Pick<Config, "media" | "baseUrl">;
const cache = new WeakMap<StorageConfig, Storage>();

/** The storage this configuration selects, one instance per configuration object. */
export function storageFor(config: StorageConfig): Storage {
  let storage = cache.get(config);
  if (!storage) {
    storage = config.media.s3 ? new S3Storage(config.media.s3, { instanceUrl: config.baseUrl }) : new LocalStorage(config.media.rootPath, config.baseUrl);
    cache.set(config, storage);
  }
  return storage;
}
