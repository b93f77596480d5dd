/**
 * Files under PAPERCLIP_ROOT_PATH. Writes go to a temporary name in the same directory and are renamed
 * into place, so a reader (or a crash) never sees half a file. Keys are checked before they touch a path.
 */
import { mkdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { assertValidKey, contentTypeForKey, StorageError, type Body, type ByteRange, type ObjectInfo, type PutOptions, type Storage } from "./index";

export class LocalStorage implements Storage {
  readonly kind = "local" as const;
  private readonly root: string;

  constructor(
    rootPath: string,
    private readonly baseUrl: string,
  ) {
    this.root = resolve(rootPath);
  }

  get instanceUrl(): string {
    return this.baseUrl;
  }

  /** The file for a key; throws for a key that is not valid or would leave the root. */
  path(key: string): string {
    assertValidKey(key);
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new StorageError("storage key leaves the media root");
    return path;
  }

  async put(key: string, body: Body, _options: PutOptions): Promise<void> {
    const path = this.path(key);
    const temporary = `${path}.${crypto.randomUUID()}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await Bun.write(temporary, body instanceof Uint8Array ? body : await new Response(body).bytes());
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new StorageError(`could not write ${key}: ${(error as Error).message}`, { cause: error });
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.path(key));
      if (!info.isFile()) return undefined;
      return {
        size: info.size,
        contentType: contentTypeForKey(key),
        lastModified: info.mtime,
        etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Blob | undefined> {
    if (!(await this.head(key))) return undefined;
    const file = Bun.file(this.path(key));
    return range ? file.slice(range.start, range.end + 1) : file;
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) {
      const path = this.path(key);
      await rm(path, { force: true });
      await this.pruneEmptyDirectories(dirname(path));
    }
  }

  url(key: string): string {
    return `${this.baseUrl}/system/${key}`;
  }

  /** Remove now-empty parent directories up to the root, so deleted media leaves no directory litter. */
  private async pruneEmptyDirectories(dir: string): Promise<void> {
    while (dir.startsWith(this.root + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop
      }
      dir = dirname(dir);
    }
  }
}
