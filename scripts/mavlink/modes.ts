/**
 * Flight mode names from a HEARTBEAT's custom_mode, as PX4 and ArduPilot define them
 * (PX4: src/modules/commander/px4_custom_mode.h; ArduPilot: each vehicle's mode.h). Unknown
 * autopilots and modes are named by number, so nothing is guessed.
 *
 * @module
 */

/** MAV_AUTOPILOT values this module knows. */
export const AUTOPILOT = { ARDUPILOTMEGA: 3, INVALID: 8, PX4: 12 } as const;
/** MAV_TYPE values that pick ArduPilot's mode table. */
const FIXED_WING = 1;
const GROUND_ROVER = 10;
const SURFACE_BOAT = 11;

const PX4_MAIN: Readonly<Record<number, string>> = {
  1: "MANUAL",
  2: "ALTCTL",
  3: "POSCTL",
  4: "AUTO",
  5: "ACRO",
  6: "OFFBOARD",
  7: "STABILIZED",
  8: "RATTITUDE",
  9: "SIMPLE",
  10: "TERMINATION",
};
const PX4_AUTO: Readonly<Record<number, string>> = {
  1: "READY",
  2: "TAKEOFF",
  3: "LOITER",
  4: "MISSION",
  5: "RTL",
  6: "LAND",
  8: "FOLLOW_TARGET",
  9: "PRECLAND",
  10: "VTOL_TAKEOFF",
};
const ARDUCOPTER: Readonly<Record<number, string>> = {
  0: "STABILIZE",
  1: "ACRO",
  2: "ALT_HOLD",
  3: "AUTO",
  4: "GUIDED",
  5: "LOITER",
  6: "RTL",
  7: "CIRCLE",
  9: "LAND",
  11: "DRIFT",
  13: "SPORT",
  14: "FLIP",
  15: "AUTOTUNE",
  16: "POSHOLD",
  17: "BRAKE",
  18: "THROW",
  19: "AVOID_ADSB",
  20: "GUIDED_NOGPS",
  21: "SMART_RTL",
  22: "FLOWHOLD",
  23: "FOLLOW",
  24: "ZIGZAG",
  25: "SYSTEMID",
  26: "AUTOROTATE",
  27: "AUTO_RTL",
};
const ARDUPLANE: Readonly<Record<number, string>> = {
  0: "MANUAL",
  1: "CIRCLE",
  2: "STABILIZE",
  3: "TRAINING",
  4: "ACRO",
  5: "FBWA",
  6: "FBWB",
  7: "CRUISE",
  8: "AUTOTUNE",
  10: "AUTO",
  11: "RTL",
  12: "LOITER",
  13: "TAKEOFF",
  14: "AVOID_ADSB",
  15: "GUIDED",
  17: "QSTABILIZE",
  18: "QHOVER",
  19: "QLOITER",
  20: "QLAND",
  21: "QRTL",
  22: "QAUTOTUNE",
  23: "QACRO",
  24: "THERMAL",
  25: "LOITER_ALT_QLAND",
};
const ARDUROVER: Readonly<Record<number, string>> = {
  0: "MANUAL",
  1: "ACRO",
  3: "STEERING",
  4: "HOLD",
  5: "LOITER",
  6: "FOLLOW",
  7: "SIMPLE",
  8: "DOCK",
  9: "CIRCLE",
  10: "AUTO",
  11: "RTL",
  12: "SMART_RTL",
  15: "GUIDED",
};

/**
 * The flight mode a HEARTBEAT reports.
 *
 * @param autopilot MAV_AUTOPILOT of the heartbeat
 * @param vehicleType MAV_TYPE of the heartbeat
 * @param customMode custom_mode of the heartbeat
 */
export function flightModeName(autopilot: number, vehicleType: number, customMode: number): string {
  if (autopilot === AUTOPILOT.PX4) {
    const main = (customMode >>> 16) & 0xff;
    const sub = (customMode >>> 24) & 0xff;
    if (main === 4) return `AUTO_${PX4_AUTO[sub] ?? sub}`;
    return PX4_MAIN[main] ?? `PX4_${main}`;
  }
  if (autopilot === AUTOPILOT.ARDUPILOTMEGA) {
    const table = vehicleType === FIXED_WING
      ? ARDUPLANE
      : vehicleType === GROUND_ROVER || vehicleType === SURFACE_BOAT
      ? ARDUROVER
      : ARDUCOPTER;
    return table[customMode] ?? `MODE_${customMode}`;
  }
  return `MODE_${customMode}`;
}
