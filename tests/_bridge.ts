/**
 * The MAVLink bridge (`deno task device:mavlink`) as its own process for tests: its stats lines
 * collected as they come, a free UDP port to listen on, and a sender that paces packets.
 */
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import type { BridgeStats } from "../scripts/mavlink/bridge.ts";
import { PROJECT_ROOT } from "../scripts/stack/layout.ts";

/** A stats line: the bridge's stats and the frames it found in its spool at start. */
export type BridgeStatsLine = BridgeStats & { recovered: number };

export interface BridgeProcess {
  readonly child: Deno.ChildProcess;
  /** Every stats line printed so far. */
  readonly stats: BridgeStatsLine[];
  /** Resolves once the bridge listens. */
  readonly ready: Promise<void>;
  /** Everything it wrote on stderr. */
  stderr(): string;
}

/** A UDP port nothing listens on now. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Starts the bridge with these arguments (after `--device-key KEY`). */
export function startBridge(args: string[]): BridgeProcess {
  // `deno run` itself, not `deno task`: a SIGKILL must reach the bridge, not a wrapper.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      "scripts/mavlink.ts",
      ...args,
    ],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stats: BridgeStatsLine[] = [];
  let errors = "";
  let onReady = () => {};
  let onExit = (_: Error) => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onExit = reject;
  });
  child.status.then((status) => onExit(new Error(`the bridge exited ${status.code}: ${errors}`)));
  const read = async (stream: ReadableStream<Uint8Array>, line: (text: string) => void) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      lines.forEach(line);
    }
  };
  read(child.stdout, (text) => {
    if (text.startsWith("{")) stats.push(JSON.parse(text));
  });
  read(child.stderr, (text) => {
    errors += text + "\n";
    if (text.startsWith("Bridging MAVLink")) onReady();
  });
  return { child, stats, ready, stderr: () => errors };
}

/** Stops the bridge with SIGINT and returns its last stats line (printed on exit). */
export async function stopBridge(bridge: BridgeProcess): Promise<BridgeStatsLine> {
  bridge.child.kill("SIGINT");
  const status = await bridge.child.status;
  await new Promise((resolve) => setTimeout(resolve, 50)); // the last line's read
  if (status.code !== 0) throw new Error(`the bridge exited ${status.code}: ${bridge.stderr()}`);
  const last = bridge.stats[bridge.stats.length - 1];
  if (!last) throw new Error(`the bridge printed no stats: ${bridge.stderr()}`);
  return last;
}

/** Sends datagrams to a port on this machine. */
export function udpSender(port: number) {
  const socket = dgram.createSocket("udp4");
  return {
    send: (packet: Uint8Array) =>
      new Promise<void>((resolve, reject) =>
        socket.send(
          Buffer.from(packet),
          port,
          "127.0.0.1",
          (error) => error ? reject(error) : resolve(),
        )
      ),
    close: () => socket.close(),
  };
}
