import { useState } from 'preact/hooks';
import { api, hasEnded, type TaskJson } from './api.js';
import { ErrorNote, Loading, Scroll, StatusBadge } from './components.js';
import { bytes, when } from './format.js';
import { useLoad } from './hooks.js';
import { go, href, taskHref } from './route.js';

/** The part of the OpenAPI document the filters read: the task's status and type lists. */
interface TaskWords {
  readonly components: { readonly schemas: { readonly Task: { readonly properties: Record<'status' | 'type', { readonly enum: string[] }> } } };
}

/**
 * The statuses and kinds the server knows, from its OpenAPI document (generated from the
 * registry of task kinds): a new kind shows in the filters with no edit here.
 */
async function taskWords(): Promise<{ statuses: string[]; types: string[] }> {
  const { properties } = (await api<TaskWords>('GET', '/openapi.json')).components.schemas.Task;
  return { statuses: properties.status.enum, types: properties.type.enum };
}
const PAGE = 50;

function newestFirst(tasks: TaskJson[]): TaskJson[] {
  return [...tasks].sort((a, b) => new Date(b.created).getTime() - new Date(a.created).getTime());
}

export function TasksPage({ params }: { params: URLSearchParams }) {
  const status = params.get('status') ?? '';
  const type = params.get('type') ?? '';
  const path = params.get('path') ?? '';
  const query = new URLSearchParams();
  if (status) query.set('status', status);
  if (type) query.set('type', type);
  if (path) query.set('path', path);
  const key = query.toString();
  // Refreshed every 3 s while a listed task has not ended.
  const tasks = useLoad(
    async () => newestFirst(await api<TaskJson[]>('GET', `/tasks${key ? `?${key}` : ''}`)),
    key,
    3000,
    (list) => list.some((task) => !hasEnded(task)),
  );
  const words = useLoad(taskWords, 'task-words');
  const [shown, setShown] = useState(PAGE);
  const [pathInput, setPathInput] = useState(path);

  const apply = (changes: Record<string, string>): void => {
    setShown(PAGE);
    go(href('tasks', { status, type, path, ...changes }));
  };

  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">Tasks</h1>
      <form
        class="filters"
        aria-label="Filter the tasks"
        onSubmit={(event) => {
          event.preventDefault();
          apply({ path: pathInput.trim() });
        }}
      >
        <label>
          Status
          <select value={status} onChange={(event) => apply({ status: event.currentTarget.value })}>
            <option value="">any</option>
            {words.data?.statuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select value={type} onChange={(event) => apply({ type: event.currentTarget.value })}>
            <option value="">any</option>
            {words.data?.types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          Path (and below)
          <input type="text" value={pathInput} placeholder="/data/lab1" onInput={(event) => setPathInput(event.currentTarget.value)} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote message={tasks.error} />
      {!tasks.data && !tasks.error && <Loading what="the tasks" />}
      {tasks.data && tasks.data.length === 0 && <p>No task{key ? ' matches these filters' : ' yet'}.</p>}
      {tasks.data && tasks.data.length > 0 && (
        <>
          <Scroll label="Tasks, newest first">
            <table class="tasks">
              <caption class="visually-hidden">Tasks, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Created</th>
                  <th scope="col">Task</th>
                  <th scope="col">Path</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Files
                  </th>
                  <th scope="col" class="num">
                    Bytes
                  </th>
                </tr>
              </thead>
              <tbody>
                {tasks.data.slice(0, shown).map((task) => (
                  <tr key={task.task_id}>
                    <td>{when(task.created)}</td>
                    <td>
                      <a href={taskHref(task.task_id)}>
                        {task.type}
                        {task.dry_run ? ' (dry run)' : ''}
                        <span class="visually-hidden"> {task.task_id}</span>
                      </a>
                    </td>
                    <td class="path">{task.path}</td>
                    <td>
                      <StatusBadge status={task.status} />
                    </td>
                    <td class="num">{task.files ?? ''}</td>
                    <td class="num">{task.bytes === null ? '' : bytes(task.bytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
          {tasks.data.length > shown && (
            <button type="button" class="secondary" onClick={() => setShown(shown + PAGE)}>
              Show {Math.min(PAGE, tasks.data.length - shown)} more (of {tasks.data.length})
            </button>
          )}
        </>
      )}
    </section>
  );
}
