/**
 * One connection per process: the resolved kubeconfig and its KubeClient, memoised by the
 * connection flags, `KUBECONFIG` and the request timeout. A loop that reads the cluster again
 * and again (`wait`, recover's verify) gets the same client each round, so that TLS agents,
 * credentials (an exec plugin runs once, and again only when its credential expires) and the
 * request count are kept across rounds instead of rebuilt.
 */
import { KubeClient } from './client.js';
import { resolveKubeconfig, type ConnectionOptions, type ResolvedConfig } from './kubeconfig.js';

export interface Connection {
  config: ResolvedConfig;
  client: KubeClient;
}

const connections = new Map<string, Connection>();

/**
 * The connection for `opts`: resolved and created on the first call, the same objects after.
 * @param timeoutMs per-request timeout in milliseconds (0: none)
 * @throws KubeconfigError as resolveKubeconfig (nothing is memoised then)
 */
export function connect(opts: ConnectionOptions, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Connection {
  const key = JSON.stringify([opts.kubeconfig, opts.context, opts.namespace, env.KUBECONFIG, timeoutMs]);
  let c = connections.get(key);
  if (!c) {
    const config = resolveKubeconfig(opts, env);
    c = { config, client: new KubeClient(config, timeoutMs) };
    connections.set(key, c);
  }
  return c;
}
