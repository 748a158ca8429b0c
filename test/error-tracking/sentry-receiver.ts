import { createServer, Server } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One event item of a Sentry envelope (https://develop.sentry.dev/sdk/data-model/envelopes/). */
export interface ReceivedEvent {
  tags: Record<string, string>;
  exception?: { values?: { type?: string; value?: string }[] };
  release?: string;
  environment?: string;
}

/**
 * A Sentry-protocol receiver: accepts `POST /api/<project>/envelope/`, keeps every envelope's raw text (to search
 * it for secrets) and its parsed events. `hang: true` accepts connections and never answers (a tracker that is down
 * behind a load balancer, the worst case for a client).
 */
export class SentryReceiver {
  readonly raw: string[] = [];
  readonly events: ReceivedEvent[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  get dsn(): string {
    return `http://publickey@127.0.0.1:${this.port}/42`;
  }

  static async start(opts: { hang?: boolean } = {}): Promise<SentryReceiver> {
    const ref: { self?: SentryReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (opts.hang) return;
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        ref.self!.take(body.toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const self = new SentryReceiver(server, (server.address() as AddressInfo).port);
    ref.self = self;
    server.on('connection', (s) => {
      self.sockets.add(s);
      s.on('close', () => self.sockets.delete(s));
    });
    return self;
  }

  private take(text: string): void {
    this.raw.push(text);
    const lines = text.split('\n');
    for (let i = 1; i + 1 < lines.length; i += 2) {
      const header = JSON.parse(lines[i]) as { type?: string };
      if (header.type === 'event') this.events.push(JSON.parse(lines[i + 1]) as ReceivedEvent);
    }
  }

  eventsOf(kind: string): ReceivedEvent[] {
    return this.events.filter((e) => e.tags?.kind === kind);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
