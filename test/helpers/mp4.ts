/** Minimal MP4 (ISO-BMFF) files built box by box, for the media tests (no ffmpeg needed to make them). */

/** An ISO-BMFF box: 32-bit size, four-character type, payload. */
export function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const size = 8 + payload.reduce((sum, p) => sum + p.byteLength, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  out.set(new TextEncoder().encode(type), 4);
  let at = 8;
  for (const p of payload) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const u32s = (...values: number[]) => {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setUint32(i * 4, v));
  return out;
};

export function mvhd(timescale: number, duration: number): Uint8Array {
  // version 0 + flags, creation, modification, timescale, duration, then rate/volume/matrix/… (zeros)
  return box("mvhd", u32s(0, 0, 0, timescale, duration), new Uint8Array(80));
}

export function tkhd(width: number, height: number, version: 0 | 1 = 0): Uint8Array {
  const times = version === 1 ? new Uint8Array(32) : new Uint8Array(20);
  return box("tkhd", u32s(version << 24), times, new Uint8Array(8 + 8 + 36), u32s(width * 65536, height * 65536));
}

export const hdlr = (kind: string) => box("hdlr", u32s(0, 0), new TextEncoder().encode(kind), new Uint8Array(12), new Uint8Array([0]));
export const ftyp = () => box("ftyp", new TextEncoder().encode("isom"), u32s(512), new TextEncoder().encode("isomiso2"));

export function movie(options: { width?: number; height?: number; seconds?: number; audio?: boolean; video?: boolean; mdat?: number } = {}): Uint8Array {
  const tracks: Uint8Array[] = [];
  if (options.video !== false) tracks.push(box("trak", tkhd(options.width ?? 1280, options.height ?? 720), box("mdia", hdlr("vide"))));
  if (options.audio) tracks.push(box("trak", tkhd(0, 0), box("mdia", hdlr("soun"))));
  // moov after mdat, as cameras write it (not "fast start"): it must still be found.
  const parts = [ftyp(), box("mdat", new Uint8Array(options.mdat ?? 1024)), box("moov", mvhd(1000, Math.round((options.seconds ?? 12.34) * 1000)), ...tracks)];
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
