import { MemoryPersistence } from '../../../src/store/memory-persistence.js';
import { StagedStore } from '../../../src/store/staged-store.js';
import { storeContract } from './store-contract.js';

storeContract({
  name: 'memory',
  open: (clock, opts) => Promise.resolve(new StagedStore(new MemoryPersistence(), { clock, ...opts })),
});
