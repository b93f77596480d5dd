/**
 * A bench worker thread (bench/streaming.ts): opens its share of the WebSocket clients and reports when
 * each got a post's `update`. Several threads drain the sockets in parallel, as clients on other machines
 * would; times are absolute (timeOrigin + now) so the main thread can compare them with its own.
 */
declare const self: Worker;

const received = new Map<string, number[]>();
const sockets: WebSocket[] = [];
let share = 0;

self.onmessage = async (event: MessageEvent) => {
  const message = event.data as { type: "open"; url: string; protocol: string; count: number } | { type: "await"; id: string; timeoutMs: number } | { type: "close" };
  if (message.type === "open") {
    share = message.count;
    const BATCH = 250;
    for (let i = 0; i < message.count; i += BATCH) {
      await Promise.all(
        Array.from({ length: Math.min(BATCH, message.count - i) }, () => {
          const ws = new WebSocket(message.url, [message.protocol]);
          sockets.push(ws);
          ws.addEventListener("message", (e) => {
            const at = performance.timeOrigin + performance.now();
            const text = String(e.data);
            const match = text.includes('"event":"update"') ? /\\"id\\":\\"(\d+)\\"/.exec(text) : null;
            if (!match) return;
            const list = received.get(match[1]!);
            if (list) list.push(at);
            else received.set(match[1]!, [at]);
          });
          return new Promise<void>((resolve, reject) => {
            ws.addEventListener("open", () => resolve());
            ws.addEventListener("error", () => reject(new Error("a client could not connect")));
          });
        }),
      );
    }
    postMessage({ type: "opened" });
  } else if (message.type === "await") {
    const deadline = Date.now() + message.timeoutMs;
    while ((received.get(message.id)?.length ?? 0) < share && Date.now() < deadline) await Bun.sleep(5);
    postMessage({ type: "times", id: message.id, times: received.get(message.id) ?? [] });
  } else {
    for (const ws of sockets) ws.close();
    postMessage({ type: "closed" });
  }
};
