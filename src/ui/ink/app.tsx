/**
 * The interactive troubleshooter (`sts-doctor ui`): the StatefulSets in scope, refreshed live
 * from a {@link LiveSource}; Enter opens one's diagnosis (root causes first, consequences folded
 * under them, evidence folded until expanded); `r` runs the guided recovery of the selected
 * root cause through a {@link RecoveryDriver} (the same plans, confirmations, dry run,
 * preconditions and audit as `sts-doctor recover`), then shows the pods coming back.
 *
 * Everything shown is computed by the CLI's own code: `diagnose` (src/diagnosis.ts) over each
 * snapshot, `rootCauses`/`foldedFinding` (rules/causes.ts), the text report's pieces
 * (report/text.ts) and `renderPlan`; cluster text passes through report/sanitize.ts first.
 * The prompts are the recovery prompts' components (./components.tsx). Loaded lazily by
 * src/commands/ui.ts only: no headless command loads this module.
 *
 * Keys: ↑/↓ (j/k) move, Enter opens (in a diagnosis: folds/unfolds the evidence, also `e`),
 * `r` recovers, `/` filters the list, Esc goes back, `q` quits (exit 0), Ctrl+C exits 130.
 */
import { Box, Text, render, useApp, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useReducer, useRef, useState, type ReactElement } from 'react';
import { diagnoseAll } from '../../commands/diagnose.js';
import type { Diagnosis } from '../../diagnosis.js';
import type { Plan } from '../../recovery/plan.js';
import { renderPlan } from '../../recovery/plan.js';
import { displayWidth, indentWrap, wrapCommand } from '../../report/layout.js';
import { colors, findingsOf, overview, replicaTable, rootCauseBlock, statefulSetHeader } from '../../report/text.js';
import { sanitizeDeep, sanitizeText } from '../../report/sanitize.js';
import { foldedFinding, rootCauses, type RootCause } from '../../rules/causes.js';
import type { Finding } from '../../rules/types.js';
import type { Snapshot } from '../../snapshot/types.js';
import { formatReplicaCounts } from '../../snapshot/view.js';
import type { RecoveryDriver, StatefulSetRef } from '../driver.js';
import type { LiveError, LiveSource } from '../live.js';
import { Confirm, Select, TypeName } from './components.js';

/** Exit code when the app is left with Ctrl+C (128 + SIGINT), as `wait` and `recover`. */
export const EXIT_INTERRUPTED = 130;

export interface AppProps {
  source: LiveSource;
  recovery: RecoveryDriver;
  /** What the list shows, for the title: `namespace demo`, `all namespaces`. */
  scope: string;
  /** `-A`: the list spans namespaces. */
  allNamespaces: boolean;
  /** Called once with the exit code when the user leaves (q: 0, Ctrl+C: 130). */
  onExit: (code: number) => void;
}

type View =
  | { kind: 'list' }
  | { kind: 'detail' }
  | { kind: 'choose'; finding: Finding }
  | { kind: 'busy'; title: string; lines: string[] }
  | { kind: 'confirm'; plan: Plan }
  | { kind: 'message'; title: string; lines: string[] }
  | { kind: 'live'; plan: Plan; started: number; lines: string[] };

/** What the app shows and where the user is (one mutable object: see App). */
interface UiState {
  view: View;
  live?: Live;
  error?: LiveError;
  /** Selected row of the (filtered) list. */
  index: number;
  filter: string;
  filtering: boolean;
  /** The StatefulSet opened (`namespace/name`). */
  selected?: string;
  /** Selected root cause of the diagnosis. */
  rootIndex: number;
  /** Root causes whose evidence is unfolded. */
  expanded: Set<number>;
  /** Lines the diagnosis is scrolled past the selected root cause's first line (PgDn/space, PgUp). */
  scroll: number;
}

/** The state derived from one delivery of the source. */
interface Live {
  /** Diagnosis as computed (recovery reads it). */
  raw: Diagnosis;
  /** The same, sanitised (what is drawn). */
  shown: Diagnosis;
  at: number;
}

/**
 * The plan's text (recovery/plan.ts renderPlan) laid out in `width` columns by the report's layout
 * engine: each line wrapped under its own indent and bullet, commands split so they can be pasted.
 */
export function wrapPlan(text: string, width: number): string {
  return text
    .trimEnd()
    .split('\n')
    .flatMap((line) => {
      const m = /^(\s*)(\$ |[•!→] |\d+\. )?(.*)$/.exec(line)!;
      const lead = `${m[1]}${m[2] ?? ''}`;
      if (m[2] === '$ ') return wrapCommand(m[3]!, width, lead);
      return indentWrap(m[3]!, width, lead, ' '.repeat(displayWidth(lead)));
    })
    .join('\n');
}

const keyOf = (s: { namespace: string; name: string }): string => `${s.namespace}/${s.name}`;

/**
 * The list's filter after `text` was typed into it: printable ASCII is added, a carriage return
 * (Enter) ends the typing with the filter kept, anything else is dropped. `text` may be several
 * keys read at once.
 */
function typedFilter(filter: string, text: string): { filter: string; filtering: boolean; index: 0 } {
  const enter = text.indexOf('\r');
  const typed = (enter >= 0 ? text.slice(0, enter) : text).replace(/[^\x20-\x7e]/g, '');
  return { filter: filter + typed, filtering: enter < 0, index: 0 };
}

function useColumns(): { width: number; rows: number } {
  const { stdout } = useStdout();
  const get = () => ({ width: Math.max(40, stdout.columns || 80), rows: Math.max(10, stdout.rows || 24) });
  const [size, setSize] = useState(get);
  useEffect(() => {
    const on = () => setSize(get());
    stdout.on('resize', on);
    return () => void stdout.off('resize', on);
  }, [stdout]);
  return size;
}

/** The app (see the module comment). */
export function App({ source, recovery, scope, allNamespaces, onExit }: AppProps): ReactElement {
  const { exit } = useApp();
  const { width, rows } = useColumns();
  const c = useMemo(() => colors(), []);
  // The state lives in one mutable object, changed synchronously by each key and then drawn
  // (`redraw`): keys that arrive together (a paste, a fast typist, tmux send-keys) each see the
  // state the previous one left, never a stale closure.
  const st = useRef<UiState>({ view: { kind: 'list' }, index: 0, filter: '', filtering: false, rootIndex: 0, expanded: new Set(), scroll: 0 }).current;
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const set = (change: Partial<UiState>): void => {
    Object.assign(st, change);
    redraw();
  };
  const done = useRef(false);

  useEffect(
    () =>
      source.subscribe(
        (snapshots: Snapshot[]) => {
          const raw = diagnoseAll(snapshots, allNamespaces || snapshots.length !== 1);
          set({ live: { raw, shown: sanitizeDeep(raw), at: Date.now() }, error: undefined });
        },
        (e) => set({ error: e }),
      ),
    [source, allNamespaces],
  );
  // The "read 3s ago" and the live view's elapsed time move on between reads.
  useEffect(() => {
    const t = setInterval(redraw, 1000);
    return () => clearInterval(t);
  }, []);

  const leave = (code: number): void => {
    if (done.current) return;
    done.current = true;
    onExit(code);
    exit();
  };

  /** What the state shows now (called again by each key, which may follow a change not yet drawn). */
  const derive = () => {
    const live = st.live;
    const all = live?.shown.statefulSets ?? [];
    const matching = st.filter ? all.filter((s) => keyOf(s).includes(st.filter)) : all;
    const current = st.selected ? live?.shown.statefulSets.find((s) => keyOf(s) === st.selected) : undefined;
    const rawCurrent = st.selected ? live?.raw.statefulSets.find((s) => keyOf(s) === st.selected) : undefined;
    const roots: RootCause[] = live && current ? rootCauses(findingsOf(live.shown, current)) : [];
    const rawRoots: RootCause[] = live && rawCurrent ? rootCauses(findingsOf(live.raw, rawCurrent)) : [];
    const ref: StatefulSetRef | undefined = current ? { namespace: current.namespace, name: current.name } : undefined;
    return { all, matching, current, roots, rawRoots, ref };
  };
  const { live, filter, filtering, rootIndex, expanded, error } = st;
  const { all, matching, current, roots } = derive();
  // The StatefulSet opened is gone (deleted, or no longer matched): back to the list.
  if (live && !current && (st.view.kind === 'detail' || st.view.kind === 'live' || st.view.kind === 'message')) st.view = { kind: 'list' };
  const view = st.view;
  const setView = (v: View): void => set({ view: v });

  const open = (): void => {
    const { matching } = derive();
    const s = matching[Math.max(0, Math.min(st.index, matching.length - 1))];
    if (!s) return;
    set({ selected: keyOf(s), rootIndex: 0, expanded: new Set(), scroll: 0, view: { kind: 'detail' } });
  };

  const startRecovery = (): void => {
    const { rawRoots, ref } = derive();
    const root = rawRoots[st.rootIndex];
    if (!root || !ref) return;
    const f = foldedFinding(root);
    if (f.recoveries.length === 0) {
      setView({ kind: 'message', title: `sts-doctor knows no recovery for ${f.rule} ${f.subject.kind}/${f.subject.name}; the evidence says what the cluster reports. Nothing was written.`, lines: [] });
      return;
    }
    setView({ kind: 'choose', finding: f });
  };

  const chosen = (f: Finding, i: number | undefined): void => {
    const { ref } = derive();
    if (i === undefined || !ref) return setView({ kind: 'detail' });
    const option = f.recoveries[i]!;
    setView({ kind: 'busy', title: 'Planning against a fresh read…', lines: [] });
    recovery.plan(ref, f, option).then(
      (plan) => setView({ kind: 'confirm', plan }),
      (err: Error) => setView({ kind: 'message', title: `No plan: ${err.message}`, lines: ['Nothing was written.'] }),
    );
  };

  const confirmed = (plan: Plan, ok: boolean): void => {
    const { ref } = derive();
    if (!ok || !ref) return setView({ kind: 'message', title: 'Cancelled: nothing was written.', lines: [] });
    if (!plan.automated) return setView({ kind: 'live', plan, started: Date.now(), lines: ['sts-doctor writes nothing for manual steps; watching while you carry them out.'] });
    const lines: string[] = [];
    setView({ kind: 'busy', title: `Executing: ${plan.title}`, lines });
    recovery
      .execute(plan, (l) => {
        lines.push(l);
        setView({ kind: 'busy', title: `Executing: ${plan.title}`, lines: [...lines] });
      })
      .then(
        async (r) => {
          if (r.outcome === 'refused') {
            const why = await recovery.refusal(plan, ref).catch((err: Error) => [`(could not read again: ${err.message})`]);
            setView({ kind: 'message', title: `Refused at step ${r.step}${r.dryRun ? ' (dry run: nothing was written)' : ' (the steps before it were written, nothing after it)'}: ${r.message}`, lines: [...lines, ...why] });
          } else setView({ kind: 'live', plan, started: Date.now(), lines: [...lines, `Executed: ${plan.title}.`, ...plan.followUp.map((f) => `Afterwards: ${f}`)] });
        },
        (err: Error) => setView({ kind: 'message', title: `The recovery stopped: ${err.message}`, lines }),
      );
  };

  /** Lines of the diagnosis on one screen (the header and the table take the rest). */
  const page = Math.max(5, rows - 14);

  // Keys of the views this component draws itself; the prompts (choose, confirm) read their own.
  const own = view.kind === 'list' || view.kind === 'detail' || view.kind === 'message' || view.kind === 'live' || view.kind === 'busy';
  useInput(
    (input, key) => {
      if (key.ctrl && input === 'c') return leave(EXIT_INTERRUPTED);
      if (st.view.kind === 'list' && st.filtering) {
        if (key.escape) set({ filter: '', filtering: false });
        else if (key.return) set({ filtering: false });
        else if (key.backspace || key.delete) set({ filter: st.filter.slice(0, -1) });
        else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow) set(typedFilter(st.filter, input));
        return;
      }
      if (st.view.kind === 'busy' || st.view.kind === 'choose' || st.view.kind === 'confirm') return;
      if (input === 'q') return leave(0);
      const { matching, roots } = derive();
      const up = key.upArrow || input === 'k';
      const down = key.downArrow || input === 'j';
      switch (st.view.kind) {
        case 'list':
          if (up) set({ index: Math.max(0, Math.min(st.index, matching.length - 1) - 1) });
          else if (down) set({ index: Math.max(0, Math.min(matching.length - 1, st.index + 1)) });
          else if (key.return) open();
          // `/` may come in one read with what follows it (a fast typist, a paste, a loaded machine).
          else if (input.startsWith('/')) set(typedFilter(st.filter, input.slice(1)));
          else if (key.escape && st.filter) set({ filter: '' });
          return;
        case 'detail':
          if (key.escape) setView({ kind: 'list' });
          else if (up) set({ rootIndex: Math.max(0, st.rootIndex - 1), scroll: 0 });
          else if (down) set({ rootIndex: Math.max(0, Math.min(roots.length - 1, st.rootIndex + 1)), scroll: 0 });
          else if (key.pageDown || input === ' ') set({ scroll: st.scroll + Math.max(1, page - 2) });
          else if (key.pageUp || input === 'b') set({ scroll: Math.max(0, st.scroll - Math.max(1, page - 2)) });
          else if (key.return || input === 'e') {
            const n = new Set(st.expanded);
            if (n.has(st.rootIndex)) n.delete(st.rootIndex);
            else n.add(st.rootIndex);
            set({ expanded: n, scroll: 0 });
          } else if (input === 'r') startRecovery();
          return;
        case 'message':
        case 'live':
          if (key.escape || (st.view.kind === 'message' && key.return)) setView({ kind: 'detail' });
          return;
      }
    },
    { isActive: own },
  );
  // Ctrl+C while a prompt has the keys: the prompt cancels, and the app still exits 130.
  useInput((input, key) => void (key.ctrl && input === 'c' && leave(EXIT_INTERRUPTED)), { isActive: !own });

  const read = live ? `read ${Math.max(0, Math.round((Date.now() - live.at) / 1000))}s ago` : 'reading…';
  const title = c.bold(`sts-doctor · ${sanitizeText(scope, false)} · ${read}`);
  const problem = error ? c.yellow(sanitizeText(`${error.retrying ? 'API server unreachable, retrying' : 'Reading stopped'} (${Math.round((Date.now() - error.since) / 1000)} s): ${error.error.message}`, false)) : undefined;
  const hints = (s: string): ReactElement => <Text dimColor>{s}</Text>;

  if (view.kind === 'list' || !current || !live) {
    const shownIndex = Math.max(0, Math.min(st.index, matching.length - 1));
    const body: string[] = [];
    if (!live) body.push(problem ? '' : 'Reading the cluster…');
    else if (all.length === 0) body.push(allNamespaces ? 'No StatefulSet in any namespace (yet).' : `No StatefulSet in ${sanitizeText(scope, false)} (yet).`);
    else if (matching.length === 0) body.push(`No StatefulSet matches "${filter}".`);
    else {
      const lines = overview({ ...live.shown, statefulSets: matching }, c, width - 2).split('\n');
      // As many rows as the screen holds, the selected one among them.
      const room = Math.max(3, rows - 6);
      const from = Math.max(0, Math.min(shownIndex - Math.floor(room / 2), matching.length - room));
      body.push(`  ${lines[0]}`);
      matching.forEach((_s, i) => {
        if (i >= from && i < from + room) body.push(`${i === shownIndex ? c.cyan('❯ ') : '  '}${lines[i + 1]}`);
      });
      body.push(`  ${lines[lines.length - 1]}${matching.length > room ? c.dim(` (rows ${from + 1}-${Math.min(matching.length, from + room)})`) : ''}`);
    }
    return (
      <Box flexDirection="column">
        <Text>{title}</Text>
        {problem ? <Text>{problem}</Text> : null}
        <Text>{body.join('\n')}</Text>
        {filtering || filter ? <Text>{`/${filter}${filtering ? '█' : ''}`}</Text> : null}
        {hints(filtering ? 'type to filter · Enter keep · Esc clear' : '↑/↓ select · Enter diagnosis · / filter · q quit')}
      </Box>
    );
  }

  const head = [...statefulSetHeader(current, c, width), replicaTable(current, live.shown.now, c, width)];
  if (view.kind === 'detail') {
    const blocks = roots.map((r, i) => {
      const lines = rootCauseBlock(r, live.shown, c, width - 2, !expanded.has(i)).split('\n');
      return lines.map((l, k) => `${i === rootIndex && k === 0 ? c.cyan('❯ ') : i === rootIndex ? c.cyan('│ ') : '  '}${l}`);
    });
    const body = roots.length === 0 ? [current.healthy ? c.green('✔ No problems found.') : 'No finding names a cause; the controller has not converged yet.'] : blocks.flatMap((b) => ['', ...b]);
    // Keep the selected root cause on the screen: the lines above it scroll away.
    const headLines = head.join('\n').split('\n');
    const room = Math.max(5, rows - headLines.length - 4);
    const start = roots.length ? blocks.slice(0, rootIndex).reduce((n, b) => n + b.length + 1, 0) : 0;
    // Scrolled past the end: keep the last screen (and forget the extra, so PgUp acts at once).
    st.scroll = Math.max(0, Math.min(st.scroll, body.length - room - start));
    const from = Math.max(0, Math.min(start + st.scroll, body.length - room));
    return (
      <Box flexDirection="column">
        <Text>{title}</Text>
        {problem ? <Text>{problem}</Text> : null}
        <Text>{headLines.join('\n')}</Text>
        <Text>{body.slice(from, from + room).join('\n')}</Text>
        {hints(`↑/↓ cause · e evidence · r recover · Esc back · q quit${body.length > room ? ` · PgDn/PgUp ${from + 1}-${Math.min(body.length, from + room)}/${body.length}` : ''}`)}
      </Box>
    );
  }

  if (view.kind === 'choose') {
    const f = view.finding;
    return (
      <Box flexDirection="column">
        <Text>{title}</Text>
        <Select
          message={sanitizeText(`How do you want to recover from ${f.rule} ${f.subject.name}?`, false)}
          items={f.recoveries.map((o) => ({ label: sanitizeText(`${o.title}${o.automated ? '' : ' (manual steps)'}`, false), hint: sanitizeText(o.description) }))}
          onDone={(i) => chosen(f, i)}
        />
      </Box>
    );
  }

  if (view.kind === 'confirm') {
    const p = view.plan;
    return (
      <Box flexDirection="column">
        <Text>{title}</Text>
        <Text>{wrapPlan(sanitizeText(renderPlan(p)), width)}</Text>
        {p.confirm.type === 'name' ? (
          <TypeName message={sanitizeText(`${p.confirm.question}:`)} name={sanitizeText(p.confirm.name)} onDone={(ok) => confirmed(p, ok)} />
        ) : (
          <Confirm message={sanitizeText(p.confirm.question)} onDone={(ok) => confirmed(p, ok)} />
        )}
      </Box>
    );
  }

  if (view.kind === 'busy' || view.kind === 'message') {
    return (
      <Box flexDirection="column">
        <Text>{title}</Text>
        <Text bold>{indentWrap(sanitizeText(view.title), width, '').join('\n')}</Text>
        <Text>{view.lines.flatMap((l) => indentWrap(sanitizeText(l), width, '')).join('\n')}</Text>
        {view.kind === 'message' ? hints('Esc back · q quit') : null}
      </Box>
    );
  }

  // The live per-replica view after a recovery: the table from every new read.
  const secs = Math.round((Date.now() - view.started) / 1000);
  // A finding that does not heal by itself (Finding.permanent, as recover's watch stops on): say so.
  const stuck = current.healthy ? undefined : roots.find((r) => r.finding.permanent && r.finding.severity !== 'info')?.finding;
  const state = current.healthy
    ? c.green(`✔ StatefulSet ${current.namespace}/${current.name} is healthy: ${formatReplicaCounts({ ready: current.replicas.ready, replicas: current.replicas.desired, condemned: current.replicas.condemned })}`)
    : c.yellow(`Waiting for StatefulSet ${current.namespace}/${current.name} to become healthy (${secs} s): ${formatReplicaCounts({ ready: current.replicas.ready, replicas: current.replicas.desired, condemned: current.replicas.condemned })}${roots[0] ? `; ${roots[0].finding.rule} ${roots[0].finding.subject.name}: ${roots[0].finding.summary}` : ''}`);
  return (
    <Box flexDirection="column">
      <Text>{title}</Text>
      {problem ? <Text>{problem}</Text> : null}
      <Text>{view.lines.flatMap((l) => indentWrap(sanitizeText(l), width, '', '  ')).slice(-8).join('\n')}</Text>
      <Text>{head.join('\n')}</Text>
      <Text>{indentWrap(state, width, '').join('\n')}</Text>
      {stuck ? <Text>{indentWrap(c.red(`This will not heal by itself: ${stuck.rule} ${stuck.subject.kind}/${stuck.subject.name}: ${stuck.summary}. Esc for the diagnosis and its next recovery.`), width, '').join('\n')}</Text> : null}
      {hints('Esc back to the diagnosis · q quit')}
    </Box>
  );
}

/**
 * Renders the app on `stream` (stderr: stdout stays free) until the user leaves; resolves the
 * exit code (0 for q, 130 for Ctrl+C). The screen is cleared on the way out.
 */
export async function runApp(props: Omit<AppProps, 'onExit'>, stream: NodeJS.WriteStream = process.stderr): Promise<number> {
  let code = 0;
  const app = render(<App {...props} onExit={(c) => (code = c)} />, { stdout: stream, stdin: process.stdin, exitOnCtrlC: false, patchConsole: false });
  await app.waitUntilExit();
  app.clear();
  return code;
}
