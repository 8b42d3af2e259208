import { describe, expect, it } from 'vitest';
import { HitRate, renderPage, type PageReads } from '../../../src/lib/rendered-page.js';
import { VersionCache } from '../../../src/lib/version-cache.js';

interface Row {
  key: string;
  version: string;
}

/** A fake table of rows `k0…` at version `v`, with every read and render recorded. */
function table(count: number, version = '1') {
  const rows = new Map(Array.from({ length: count }, (_, i) => [`k${i}`, { key: `k${i}`, version }]));
  const calls = { listKeys: 0, fetched: [] as string[][], readPage: 0, rendered: [] as string[] };
  const reads = (from: number, size: number): PageReads<Row> => {
    const page = () => [...rows.values()].slice(from, from + size + 1);
    return {
      listKeys: async () => {
        calls.listKeys++;
        return page().map(({ key, version: v }) => ({ key, version: v }));
      },
      fetchRows: async (keys) => {
        calls.fetched.push([...keys]);
        return keys.flatMap((key) => rows.get(key) ?? []).reverse();
      },
      readPage: async () => {
        calls.readPage++;
        return page();
      },
      keyOf: (row) => ({ key: row.key, version: row.version }),
      render: (row) => {
        calls.rendered.push(row.key);
        return `{"k":"${row.key}","v":"${row.version}"}`;
      },
    };
  };
  return { rows, calls, reads };
}

const newCache = () => new VersionCache<string>(1_000, 60_000);

describe('renderPage', () => {
  it('lists keys first, reads and renders only the misses, in page order, with hasMore', async () => {
    const { calls, reads } = table(10);
    const cache = newCache();
    const rate = new HitRate();
    const first = await renderPage(cache, rate, 3, reads(0, 3));
    expect(first).toEqual({ items: ['{"k":"k0","v":"1"}', '{"k":"k1","v":"1"}', '{"k":"k2","v":"1"}'], hasMore: true });
    expect(calls.fetched).toEqual([['k0', 'k1', 'k2']]);

    const second = await renderPage(cache, rate, 4, reads(1, 4));
    expect(second.items.map((item) => JSON.parse(item).k)).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(calls.fetched).toEqual([['k0', 'k1', 'k2'], ['k3', 'k4']]);
    expect(calls.rendered).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(calls.readPage).toBe(0);

    const last = await renderPage(cache, rate, 5, reads(7, 5));
    expect(last.hasMore).toBe(false);
    expect(last.items).toHaveLength(3);
  });

  it('serves a changed row at its new version, and reads the page whole when a row changes between the reads', async () => {
    const { rows, calls, reads } = table(3);
    const cache = newCache();
    const rate = new HitRate();
    await renderPage(cache, rate, 3, reads(0, 3));
    rows.set('k1', { key: 'k1', version: '2' });
    expect((await renderPage(cache, rate, 3, reads(0, 3))).items[1]).toBe('{"k":"k1","v":"2"}');

    // Listed at version 3, at version 4 by the time it is fetched: one whole read instead.
    rows.set('k1', { key: 'k1', version: '3' });
    const racing = reads(0, 3);
    const listKeys = racing.listKeys;
    racing.listKeys = async () => {
      const listed = await listKeys();
      rows.set('k1', { key: 'k1', version: '4' });
      return listed;
    };
    const before = calls.readPage;
    expect((await renderPage(cache, rate, 3, racing)).items[1]).toBe('{"k":"k1","v":"4"}');
    expect(calls.readPage).toBe(before + 1);
    expect(cache.get('k1', '3')).toBeUndefined();
  });

  it('reads the page whole once most rows miss, rendering only rows not seen, and lists keys again once they hit', async () => {
    const { calls, reads } = table(200);
    const cache = newCache();
    const rate = new HitRate();
    // Pages of misses: after a few the key listing (a second round trip) is skipped.
    for (let page = 0; page < 6; page++) await renderPage(cache, rate, 10, reads(page * 10, 10));
    expect(rate.listKeysFirst).toBe(false);
    const listings = calls.listKeys;
    const rendered = calls.rendered.length;
    await renderPage(cache, rate, 10, reads(100, 10));
    expect(calls.listKeys).toBe(listings);
    expect(calls.rendered.length).toBe(rendered + 10);

    // The same page again: every row is a hit, nothing is rendered, and hits bring the listing back.
    for (let i = 0; i < 5; i++) expect((await renderPage(cache, rate, 10, reads(100, 10))).items).toHaveLength(10);
    expect(calls.rendered.length).toBe(rendered + 10);
    expect(rate.listKeysFirst).toBe(true);
    const before = calls.listKeys;
    await renderPage(cache, rate, 10, reads(100, 10));
    expect(calls.listKeys).toBe(before + 1);
    expect(calls.readPage).toBeGreaterThan(0);
  });
});

describe('HitRate', () => {
  it('starts by listing keys first and follows the recent share of hits', () => {
    const rate = new HitRate();
    expect(rate.listKeysFirst).toBe(true);
    rate.record(0, 10);
    rate.record(0, 10);
    expect(rate.listKeysFirst).toBe(true);
    rate.record(0, 10);
    rate.record(0, 10);
    expect(rate.listKeysFirst).toBe(false);
    rate.record(0, 0);
    expect(rate.listKeysFirst).toBe(false);
    for (let i = 0; i < 4; i++) rate.record(10, 10);
    expect(rate.listKeysFirst).toBe(true);
  });
});
