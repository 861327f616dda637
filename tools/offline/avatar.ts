/**
 * Small generated avatars for the demo tutors: a 96×96 PNG of a head-and-shoulders silhouette on a
 * coloured disc. Deterministic (same colours, same bytes), so re-seeding uploads identical images.
 */
import { crc32, deflateSync } from "node:zlib";

const SIZE = 96;

type Rgb = [number, number, number];

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Encodes RGBA rows (8-bit, no filtering) as a PNG. */
function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]) {
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 4);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 4);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit depth, RGBA, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const hex = (h: string): Rgb => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16)) as Rgb;

/** A silhouette in `fg` on a disc of `bg`, transparent outside the disc. */
export function avatarPng(bg: string, fg: string): Uint8Array<ArrayBuffer> {
  const back = hex(bg);
  const front = hex(fg);
  const c = SIZE / 2;
  const bytes = png(SIZE, SIZE, (x, y) => {
    const inDisc = (x - c) ** 2 + (y - c) ** 2 <= c * c;
    if (!inDisc) return [0, 0, 0, 0];
    const head = (x - c) ** 2 + (y - 38) ** 2 <= 17 ** 2;
    const shoulders = ((x - c) / 32) ** 2 + ((y - 92) / 30) ** 2 <= 1;
    return [...(head || shoulders ? front : back), 255];
  });
  return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}
