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

/** A labelled horizontal bar: hand-written SVG, no chart library. */
export function UsageBar({ used, size, label }: { used: number; size: number; label: string }) {
  const share = size > 0 ? Math.min(1, used / size) : 0;
  return (
    <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label={label}>
      <rect class="bar-free" x="0" y="0" width="100" height="6" rx="1" />
      <rect class={share > 0.9 ? 'bar-used bar-warn' : 'bar-used'} x="0" y="0" width={(share * 100).toFixed(2)} height="6" rx="1" />
    </svg>
  );
}

export function Filesystem({ filesystem }: { filesystem: { size: number; used: number; free: number } | null }) {
  if (!filesystem) return <p class="muted">The local directory cannot be read.</p>;
  const label = `${bytes(filesystem.used)} used, ${bytes(filesystem.free)} free of ${bytes(filesystem.size)}`;
  return (
    <div class="usage">
      {/* As df's Use%: of what users can have (used + available); the rest is reserved for root. */}
      <UsageBar used={filesystem.used} size={filesystem.used + filesystem.free} label={`Disk usage: ${label}`} />
      <p class="usage-text">
        <span class="swatch swatch-used" aria-hidden="true" /> {bytes(filesystem.used)} used
        <span class="swatch swatch-free" aria-hidden="true" /> {bytes(filesystem.free)} free
        <span class="muted"> of {bytes(filesystem.size)}</span>
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
