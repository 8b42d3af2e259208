import { describe, expect, it } from 'vitest';
import { TileCache, withInterior, type TileKey, type TileReader } from '../../../src/lib/tlog/index.js';

const row = (hashes: number, fill: number): Uint8Array => new Uint8Array(hashes * 32).fill(fill);

/** A reader over fixed rows that records every key it was asked for. */
function counting(rows: Map<string, Uint8Array>) {
  const asked: string[] = [];
  const read: TileReader = async (keys: TileKey[]) =>
    keys.map((k) => {
      asked.push(`${k.level}/${k.index}/${k.width}`);
      return rows.get(`${k.level}/${k.index}`)!;
    });
  return { read, asked };
}

describe('TileCache', () => {
  it('answers a tile it has read from memory, and reads only the misses', async () => {
    const source = counting(new Map([['0/0', row(256, 1)], ['0/1', row(100, 2)]]));
    const read = new TileCache(1 << 20).reader(source.read);
    await read([{ level: 0, index: 0, width: 256 }]);
    const [full, partial] = await read([{ level: 0, index: 0, width: 256 }, { level: 0, index: 1, width: 40 }]);
    expect(source.asked).toEqual(['0/0/256', '0/1/40']);
    expect(Buffer.from(full!).equals(Buffer.from(withInterior(row(256, 1))))).toBe(true); // a full tile is kept with its interior
    expect(partial!.length).toBe(40 * 32); // a grown row is cut to the width asked
    await read([{ level: 0, index: 1, width: 40 }, { level: 0, index: 1, width: 41 }]);
    expect(source.asked).toEqual(['0/0/256', '0/1/40', '0/1/41']); // another width is another tile
  });

  it('stays within its byte bound, evicting the least recently used tile', async () => {
    const rows = new Map(Array.from({ length: 10 }, (_, i) => [`0/${i}`, row(256, i)] as const));
    const source = counting(rows);
    const FULL = (256 + 254) * 32; // a full tile with its interior
    const cache = new TileCache(3 * FULL);
    const read = cache.reader(source.read);
    for (const index of [0, 1, 2]) await read([{ level: 0, index, width: 256 }]);
    await read([{ level: 0, index: 0, width: 256 }]); // 0 is now the most recent
    await read([{ level: 0, index: 3, width: 256 }]); // evicts 1
    expect(cache.bytes).toBe(3 * FULL);
    source.asked.length = 0;
    await read([{ level: 0, index: 0, width: 256 }, { level: 0, index: 2, width: 256 }, { level: 0, index: 1, width: 256 }]);
    expect(source.asked).toEqual(['0/1/256']);
    expect(cache.bytes).toBe(3 * FULL);
  });

  it('counts a tile read twice at once only once', async () => {
    const source = counting(new Map([['1/0', row(7, 9)]]));
    const cache = new TileCache(1 << 20);
    const read = cache.reader(source.read);
    await Promise.all([read([{ level: 1, index: 0, width: 7 }]), read([{ level: 1, index: 0, width: 7 }])]);
    expect(cache.bytes).toBe(7 * 32);
  });
});
