/**
 * The device list: one button per device, kept current as the page polls the `devices` function
 * (a device created, revoked or renamed elsewhere shows within one poll). Buttons are updated in
 * place, keyed by device id, so a poll never steals a click or the keyboard focus.
 */
import { seenText } from "./freshness.js";

export class DeviceList {
  /**
   * @param {HTMLElement} element the list (<ul>)
   * @param {(device: any) => void} onSelect called with the device's latest row
   */
  constructor(element, onSelect) {
    this.element = element;
    this.onSelect = onSelect;
    /** @type {Map<string, any>} the latest row of each device, in the API's order */
    this.devices = new Map();
    /** @type {Map<string, number>} receive time (ms) of the newest frame known per device */
    this.lastFrames = new Map();
    /** @type {string | null} */
    this.selectedId = null;
  }

  /** Shows the devices the API listed now. @param {any[]} devices */
  update(devices) {
    this.devices = new Map(devices.map((device) => [device.id, device]));
    const buttons = new Map(
      [...this.element.querySelectorAll("button[data-device-id]")].map((
        button,
      ) => [/** @type {HTMLElement} */ (button).dataset.deviceId, button]),
    );
    const items = devices.map((device) => {
      const button = buttons.get(device.id) ?? this.#button(device.id);
      buttons.delete(device.id);
      return /** @type {HTMLElement} */ (button.parentElement);
    });
    if (devices.length === 0) {
      this.element.replaceChildren("No devices yet (deno task device:create).");
    } else {
      // Moving an item that is already in place is a no-op for the DOM.
      items.forEach((item, i) => {
        if (this.element.children[i] !== item) {
          this.element.insertBefore(item, this.element.children[i] ?? null);
        }
      });
      for (const child of [...this.element.childNodes]) {
        if (!items.includes(/** @type {HTMLElement} */ (child))) child.remove();
      }
    }
    this.refresh(Date.now());
  }

  /** Marks the chosen device. @param {string} id */
  select(id) {
    this.selectedId = id;
    this.refresh(Date.now());
  }

  /**
   * Remembers a frame's receive time for the device's "seen" note.
   * @param {string} id
   * @param {number} atMs
   */
  noteFrame(id, atMs) {
    if (Number.isFinite(atMs) && atMs > (this.lastFrames.get(id) ?? -Infinity)) {
      this.lastFrames.set(id, atMs);
    }
  }

  /** Rewrites every name and note (the notes age). @param {number} nowMs */
  refresh(nowMs) {
    for (const button of this.element.querySelectorAll("button[data-device-id]")) {
      const id = /** @type {HTMLElement} */ (button).dataset.deviceId ?? "";
      const device = this.devices.get(id);
      if (!device) continue;
      button.setAttribute("aria-pressed", String(id === this.selectedId));
      const [name, note] = /** @type {HTMLElement[]} */ ([...button.children]);
      const seen = seenText(device, this.lastFrames.get(id), nowMs);
      setText(name, device.name);
      setText(note, device.revoked_at ? seen : `${device.key_prefix}… · ${seen}`);
    }
  }

  /** @param {string} id */
  #button(id) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.deviceId = id;
    button.innerHTML = "<span></span><small></small>";
    button.addEventListener("click", () => {
      const device = this.devices.get(id);
      if (device) this.onSelect(device);
    });
    const item = document.createElement("li");
    item.append(button);
    return button;
  }
}

/**
 * @param {HTMLElement | undefined} element
 * @param {string} text
 */
function setText(element, text) {
  if (element && element.textContent !== text) element.textContent = text;
}
