import type { ComponentChildren } from 'preact';
import { bytes } from './format.js';

export function ErrorNote({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

/** Watermarks, percent of the filesystem (of used + free, as df's Use%). */
export interface Watermarks {
  readonly high: number;
  readonly low: number;
}

/** A labelled horizontal bar: hand-written SVG, no chart library; watermarks drawn as marks across it. */
export function UsageBar({ used, size, label, marks }: { used: number; size: number; label: string; marks?: Watermarks | undefined }) {
  const share = size > 0 ? Math.min(1, used / size) : 0;
  const warn = marks ? share * 100 > marks.high : share > 0.9;
  return (
    <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label={label}>
      <rect class="bar-free" x="0" y="0" width="100" height="6" rx="1" />
      <rect class={warn ? 'bar-used bar-warn' : 'bar-used'} x="0" y="0" width={(share * 100).toFixed(2)} height="6" rx="1" />
      {marks && (
        <>
          <rect class="mark-low" x={(Math.min(100, marks.low) - 0.4).toFixed(2)} y="0" width="0.8" height="6" />
          <rect class="mark-high" x={(Math.min(100, marks.high) - 0.4).toFixed(2)} y="0" width="0.8" height="6" />
        </>
      )}
    </svg>
  );
}

export function Filesystem({
  filesystem,
  frozen,
  marks,
}: {
  filesystem: { size: number; used: number; free: number } | null;
  frozen?: { files: number; bytes: number };
  marks?: Watermarks | undefined;
}) {
  const frozenText = frozen && frozen.files > 0 ? `${bytes(frozen.bytes)} frozen (${frozen.files.toLocaleString('en')} ${frozen.files === 1 ? 'file' : 'files'}, on the remote only)` : undefined;
  if (!filesystem) return <p class="muted">The local directory cannot be read.{frozenText ? ` ${frozenText}.` : ''}</p>;
  const room = filesystem.used + filesystem.free;
  const label = `${bytes(filesystem.used)} used, ${bytes(filesystem.free)} free of ${bytes(filesystem.size)}`;
  const percent = room > 0 ? Math.round((filesystem.used / room) * 100) : 0;
  const markText = marks ? `; watermarks: high ${marks.high} %, low ${marks.low} %` : '';
  return (
    <div class="usage">
      {/* As df's Use%: of what users can have (used + available); the rest is reserved for root. */}
      <UsageBar used={filesystem.used} size={room} label={`Disk usage: ${label} (${percent} %)${markText}`} marks={marks} />
      <p class="usage-text">
        <span class="swatch swatch-used" aria-hidden="true" /> {bytes(filesystem.used)} used
        <span class="swatch swatch-free" aria-hidden="true" /> {bytes(filesystem.free)} free
        <span class="muted"> of {bytes(filesystem.size)}</span>
        {frozenText && (
          <span class="frozen-beside" data-testid="frozen-beside">
            <span class="swatch swatch-frozen" aria-hidden="true" /> {frozenText}
          </span>
        )}
      </p>
    </div>
  );
}

/** A table that scrolls sideways on a narrow screen, reachable by keyboard. */
export function Scroll({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

const STATE_TEXT: Readonly<Record<string, string>> = {
  local: 'local',
  frozen: 'frozen (remote only)',
  local_only: 'local only (unprotected)',
};

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge state-${state}`}>{STATE_TEXT[state] ?? state}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}
