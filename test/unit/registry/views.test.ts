import { describe, expect, it } from 'vitest';
import { manifestUrlOf } from '../../../src/domains/registry/views.js';

describe('manifestUrlOf', () => {
  it.each(['aid:pubkey:Te5Up6s4zpbD_lGNLvZAXH3nY5OmFxFgbOcGybu1Olk', 'aid:p256:A-b_c.d~e', 'weird aid/with?chars#&é', '', '%3A'])(
    'encodes %j as encodeURIComponent does',
    (aid) => {
      expect(manifestUrlOf(aid)).toBe(`/api/registry/agents/${encodeURIComponent(aid)}/manifest`);
    },
  );
});
