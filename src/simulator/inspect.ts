/**
 * The read-only view of the whole state (`sim.inspect()`, `GET /_sim/state`): per requester its
 * balance, HIT types, HITs with every assignment (accepted, returned and abandoned ones too),
 * bonuses, blocks, qualification types and grants; and the simulated workers. A deep copy, so
 * callers can keep it and compare it later.
 *
 * @module
 */
import type { Engine } from './engine.js';
import type { AccountView, SimulatorStateView } from './model.js';
import { formatCents } from './money.js';

export function inspectState(engine: Engine): SimulatorStateView {
  const { state } = engine;
  const accounts: Record<string, AccountView> = {};
  for (const a of state.accounts.values()) {
    accounts[a.accessKeyId] = {
      accessKeyId: a.accessKeyId,
      customerId: a.customerId,
      availableBalance: formatCents(engine.availableCents(a)),
      onHoldBalance: formatCents(a.onHoldCents),
      balanceCents: a.balanceCents,
      onHoldCents: a.onHoldCents,
      hitTypes: [],
      hits: [],
      bonusPayments: [...state.bonusesOfAccount(a.accessKeyId)],
      workerBlocks: [...state.blocksOf(a.accessKeyId).values()],
      qualificationTypes: [],
      qualifications: [],
      qualificationRequests: [],
    };
  }
  for (const t of state.hitTypes.values()) accounts[t.account]?.hitTypes.push(t);
  for (const h of [...state.hits.values()].sort((x, y) => x.seq - y.seq)) {
    accounts[h.account]?.hits.push({ ...h, assignments: [...state.allAssignmentsOf(h.hitId)] });
  }
  for (const q of state.qualificationTypes.values()) accounts[q.account]?.qualificationTypes.push(q);
  for (const g of state.grants.values()) {
    const owner = state.qualificationTypes.get(g.qualificationTypeId)?.account;
    if (owner !== undefined) accounts[owner]?.qualifications.push(g);
  }
  for (const r of [...state.qualificationRequests.values()].sort((x, y) => x.seq - y.seq))
    accounts[r.account]?.qualificationRequests.push(r);
  const workers = Object.fromEntries([...state.workers.values()].map((w) => [w.workerId, w]));
  return structuredClone({ nowMs: engine.now(), accounts, workers, notificationCount: state.notifications.length });
}
