/**
 * FTP control connections of one session, keyed by server and login. basic-ftp runs one
 * command at a time per connection, so a request leases a connection for its whole
 * transfer and returns it when the transfer completed cleanly; idle ones do not keep
 * the process alive, and all close with the session.
 */
import type { Client } from 'basic-ftp';

const MAX_IDLE_PER_KEY = 4;

export interface Lease {
  readonly client: Client;
  /** True when the connection was used before (it may have been dropped by the server meanwhile). */
  readonly reused: boolean;
  /** The working directory right after login, for returning there after a probe. */
  readonly home: string;
}

interface Idle {
  client: Client;
  home: string;
}

function setRef(client: Client, ref: boolean): void {
  const socket = client.ftp.socket as { ref?: () => void; unref?: () => void } | undefined;
  if (ref) socket?.ref?.();
  else socket?.unref?.();
}

export class FtpPool {
  readonly #idle = new Map<string, Idle[]>();
  readonly #leased = new Map<Client, string>();
  #closed = false;

  /** An idle connection for `key`, else a new one from `connect`. */
  async acquire(key: string, connect: () => Promise<{ client: Client; home: string }>): Promise<Lease> {
    const idle = this.#idle.get(key);
    while (idle?.length) {
      const candidate = idle.pop()!;
      if (candidate.client.closed) continue;
      setRef(candidate.client, true);
      this.#leased.set(candidate.client, candidate.home);
      return { client: candidate.client, reused: true, home: candidate.home };
    }
    const fresh = await connect();
    if (this.#closed) {
      fresh.client.close();
      throw new Error('FTP session closed');
    }
    this.#leased.set(fresh.client, fresh.home);
    return { client: fresh.client, reused: false, home: fresh.home };
  }

  /** Give a connection back after a clean transfer. */
  release(key: string, lease: Lease): void {
    this.#leased.delete(lease.client);
    if (this.#closed || lease.client.closed) {
      lease.client.close();
      return;
    }
    const idle = this.#idle.get(key) ?? [];
    if (idle.length >= MAX_IDLE_PER_KEY) {
      lease.client.close();
      return;
    }
    setRef(lease.client, false);
    idle.push({ client: lease.client, home: lease.home });
    this.#idle.set(key, idle);
  }

  /** Close a connection whose state is unknown (an error or an aborted transfer). */
  discard(lease: Lease): void {
    this.#leased.delete(lease.client);
    lease.client.close();
  }

  get idleCount(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.filter((i) => !i.client.closed).length;
    return n;
  }

  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const { client } of list) client.close();
    this.#idle.clear();
    for (const client of this.#leased.keys()) client.close();
    this.#leased.clear();
  }
}
