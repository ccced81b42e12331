import net from 'node:net';

/** How much of what a client sends first is kept, for `sent` (enough for a handshake such as Redis's CLIENT SETNAME). */
const SNIFFED_BYTES = 4096;

/**
 * One client connection through the proxy and its upstream twin, which a test can act on alone: reset it
 * (the client sees ECONNRESET, as after a network reset) or black-hole it (the sockets stay open and no byte
 * passes either way, as in a network partition, until `release()`).
 */
export class ProxiedConnection {
  /** The first bytes the client sent, as latin1 text: tells connections apart (e.g. by the name in CLIENT SETNAME). */
  sent = '';
  private holed = false;
  private held: Array<[net.Socket, Buffer]> = [];

  constructor(
    /** 1 for the proxy's first connection, and so on. */
    readonly id: number,
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
  ) {
    client.on('data', (chunk: Buffer) => {
      if (this.sent.length < SNIFFED_BYTES) this.sent += chunk.toString('latin1').slice(0, SNIFFED_BYTES - this.sent.length);
      this.forward(upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => this.forward(client, chunk));
  }

  get open(): boolean {
    return !this.client.destroyed && !this.upstream.destroyed;
  }

  /** Closes both sides at once, the client's with a TCP RST. */
  reset(): void {
    this.client.resetAndDestroy();
    this.upstream.destroy();
  }

  /**
   * Stops forwarding in both directions without closing anything; bytes are held, and delivered by
   * `release()`. A close by either side still reaches the other (so a client that gives up frees the server).
   */
  blackhole(): void {
    this.holed = true;
  }

  release(): void {
    this.holed = false;
    for (const [socket, chunk] of this.held.splice(0)) socket.write(chunk);
  }

  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  private forward(to: net.Socket, chunk: Buffer): void {
    if (this.holed) this.held.push([to, chunk]);
    else to.write(chunk);
  }
}

/**
 * A TCP proxy in front of a real server (PostgreSQL, Redis) that a test can cut and restore, to take
 * the server away from the app without stopping the shared service, or act on one connection at a time.
 */
export class TcpProxy {
  private readonly live = new Set<ProxiedConnection>();
  private count = 0;
  private isCut = false;
  private refusing = false;
  private holingNew = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = net.createServer((client) => {
      if (proxy.isCut || proxy.refusing) return void client.destroy();
      const upstream = net.connect(targetPort, targetHost);
      const connection = new ProxiedConnection(++proxy.count, client, upstream);
      proxy.live.add(connection);
      if (proxy.holingNew) connection.blackhole();
      for (const socket of [client, upstream]) {
        socket.on('error', () => undefined);
        socket.on('close', () => {
          proxy.live.delete(connection);
          connection.destroy();
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** The connections open now, oldest first. */
  connections(): ProxiedConnection[] {
    return [...this.live].filter((connection) => connection.open);
  }

  /** The one open connection whose client sent `marker` (e.g. a Redis connection name); throws unless exactly one did. */
  connection(marker: string): ProxiedConnection {
    const found = this.connections().filter((connection) => connection.sent.includes(marker));
    if (found.length !== 1) throw new Error(`TcpProxy: expected one open connection that sent '${marker}', found ${found.length}`);
    return found[0]!;
  }

  /** Drops every open connection and refuses new ones, as a dead server or network would. */
  cut(): void {
    this.isCut = true;
    for (const connection of this.live) connection.destroy();
  }

  /** Refuses new connections (closing each at once) but leaves open ones alone, until `restore()`. */
  refuseNew(): void {
    this.refusing = true;
  }

  /** Accepts new connections but black-holes each from the start (a server that accepts and never answers), until `restore()`. */
  blackholeNew(): void {
    this.holingNew = true;
  }

  restore(): void {
    this.isCut = false;
    this.refusing = false;
    this.holingNew = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Host and port of a postgres:// or redis:// URL, and the same URL pointed at a proxy port. */
export function viaProxy(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

export function hostAndPort(url: string, defaultPort: number): [string, number] {
  const parsed = new URL(url);
  return [parsed.hostname, parsed.port ? Number(parsed.port) : defaultPort];
}
