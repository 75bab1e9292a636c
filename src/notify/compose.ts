/**
 * The text of task notification mails: who gets one, its subject and its body. Pure: the
 * task record and the file lists read from its log in, the message out. The wording
 * follows Baricadr's mails ("would be" for a dry run, "terminated prematurely").
 */
import type { AutoFreezeMail } from '../config/types.js';
import { isEmailAddress } from '../text/email.js';
import { formatSize } from '../text/size.js';
import type { Task } from '../store/types.js';
import type { TaskKindWords } from '../tasks/kind.js';
import { findTaskKind } from '../tasks/registry.js';

/** A task whose kind mails (the zombie clean-up mails nobody: its kind says `mailsNobody`). */
type WorkTask = Task & { readonly words: TaskKindWords };
import type { CutList, TaskFileLists } from './file-list.js';

/** Who a mail is for: the address given with the task, or `MAIL_ADMIN`. */
export type Audience = 'user' | 'admin';

/** A message ready for the mail repository. */
export interface ComposedMail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

/** Longest subject kept: a deep path must not make a header of kilobytes. */
const MAX_SUBJECT_CHARS = 200;
/** Longest error quoted: an rclone error can carry pages of output. */
const MAX_ERROR_CHARS = 8000;
const PREMATURE = 'terminated prematurely';


/**
 * Which audiences hear about this ended task: the user who gave an address hears about
 * every end; the admins about failures (not those on the user's own input) and about every
 * auto-freeze.
 *
 * @example
 * ```ts
 * audiencesFor(task, ['ops@example.org']); // ['user', 'admin'] for a failed task with an email
 * ```
 */
export function audiencesFor(
  task: Task,
  admins: readonly string[],
  how: { readonly onUserInput?: boolean; readonly autoFreezeMail?: AutoFreezeMail } = {},
): Audience[] {
  if (task.status !== 'finished' && task.status !== 'failed' && task.status !== 'cancelled') return [];
  if (!workTask(task)) return [];
  const audiences: Audience[] = [];
  if (task.email !== null && isEmailAddress(task.email)) audiences.push('user');
  // A failure on the user's own input (a typo'd path) is not the administrator's to act on.
  const adminFailure = task.status === 'failed' && !(how.onUserInput === true && task.origin === 'user');
  if (admins.length > 0 && (adminFailure || (task.origin === 'schedule' && scheduledSummaryWanted(task, how.autoFreezeMail)))) audiences.push('admin');
  return audiences;
}

/**
 * The repo's `auto_freeze_mail` (absent: `changes`) for a scheduled freeze that finished:
 * "No files were frozen" every night was noise (issue 15). Failures and cancellations are
 * always told.
 */
function scheduledSummaryWanted(task: Task, setting: AutoFreezeMail = 'changes'): boolean {
  if (task.status !== 'finished' || setting === 'always') return true;
  if (setting === 'never') return false;
  return (task.files ?? 0) > 0 || (task.unprotected ?? 0) > 0;
}

/**
 * Composes the mail for one audience of an ended task, or undefined when that audience
 * has nobody to write to (or the task has not ended).
 *
 * @param lists what the task's log says it did; undefined when the log is gone.
 * @example
 * ```ts
 * const mail = composeTaskMail(task, 'user', await readFileLists(logs, task.id, task), settings.mail.admins);
 * if (mail) await mailer.send(mail);
 * ```
 */
export function composeTaskMail(task: Task, audience: Audience, lists: TaskFileLists | undefined, admins: readonly string[]): ComposedMail | undefined {
  const work = workTask(task);
  if (!work || !audiencesFor(task, admins).includes(audience)) return undefined;
  const to = audience === 'user' ? [task.email!] : [...admins];
  const { subject, paragraphs } =
    task.status === 'finished' ? finished(work, audience, lists)
    : task.status === 'failed' ? failed(work, audience, lists)
    : cancelled(work, audience, lists);
  const text = ['Hello,', ...paragraphs, `Task: ${task.id}`, 'Cheers'].join('\n\n');
  return { to, subject: headerText(subject), text: `${text}\n` };
}

interface Parts {
  readonly subject: string;
  readonly paragraphs: string[];
}

/** With its kind's words, when its kind mails (a record of a kind this Glacis does not know mails nobody). */
function workTask(task: Task): WorkTask | undefined {
  const kind = findTaskKind(task.type);
  return kind && !kind.mailsNobody ? { ...task, words: kind.words } : undefined;
}


function finished(task: WorkTask, audience: Audience, lists: TaskFileLists | undefined): Parts {
  const verb = task.words;
  const dry = task.dryRun ? ' (DRY RUN)' : '';
  const path = bodyText(task.path);
  const scheduled = task.origin === 'schedule';
  const subject = scheduled
    ? `Glacis: auto-freeze${dry} of ${task.path}: ${files(task.files ?? 0)} ${verb.ed}, ${task.unprotected ?? 0} cold ${task.unprotected === 1 ? 'file' : 'files'} unprotected`
    : `Glacis: finished ${verb.ing}${dry} ${task.path}`;
  const intro = scheduled
    ? `The scheduled auto-freeze${dry} of ${path} has finished.`
    : audience === 'user'
      ? `As you asked, Glacis has finished ${verb.ing} the following path${dry}: ${path}`
      : `Glacis has finished ${verb.ing} the following path${dry}: ${path}`;
  const were = task.dryRun ? 'would be' : 'were';
  const count = task.files ?? lists?.done.total ?? 0;
  const size = formatSize(task.bytes ?? 0);
  const listing = count === 0
    ? `No files ${were} ${verb.ed}.`
    : `The following ${files(count)} ${were} ${verb.ed} (total size${verb.bytesMeaning === 'transferred' ? '' : ` ${verb.bytesMeaning}`}: ${size}):${listText(lists?.done)}`;
  return { subject, paragraphs: [intro, listing, ...unprotectedSection(task, lists)] };
}

function failed(task: WorkTask, audience: Audience, lists: TaskFileLists | undefined): Parts {
  const error = errorText(task.error ?? 'unknown error');
  const what = `${task.type} task on '${bodyText(task.path)}'`;
  const premature = error.startsWith(PREMATURE);
  const lead = audience === 'user' ? `Your Glacis ${what}` : `A Glacis ${what} (${requester(task)})`;
  // "terminated prematurely: <why>" is worded as Baricadr did, without saying it twice.
  const paragraphs = premature
    ? [`${lead} was terminated prematurely:`, error.slice(PREMATURE.length).replace(/^:\s*/, '') || 'its worker stopped']
    : [`${lead} failed, with the following error:`, error];
  paragraphs.push(...partialWork(task, lists));
  if (audience === 'user') paragraphs.push('Contact the administrator for more info.');
  return { subject: `Glacis: ${task.type} task on ${task.path} failed`, paragraphs };
}

function cancelled(task: WorkTask, audience: Audience, lists: TaskFileLists | undefined): Parts {
  const what = `${task.type} task on '${bodyText(task.path)}'`;
  const lead = audience === 'user' ? `Your Glacis ${what}` : `A Glacis ${what} (${requester(task)})`;
  const reason = errorText(task.error ?? 'cancelled by request');
  return {
    subject: `Glacis: ${task.type} task on ${task.path} cancelled`,
    paragraphs: [`${lead} was terminated prematurely: ${reason}.`, ...partialWork(task, lists)],
  };
}

/** What a task that did not finish had already done: for a freeze, files already deleted. */
function partialWork(task: WorkTask, lists: TaskFileLists | undefined): string[] {
  if (!lists || lists.done.total === 0) return [];
  const verb = task.words.ed;
  const were = task.dryRun ? 'would have been' : 'had been';
  return [`Before it stopped, ${files(lists.done.total)} ${were} ${verb}:${listText(lists.done)}`];
}

function unprotectedSection(task: Task, lists: TaskFileLists | undefined): string[] {
  if (task.type !== 'freeze') return [];
  const count = task.unprotected ?? lists?.unprotected.total ?? 0;
  if (count === 0) return task.origin === 'schedule' ? ['Every cold file is safe on the remote.'] : [];
  const [them, they] = count === 1 ? ['it', 'it exists'] : ['them', 'they exist'];
  return [
    `${count} cold ${count === 1 ? 'file' : 'files'} could not be frozen because the remote lacks ${them} or holds ${them} differently; ` +
      `${they} only here:${listText(lists?.unprotected)}`,
  ];
}

/** "1 file", "2 files". */
function files(count: number): string {
  return `${count} ${count === 1 ? 'file' : 'files'}`;
}

function requester(task: Task): string {
  if (task.origin === 'schedule') return 'started by the auto-freeze schedule';
  if (task.origin === 'watermark') return 'started by the watermark check: the disk was above high_watermark';
  return task.email ? `requested by ${task.email}` : 'requested without a mail address';
}

/** The shown names, one a line, and how many more there are. */
function listText(list: CutList | undefined): string {
  if (!list) return '\n\n  (the list is no longer available: the task log was removed)';
  const lines = list.shown.map((name) => `  ${bodyText(name)}`);
  const more = list.total - list.shown.length;
  if (more > 0) lines.push(`  … and ${more} more (see the task log)`);
  return lines.length > 0 ? `\n\n${lines.join('\n')}` : '';
}


/** A file name on one line: control characters (a newline is legal in a name) shown as `?`. */
function bodyText(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, '?');
}

/** An error keeps its lines, loses other control characters, and is cut when huge. */
function errorText(text: string): string {
  const clean = text.replace(/[\x00-\x09\x0b-\x1f\x7f]/g, '?');
  return clean.length > MAX_ERROR_CHARS ? `${clean.slice(0, MAX_ERROR_CHARS)}… (cut; see the task log)` : clean;
}

/** One header line: no CR or LF can start another header. */
function headerText(text: string): string {
  const line = bodyText(text);
  return line.length > MAX_SUBJECT_CHARS ? `${line.slice(0, MAX_SUBJECT_CHARS - 1)}…` : line;
}
