import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import type { ManualClock } from '../../../src/clock.js';
import { SqlitePersistence } from '../../../src/store/sqlite-persistence.js';
import { StagedStore } from '../../../src/store/staged-store.js';
import { storeContract, type ContractOptions, type ContractStore } from './store-contract.js';

const root = mkdtempSync(join(tmpdir(), 'vie-sqlite-contract-'));
const dirs = new WeakMap<ContractStore, string>();
let n = 0;

function openOn(dir: string, clock: ManualClock, opts: ContractOptions): ContractStore {
  const store = new StagedStore(SqlitePersistence.open({ dir, sync: 'full' }), { clock, ...opts });
  dirs.set(store, dir);
  return store;
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

storeContract({
  name: 'sqlite',
  open: (clock, opts) => Promise.resolve(openOn(join(root, `store-${++n}`), clock, opts)),
  reopen: async (store, clock, opts) => {
    const dir = dirs.get(store);
    if (dir === undefined) throw new Error('not a store this factory opened');
    await store.close();
    return openOn(dir, clock, opts);
  },
});
