// Driving a real terminal for the end-to-end tests: a tmux session per test, keys with
// send-keys, the screen with capture-pane. Skipped by the callers when tmux is not installed.
import { spawnSync } from 'node:child_process';
import { waitFor } from '../scenarios/cluster.mjs';

/** True when tmux is installed (.ci/run installs it). */
export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** A tmux session of `width` × `height` running `command` (a shell line). */
export function tmuxSession(name: string, width: number, height: number) {
  const tmux = (...args: string[]): string => {
    const r = spawnSync('tmux', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    start: (command: string): string => tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), command),
    /** The visible screen, as the user sees it (lines not joined). */
    screen: (): string => tmux('capture-pane', '-p', '-t', name),
    /** The pane with its history, wrapped lines joined. */
    history: (): string => tmux('capture-pane', '-p', '-J', '-t', name, '-S', '-500'),
    /** Key names (`Enter`, `Down`, `Escape`) or, with literal, text typed as it is. */
    keys: (...k: string[]): string => tmux('send-keys', '-t', name, ...k),
    type: (text: string): string => tmux('send-keys', '-t', name, '-l', text),
    /** Pastes `text` as a terminal delivers a paste: one chunk (tmux turns the LF into CR, as terminals do). */
    paste(text: string): void {
      tmux('set-buffer', '-b', name, '--', text);
      tmux('paste-buffer', '-b', name, '-d', '-t', name);
    },
    kill: (): void => void spawnSync('tmux', ['kill-session', '-t', name]),
    /**
     * Waits until the visible screen (or, with `scope` `history`, the pane with its history,
     * wrapped lines joined: for a command whose output scrolls) matches `re`; returns it.
     */
    async until(what: string, re: RegExp, timeoutMs = 60_000, scope: 'screen' | 'history' = 'screen'): Promise<string> {
      return (await waitFor(`${what} on the terminal`, () => {
        const s = scope === 'history' ? tmux('capture-pane', '-p', '-J', '-t', name, '-S', '-500') : tmux('capture-pane', '-p', '-t', name);
        return re.test(s) ? s : undefined;
      }, timeoutMs))!;
    },
  };
}
