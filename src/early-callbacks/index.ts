/**
 * Early callbacks: results the upstream reports for a task the gateway has not stored. Everything
 * the task object and the cron need of them comes through this module.
 *
 * Glossary (these names, and no others, for these ideas):
 * - early callback: a callback for a task whose object has not stored it. Usually the upstream
 *   simply called back before the create finished storing the task.
 * - held callback: an early callback kept by the task's object (./held-callbacks.ts) until the
 *   task is stored, then applied if its callback URL is the task's; dropped after a day.
 * - held-callback budget: the one Durable Object bounding what all task objects hold, by count
 *   and bytes (./held-callback-budget.ts), and listing held callbacks due a check by the cron.
 * - timed-out create: a create the upstream did not answer within UPSTREAM_TIMEOUT_MS (the client
 *   got 504). The upstream may have made the task anyway; its record in the create journal
 *   (src/db/create-records.ts), under the ref of the callback URL minted for it, stays for it.
 * - adopt: start a task from a timed-out create, once its held callback names the task and the
 *   upstream confirms the task was made for that create's prompt (./adoption.ts). The create's
 *   Idempotency-Key adopts the task too (./key-adoption.ts), so a retry replays it.
 *
 * The flow (docs/design.md draws it):
 *   callback, task not stored ─► hold gate (D1: whose URL is this?) ─► room in the budget ─► held
 *   create registers the task ─► held result applied, room given back
 *   or: create timed out ─► cron: budget lists the hold as due ─► upstream confirms ─► adopted
 */
export { Adoption } from "./adoption";
export { giveBackHoldRoom, type HeldCheckVerdict, settleUnadopted, tendHeldCallbacks } from "./budget-room";
export { HeldCallbackBudget, heldCallbackBudget } from "./held-callback-budget";
export { type HeldCallback, HeldCallbacks } from "./held-callbacks";
export { type EarlyVerdict, type HoldingObject, holdEarlyCallback } from "./hold";
export type { CallbackTokenKind } from "./hold-gate";
export { KeyAdoption, type KeyToTell } from "./key-adoption";
export { ADOPTION_WINDOW_MS } from "./upstream-confirmation";
