/**
 * What an MP4 / QuickTime file says about itself in its headers, read without ffprobe: the movie duration
 * (moov/mvhd) and, per track, its kind (mdia/hdlr: vide, soun) and display size (tkhd). This is what av.ts
 * can still tell clients when ffmpeg is not installed (Mastodon's meta.original width/height/duration).
 *
 * The input is hostile: every box size is checked against its parent, the walk is depth- and count-bounded,
 * and anything malformed yields undefined (the file is then stored with no meta, as before).
 */

export interface Mp4Info {
  /** Seconds, when the movie header gives a timescale. */
  duration?: number;
  video?: { width: number; height: number };
  hasAudio: boolean;
}

interface Box {
  type: string;
  start: number; // first byte of the payload
  end: number; // one past the last byte
}

const MAX_BOXES = 4096;

/** The boxes between start and end, or up to and including the first of type `stop`. */
function boxes(view: DataView, start: number, end: number, budget: { left: number }, stop?: string): Box[] | undefined {
  const out: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    if (--budget.left < 0) return undefined;
    let size = view.getUint32(at);
    const type = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return undefined;
      const large = view.getBigUint64(at + 8);
      if (large > BigInt(end - at)) return undefined;
      size = Number(large);
      header = 16;
    } else if (size === 0) {
      size = end - at; // to the end of the enclosing box
    }
    if (size < header || at + size > end) return undefined;
    out.push({ type, start: at + header, end: at + size });
    if (type === stop) return out;
    at += size;
  }
  return out;
}

function mvhdDuration(view: DataView, box: Box): number | undefined {
  const version = view.getUint8(box.start);
  const need = version === 1 ? 32 : 20;
  if (box.end - box.start < need) return undefined;
  const timescale = view.getUint32(box.start + (version === 1 ? 20 : 12));
  const duration = version === 1 ? Number(view.getBigUint64(box.start + 24)) : view.getUint32(box.start + 16);
  if (!timescale || !Number.isFinite(duration)) return undefined;
  return Math.round((duration / timescale) * 100) / 100;
}

function tkhdSize(view: DataView, box: Box): { width: number; height: number } | undefined {
  const version = view.getUint8(box.start);
  // version/flags 4, times and ids (v0: 20 bytes, v1: 32), reserved 8, layer/group/volume/reserved 8, matrix 36.
  const at = box.start + 4 + (version === 1 ? 32 : 20) + 8 + 8 + 36;
  if (at + 8 > box.end) return undefined;
  const width = Math.round(view.getUint32(at) / 65536);
  const height = Math.round(view.getUint32(at + 4) / 65536);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

function handlerType(view: DataView, box: Box): string | undefined {
  if (box.end - box.start < 12) return undefined;
  const at = box.start + 8;
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

export function readMp4(bytes: Uint8Array): Mp4Info | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const budget = { left: MAX_BOXES };
  // Stop at moov: a fragmented MP4 has thousands of moof/mdat boxes after it.
  const top = boxes(view, 0, bytes.byteLength, budget, "moov");
  const moov = top?.find((b) => b.type === "moov");
  if (!moov) return undefined;
  const inMoov = boxes(view, moov.start, moov.end, budget);
  if (!inMoov) return undefined;
  const info: Mp4Info = { hasAudio: false };
  const mvhd = inMoov.find((b) => b.type === "mvhd");
  if (mvhd) info.duration = mvhdDuration(view, mvhd);
  for (const trak of inMoov.filter((b) => b.type === "trak")) {
    const inTrak = boxes(view, trak.start, trak.end, budget);
    if (!inTrak) return undefined;
    const mdia = inTrak.find((b) => b.type === "mdia");
    const inMdia = mdia && boxes(view, mdia.start, mdia.end, budget);
    const hdlr = inMdia?.find((b) => b.type === "hdlr");
    const kind = hdlr && handlerType(view, hdlr);
    if (kind === "soun") info.hasAudio = true;
    if (kind === "vide" && !info.video) {
      const tkhd = inTrak.find((b) => b.type === "tkhd");
      const size = tkhd && tkhdSize(view, tkhd);
      if (size) info.video = size;
    }
  }
  return info;
}
