/**
 * What a freeze kept, and why, counted for its task log's summary: a freeze that frees
 * nothing must say why (issue 15: all files recently read, and the log only said the
 * remote held files "not in the local tree", which was wrong too).
 */
import { plural } from '../text/plural.js';
import type { KeepReason } from './decision.js';

/** Why a file a freeze looked at was kept: {@link decideFreeze}'s reasons, and the freeze's own. */
export type KeptReason =
  | KeepReason
  /** Matched an `exclude` pattern: never judged. */
  | 'excluded'
  /** The remote holds two entries under its name. */
  | 'ambiguous'
  /** Read or changed locally, or changed on the remote, between the judgement and the deletion. */
  | 'changed';

export type KeptCounts = Record<KeptReason, number>;

/** Every reason, in the order the summary lists them. */
export const KEPT_REASONS: readonly KeptReason[] = ['recent', 'excluded', 'missing-remote', 'differs', 'newer-locally', 'unverifiable', 'ambiguous', 'changed'];

export function noneKept(): KeptCounts {
  return { recent: 0, excluded: 0, 'missing-remote': 0, differs: 0, 'newer-locally': 0, unverifiable: 0, ambiguous: 0, changed: 0 };
}

/** What a freeze did, as its summary says it. */
export interface FreezeOutcome {
  readonly dryRun: boolean;
  readonly files: number;
  readonly bytes: number;
  readonly kept: Readonly<KeptCounts>;
  readonly freezeAgeDays: number;
  readonly force: boolean;
}

/**
 * The summary line of a freeze, and a hint line when nothing was freed because of age.
 *
 * @example
 * ```ts
 * freezeSummary({ dryRun: false, files: 0, bytes: 0, kept: { ...noneKept(), recent: 3 }, freezeAgeDays: 180, force: false });
 * // ['froze 0 files, 0 bytes; kept 3 files: 3 read within freeze_age (180 days)',
 * //  'hint: nothing was frozen because 3 files were read within freeze_age (180 days); force: true sets the age aside']
 * ```
 */
export function freezeSummary(outcome: FreezeOutcome): string[] {
  const hint = freezeHint(outcome);
  return hint === undefined ? [freezeSummaryLine(outcome)] : [freezeSummaryLine(outcome), hint];
}

/** The summary line alone: the rendering of a freeze's summary event (store/task-events.ts). */
export function freezeSummaryLine(outcome: Omit<FreezeOutcome, 'force'>): string {
  const { kept } = outcome;
  const age = ageWords(outcome.freezeAgeDays);
  const label: Record<KeptReason, string> = {
    recent: `read within ${age}`,
    excluded: 'excluded',
    'missing-remote': 'missing on the remote',
    differs: 'different on the remote',
    'newer-locally': 'changed locally since the last backup',
    unverifiable: 'with no hash to compare with the remote',
    ambiguous: 'held twice on the remote',
    changed: 'read or changed during the run',
  };
  const total = KEPT_REASONS.reduce((sum, reason) => sum + kept[reason], 0);
  const reasons = KEPT_REASONS.filter((reason) => kept[reason] > 0).map((reason) => `${kept[reason]} ${label[reason]}`);
  const verb = outcome.dryRun ? 'would freeze' : 'froze';
  return `${verb} ${plural(outcome.files, 'file')}, ${plural(outcome.bytes, 'byte')}${total > 0 ? `; kept ${plural(total, 'file')}: ${reasons.join(', ')}` : ''}`;
}

/** Why nothing was frozen, when age alone is the reason and `force` was not given. */
export function freezeHint(outcome: FreezeOutcome): string | undefined {
  if (outcome.files !== 0 || outcome.kept.recent === 0 || outcome.force) return undefined;
  return `hint: nothing was frozen because ${plural(outcome.kept.recent, 'file was', 'files were')} read within ${ageWords(outcome.freezeAgeDays)}; force: true sets the age aside`;
}

function ageWords(days: number): string {
  return `freeze_age (${plural(days, 'day')})`;
}
