/**
 * The Mephisto-shaped provider API over the runtime (see `provider.ts`).
 *
 * @module
 */
export { EndpointMTurkProvider, MTurkProvider, SandboxMTurkProvider, type ProviderOptions } from './provider.js';
export { MTurkRequester, type AvailableBudget } from './requester.js';
export { MTurkWorker, type AsRequester, type BonusInput, type BonusResult } from './worker.js';
export { MTurkAgent, MTurkUnit } from './unit.js';
export type { ProviderResult } from './result.js';
