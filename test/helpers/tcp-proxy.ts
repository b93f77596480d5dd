/**
 * A TCP proxy we can cut and restore, to make Postgres or Redis "go away" for one process under test
 * without touching the real servers other tests use.
 */
import type { Socket, TCPSocketListener } from "bun";

export class TcpProxy {
  private listener?: TCPSocketListener<{ upstream?: Socket<any>; pending: Uint8Array[] }>;
  private readonly sockets = new Set<Socket<any>>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    public port = 0,
  ) {}

  async start(): Promise<number> {
    const sockets = this.sockets;
    const { targetHost, targetPort } = this;
    this.listener = Bun.listen<{ upstream?: Socket<any>; pending: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port: this.port,
      socket: {
        open(client) {
          client.data = { pending: [] };
          sockets.add(client);
          Bun.connect({
            hostname: targetHost,
            port: targetPort,
            socket: {
              open(upstream) {
                sockets.add(upstream);
                client.data.upstream = upstream;
                for (const chunk of client.data.pending) upstream.write(chunk);
                client.data.pending = [];
              },
              data(_upstream, chunk) {
                client.write(chunk);
              },
              close(upstream) {
                sockets.delete(upstream);
                client.end();
              },
              error() {
                client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.upstream) client.data.upstream.write(chunk);
          else client.data.pending.push(new Uint8Array(chunk));
        },
        close(client) {
          sockets.delete(client);
          client.data.upstream?.end();
        },
        error() {},
      },
    });
    this.port = this.listener.port;
    return this.port;
  }

  /** Refuse new connections and cut every open one, as if the server died. */
  stop(): void {
    this.listener?.stop(true);
    this.listener = undefined;
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
  }
}
