/**
 * An S3-compatible bucket (AWS, R2, B2, MinIO, Garage…). Small files are one PutObject; larger ones go up
 * as a multipart upload of 16 MiB parts (aborted on failure, so no invisible parts are left billed).
 * Objects are public-read unless S3_PERMISSION says otherwise ("" sends no ACL: R2 and B2 refuse ACLs).
 * The SDK is imported on first use so roles that never touch media do not pay for loading it.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Config } from "../config";
import { assertValidKey, StorageError, type Body, type ByteRange, type ObjectInfo, type PutOptions, type Storage } from "./index";

type S3Config = NonNullable<Config["media"]["s3"]>;

const MiB = 1024 * 1024;
/** S3 allows at most 1000 keys per DeleteObjects call. */
const DELETE_BATCH = 1000;

export class S3Storage implements Storage {
  readonly kind = "s3" as const;
  private client?: Promise<{ client: S3Client; sdk: typeof import("@aws-sdk/client-s3") }>;
  /** Bodies up to this size go up in one request; above it, multipart with parts of this size (≥ 5 MiB). */
  readonly partSize: number;
  readonly instanceUrl: string;

  constructor(
    private readonly config: S3Config,
    options: { partSize?: number; instanceUrl?: string } = {},
  ) {
    this.partSize = Math.max(5 * MiB, options.partSize ?? 16 * MiB);
    this.instanceUrl = options.instanceUrl ?? "";
  }

  private connect() {
    this.client ??= import("@aws-sdk/client-s3").then((sdk) => {
      const { region, endpoint, forcePathStyle, accessKeyId, secretAccessKey } = this.config;
      const client = new sdk.S3Client({
        region,
        endpoint,
        forcePathStyle,
        credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
        // Only the checksums an operation requires: several S3-compatible stores reject the newer
        // flexible-checksum headers the SDK would otherwise add to every upload.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        maxAttempts: 3,
      });
      return { client, sdk };
    });
    return this.client;
  }

  private async send<T>(what: string, key: string, command: (sdk: typeof import("@aws-sdk/client-s3")) => unknown): Promise<T> {
    const { client, sdk } = await this.connect();
    try {
      return (await client.send(command(sdk) as never)) as T;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      throw new StorageError(`S3 ${what} ${key} failed${status ? ` (HTTP ${status})` : ""}: ${(error as Error).name}`, { cause: error });
    }
  }

  private acl(options: PutOptions) {
    return options.private || this.config.permission === "" ? undefined : (this.config.permission as never);
  }

  async put(key: string, body: Body, options: PutOptions): Promise<void> {
    assertValidKey(key);
    const parts = partsOf(body, this.partSize);
    const first = await parts.next();
    const second = first.done ? undefined : await parts.next();
    const common = { Bucket: this.config.bucket, Key: key, ContentType: options.contentType, CacheControl: options.cacheControl, ACL: this.acl(options) };
    if (first.done || !second || second.done) {
      const bytes = first.done ? new Uint8Array(0) : first.value;
      await this.send("PutObject", key, (sdk) => new sdk.PutObjectCommand({ ...common, Body: bytes, ContentLength: bytes.byteLength }));
      return;
    }
    const created = await this.send<{ UploadId?: string }>("CreateMultipartUpload", key, (sdk) => new sdk.CreateMultipartUploadCommand(common));
    const uploadId = created.UploadId!;
    try {
      const done: { ETag?: string; PartNumber: number }[] = [];
      let number = 0;
      const upload = async (bytes: Uint8Array) => {
        const PartNumber = ++number;
        const result = await this.send<{ ETag?: string }>("UploadPart", key, (sdk) =>
          new sdk.UploadPartCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId, PartNumber, Body: bytes, ContentLength: bytes.byteLength }),
        );
        done.push({ ETag: result.ETag, PartNumber });
      };
      await upload(first.value);
      await upload(second.value);
      for (let next = await parts.next(); !next.done; next = await parts.next()) await upload(next.value);
      await this.send("CompleteMultipartUpload", key, (sdk) =>
        new sdk.CompleteMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: done } }),
      );
    } catch (error) {
      await this.send("AbortMultipartUpload", key, (sdk) =>
        new sdk.AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId }),
      ).catch(() => {});
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    try {
      const out = await this.send<{ ContentLength?: number; ContentType?: string; LastModified?: Date; ETag?: string }>("HeadObject", key, (sdk) =>
        new sdk.HeadObjectCommand({ Bucket: this.config.bucket, Key: key }),
      );
      return { size: out.ContentLength ?? 0, contentType: out.ContentType ?? "application/octet-stream", lastModified: out.LastModified ?? new Date(0), etag: out.ETag ?? "" };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | undefined> {
    assertValidKey(key);
    try {
      const out = await this.send<{ Body?: { transformToWebStream(): ReadableStream<Uint8Array> } }>("GetObject", key, (sdk) =>
        new sdk.GetObjectCommand({ Bucket: this.config.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      return out.Body?.transformToWebStream();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    for (let at = 0; at < keys.length; at += DELETE_BATCH) {
      const batch = keys.slice(at, at + DELETE_BATCH);
      const out = await this.send<{ Errors?: { Key?: string; Code?: string }[] }>("DeleteObjects", batch[0]!, (sdk) =>
        new sdk.DeleteObjectsCommand({ Bucket: this.config.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = out.Errors?.filter((e) => e.Code !== "NoSuchKey") ?? [];
      if (failed.length) throw new StorageError(`S3 DeleteObjects failed for ${failed.length} key(s): ${failed[0]!.Code}`);
    }
  }

  url(key: string): string {
    const { aliasHost, endpoint, bucket, region, forcePathStyle } = this.config;
    if (aliasHost) return `https://${aliasHost}/${key}`;
    if (endpoint) {
      const base = new URL(endpoint);
      const path = base.pathname.replace(/\/+$/, "");
      return forcePathStyle ? `${base.protocol}//${base.host}${path}/${bucket}/${key}` : `${base.protocol}//${bucket}.${base.host}${path}/${key}`;
    }
    return forcePathStyle ? `https://s3.${region}.amazonaws.com/${bucket}/${key}` : `https://${bucket}.s3.${region}.amazonaws.com/${key}`;
  }
}

function isNotFound(error: unknown): boolean {
  const cause = error instanceof StorageError ? (error.cause as { name?: string; $metadata?: { httpStatusCode?: number } }) : undefined;
  return cause?.$metadata?.httpStatusCode === 404 || cause?.name === "NotFound" || cause?.name === "NoSuchKey";
}

/** The body cut into parts of exactly `size` bytes (the last may be shorter), read lazily. */
async function* partsOf(body: Body, size: number): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    for (let at = 0; at < body.byteLength; at += size) yield body.subarray(at, at + size);
    return;
  }
  if (body instanceof Blob) {
    for (let at = 0; at < body.size; at += size) yield await body.slice(at, at + size).bytes();
    return;
  }
  const reader = body.getReader();
  let buffer = new Uint8Array(size);
  let filled = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let offset = 0;
    while (offset < value.byteLength) {
      const take = Math.min(size - filled, value.byteLength - offset);
      buffer.set(value.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        yield buffer;
        buffer = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}
