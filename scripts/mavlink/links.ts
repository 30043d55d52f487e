/**
 * The links a bridge listens on, named as mavlink-router and MAVSDK name them:
 * - `udpserver://HOST:PORT`: bind and take what arrives (PX4 SITL and most routers send to
 *   14550);
 * - `udp://HOST:PORT`: send a ground-station HEARTBEAT there each second, so the vehicle (or
 *   router) streams back to us, and take what comes back;
 * - `tcp://HOST:PORT`: connect (ArduPilot SITL listens on 5760), reconnecting every second.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import net from "node:net";
import { MavLinkProtocolV2, minimal } from "node-mavlink";

export interface LinkAddress {
  readonly kind: "udpserver" | "udp" | "tcp";
  readonly host: string;
  readonly port: number;
}

/** A running link; `close` ends it. */
export interface Link {
  close(): void;
}

/** Reads `udpserver://HOST:PORT`, `udp://HOST:PORT` or `tcp://HOST:PORT`; throws a RangeError. */
export function parseLinkAddress(text: string): LinkAddress {
  const match = /^(udpserver|udp|tcp):\/\/([^:/]+|\[[^\]]+\]):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) {
    throw new RangeError(
      `--listen must be udpserver://HOST:PORT, udp://HOST:PORT or tcp://HOST:PORT, got "${text}"`,
    );
  }
  return { kind: match[1] as LinkAddress["kind"], host: match[2]!.replace(/^\[|\]$/g, ""), port };
}

/** A ground station's HEARTBEAT (system 255), which makes a vehicle stream to its sender. */
function groundStationHeartbeat(): Buffer {
  const heartbeat = new minimal.Heartbeat();
  heartbeat.type = minimal.MavType.GCS;
  heartbeat.autopilot = minimal.MavAutopilot.INVALID;
  return new MavLinkProtocolV2(255, 190).serialize(heartbeat, 0);
}

/**
 * Opens a link and hands every datagram or stream chunk to `onBytes`.
 *
 * @param address where to listen or connect
 * @param onBytes called with the bytes and whether they are one whole datagram
 * @param onError a socket error, for the log; the link keeps going where it can
 */
export function openLink(
  address: LinkAddress,
  onBytes: (bytes: Uint8Array, datagram: boolean) => void,
  onError: (message: string) => void,
): Promise<Link> {
  if (address.kind === "tcp") return Promise.resolve(tcpLink(address, onBytes, onError));
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(address.host.includes(":") ? "udp6" : "udp4");
    socket.on("message", (bytes: Buffer) => onBytes(bytes, true));
    socket.once("error", reject);
    const bound = () => {
      socket.off("error", reject);
      socket.on("error", (error: Error) => onError(error.message));
      if (address.kind === "udpserver") {
        resolve({ close: () => socket.close() });
        return;
      }
      const heartbeat = groundStationHeartbeat();
      const send = () => socket.send(heartbeat, address.port, address.host);
      send();
      const timer = setInterval(send, 1000);
      resolve({
        close: () => {
          clearInterval(timer);
          socket.close();
        },
      });
    };
    if (address.kind === "udpserver") socket.bind(address.port, address.host, bound);
    else socket.bind(0, bound);
  });
}

function tcpLink(
  address: LinkAddress,
  onBytes: (bytes: Uint8Array, datagram: boolean) => void,
  onError: (message: string) => void,
): Link {
  let closed = false;
  let socket: net.Socket | null = null;
  const connect = () => {
    if (closed) return;
    socket = net.connect(address.port, address.host);
    socket.on("data", (bytes: Buffer) => onBytes(bytes, false));
    socket.on("error", (error: Error) => onError(error.message));
    socket.on("close", () => {
      if (!closed) setTimeout(connect, 1000);
    });
  };
  connect();
  return {
    close: () => {
      closed = true;
      socket?.destroy();
    },
  };
}
