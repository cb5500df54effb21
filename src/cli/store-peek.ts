/**
 * A look at a store another process holds (a `hitstate run` in progress), for `hitstate status`:
 * the store opened read-only, which takes no lock, writes nothing and reads the last committed
 * state, so every figure belongs to the same write of the running process.
 *
 * @module
 */
import { openStore, type Store, type StoreEnvironment } from '../store/index.js';

/**
 * Opens the store of `environment` under `storeDir` read-only, hands it to `read`, and closes it.
 *
 * @throws HitstateError of the read-only open (`HST_ERR_STORE_CORRUPT`, `HST_ERR_STORE_VERSION_NEWER`...).
 */
export async function peekStore<T>(
  storeDir: string,
  environment: StoreEnvironment,
  read: (store: Store) => T,
): Promise<T> {
  const store = await openStore({ dir: storeDir, environment, readOnly: true });
  try {
    return read(store);
  } finally {
    await store.close();
  }
}
