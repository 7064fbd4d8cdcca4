/** The API server URL as it may be shown: never with the userinfo a kubeconfig can hold. */

/** The server URL without userinfo (`https://user:pass@host:6443` → `https://host:6443`), safe to print. */
export function displayServer(server: string): string {
  try {
    const u = new URL(server);
    if (!u.username && !u.password) return server;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return server.replace(/\/\/[^/@]*@/, '//');
  }
}
