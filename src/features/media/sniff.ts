/**
 * What a file really is, from its first bytes. The file name and the client's Content-Type are never
 * consulted: a script named cat.png must not reach an image decoder, and an SVG (which can carry script)
 * is not an accepted type at all. Returns undefined for anything we do not accept.
 */
export type MediaKind = "image" | "video" | "audio";

export interface Sniffed {
  kind: MediaKind;
  contentType: string;
  /** Extension for the stored file; always ours, never the client's. */
  ext: string;
}

const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
const startsWith = (bytes: Uint8Array, signature: number[], at = 0) => signature.every((b, i) => bytes[at + i] === b);

const image = (contentType: string, ext: string): Sniffed => ({ kind: "image", contentType, ext });
const video = (contentType: string, ext: string): Sniffed => ({ kind: "video", contentType, ext });
const audio = (contentType: string, ext: string): Sniffed => ({ kind: "audio", contentType, ext });

export function sniff(bytes: Uint8Array): Sniffed | undefined {
  if (bytes.length < 12) return undefined;
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return image("image/jpeg", "jpg");
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return image("image/png", "png");
  const head6 = ascii(bytes, 0, 6);
  if (head6 === "GIF87a" || head6 === "GIF89a") return image("image/gif", "gif");
  if (ascii(bytes, 0, 4) === "RIFF") {
    const form = ascii(bytes, 8, 4);
    if (form === "WEBP") return image("image/webp", "webp");
    if (form === "WAVE") return audio("audio/wav", "wav");
    return undefined;
  }
  if (ascii(bytes, 4, 4) === "ftyp") return isoBmff(bytes);
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) {
    // EBML: WebM declares DocType "webm"; plain Matroska (.mkv) is not an accepted type.
    return findAscii(bytes, "webm", 64) ? video("video/webm", "webm") : undefined;
  }
  if (ascii(bytes, 0, 4) === "OggS") {
    // The first page carries the first codec header: Theora means video, Vorbis/Opus/FLAC mean audio.
    return findAscii(bytes, "theora", 128) ? video("video/ogg", "ogv") : audio("audio/ogg", "ogg");
  }
  if (ascii(bytes, 0, 4) === "fLaC") return audio("audio/flac", "flac");
  if (ascii(bytes, 0, 3) === "ID3") return audio("audio/mpeg", "mp3");
  if (bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0) {
    // An MPEG audio frame sync. Layer bits 00 with the ADTS marker mean AAC; otherwise MP3 (layers I–III).
    const layer = (bytes[1]! >> 1) & 0x03;
    if (layer === 0) return (bytes[1]! & 0xf6) === 0xf0 ? audio("audio/aac", "aac") : undefined;
    return audio("audio/mpeg", "mp3");
  }
  return undefined;
}

/** ISO base media files (MP4, MOV, M4A, 3GP, AVIF, HEIC) name their flavour in the ftyp box's brands. */
function isoBmff(bytes: Uint8Array): Sniffed | undefined {
  const boxSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const end = Math.min(bytes.length, Math.max(16, boxSize));
  const major = ascii(bytes, 8, 4);
  const brands = [major];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, 4));
  const has = (...names: string[]) => names.some((n) => brands.includes(n));
  if (major === "avif" || major === "avis") return image("image/avif", "avif");
  if (has("heic", "heix", "heim", "heis", "hevc", "hevx")) return image("image/heic", "heic");
  if (has("avif")) return image("image/avif", "avif");
  if (major === "mif1" || major === "msf1") return image("image/heif", "heif");
  if (major === "qt  ") return video("video/quicktime", "mov");
  if (major === "M4A " || major === "M4B ") return audio("audio/mp4", "m4a");
  if (major.startsWith("3g")) return video("video/mp4", "mp4"); // 3GPP video plays as MP4
  if (has("isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "dash", "MSNV", "f4v ")) return video("video/mp4", "mp4");
  return undefined;
}

function findAscii(bytes: Uint8Array, needle: string, within: number): boolean {
  return ascii(bytes, 0, Math.min(within, bytes.length)).includes(needle);
}
