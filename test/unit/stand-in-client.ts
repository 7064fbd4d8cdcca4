// The stand-in for KubeClient in the unit tests of the live read (src/snapshot/from-cluster.ts
// collectFromCluster): it serves a snapshot recorded from the real control plane.
import { ApiError } from '../../src/errors.js';
import type { Pod, Snapshot } from '../../src/snapshot/types.js';

/** What a test changes in the stand-in's answers. */
export interface StandInHooks {
  /** The pods the LIST of pods answers (default: the snapshot's); called for each LIST, so a test may change them between rounds. */
  pods?: () => Pod[];
  /** The answer to a LIST of `path`, or undefined for the default (the pods, else nothing). */
  list?: (path: string) => Promise<unknown[]> | undefined;
  /** The answer to a text read (a container's log); default ''. */
  text?: (path: string, query: Record<string, unknown>) => Promise<string>;
}

/**
 * A client that answers GET of the StatefulSet (the snapshot's first) and of `/version`
 * (v1.36.3), LISTs of pods (every other LIST is empty unless `hooks.list` answers it), text reads,
 * and refuses the PV Table (403: nodes and PVs are then listed whole). It counts every request in
 * `requests`, as KubeClient does, and records each path (a LIST's with its `?labelSelector=`).
 */
export function standInClient(s: Snapshot, hooks: StandInHooks = {}) {
  const paths: string[] = [];
  const sent = (path: string): void => {
    client.requests++;
    paths.push(path);
  };
  const client = {
    requests: 0,
    server: 'https://127.0.0.1:6443',
    deadline: undefined,
    get: async (path: string) => {
      sent(path);
      return path === '/version' ? { gitVersion: 'v1.36.3' } : structuredClone(s.statefulSets[0]);
    },
    listTable: async (path: string) => {
      sent(path);
      throw new ApiError(`GET ${path}: 403 Forbidden`, 403);
    },
    getText: async (path: string, query: Record<string, unknown> = {}) => {
      sent(path);
      return hooks.text ? hooks.text(path, query) : '';
    },
    list: async (path: string, query: Record<string, string | undefined> = {}) => {
      sent(`${path}${query.labelSelector ? `?labelSelector=${query.labelSelector}` : ''}`);
      const answer = hooks.list?.(path);
      if (answer) return structuredClone(await answer);
      if (path.endsWith('/pods')) return structuredClone(hooks.pods ? hooks.pods() : s.pods);
      return [];
    },
  };
  return { client, paths };
}
