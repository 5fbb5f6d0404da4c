// Web Push on this device: register the service worker (/sw.js), subscribe with the server's
// VAPID key, and hand the subscription to the API with the kinds to push (omitted: the kinds
// you get by e-mail). The server pushes notifications of those kinds, encrypted for this browser.
import { api } from "./session.ts";

/** Whether this browser can receive pushes at all. */
export function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** Ask permission, subscribe this browser and register it. Throws an Error with a sentence. */
export async function enablePush(kinds?: string[]): Promise<void> {
  if (!pushSupported()) throw new Error("This browser cannot receive notifications.");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("Notifications are blocked for this site in your browser's settings.");
  const registration = await navigator.serviceWorker.register("/sw.js");
  const { public_key } = await api<{ public_key: string }>("GET", "/api/v1/push/key");
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: public_key, // base64url, as the Push API accepts it
  });
  await api("POST", "/api/v1/push/subscriptions", { body: { ...subscription.toJSON(), kinds } });
}
