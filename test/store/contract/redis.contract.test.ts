// The one store contract against the shared store, on a real redis-server started for this file.
// Each test gets its own key prefix (as two deployments sharing one Redis would); `reopen` closes the
// store and connects again with the same prefix: everything committed must be there.
import { afterAll, beforeAll } from '@jest/globals';
import type { ManualClock } from '../../../src/clock.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { RedisServer } from '../../support/redis-server.js';
import { storeContract, type ContractOptions, type ContractStore } from './store-contract.js';

let server: RedisServer;
const prefixes = new WeakMap<ContractStore, string>();
let n = 0;

beforeAll(async () => {
  server = await RedisServer.start();
});

afterAll(async () => {
  await server.dispose();
});

async function openWith(prefix: string, clock: ManualClock, opts: ContractOptions): Promise<ContractStore> {
  const store = await RedisStore.open({
    url: server.url,
    keyPrefix: prefix,
    clock,
    ...opts,
    pendingCallTtlMs: opts.dedupTtlMs,
    outboxTtlMs: opts.dedupTtlMs,
  });
  prefixes.set(store, prefix);
  return store;
}

storeContract({
  name: 'redis',
  open: (clock, opts) => openWith(`contract-${process.pid}-${++n}:`, clock, opts),
  reopen: async (store, clock, opts) => {
    const prefix = prefixes.get(store);
    if (prefix === undefined) throw new Error('not a store this factory opened');
    await store.close();
    return openWith(prefix, clock, opts);
  },
});
