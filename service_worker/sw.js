// Bintang Ceria's service worker. The server fills in VERSION and PRECACHE when it serves /sw.js
// (server/pwa/routes.py), so a new version of any precached file makes a new worker and a fresh cache.
"use strict";

const VERSION = "__VERSION__";
const PRECACHE = ["__PRECACHE__"];
const OFFLINE_URL = "/offline";
const SHELL_CACHE = "bintang-shell-" + VERSION;
const PAGES_CACHE = "bintang-pages-" + VERSION;

// The offline report queue (static/js/offline-queue.js), shared with the pages: Background Sync sends what a
// phone saved while it had no signal, even when no page of the app is open.
importScripts(PRECACHE.find((url) => url.startsWith("/static/js/offline-queue.js")));

async function sendSavedReports() {
  const sent = await self.BintangQueue.replay();
  if (sent) {
    const pages = await self.clients.matchAll({ type: "window" });
    pages.forEach((page) => page.postMessage({ type: "outbox-sent" }));
  }
  // Still waiting (no signal yet, or the server busy): failing the sync makes the browser try again later.
  const waiting = (await self.BintangQueue.pending()).filter((item) => !item.refused);
  if (waiting.length) throw new Error("saved reports still waiting");
}

self.addEventListener("sync", (event) => {
  if (event.tag === self.BintangQueue.SYNC_TAG) event.waitUntil(sendSavedReports());
});

self.addEventListener("install", (event) => {
  // No skipWaiting here: the open pages were built against the old shell, so the person chooses when to
  // switch, through the update banner.
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) =>
      // Without cookies, the offline page is the one anybody would see: never a signed-in person's header.
      cache.addAll(PRECACHE.map((url) => new Request(url, { credentials: "omit", cache: "no-cache" })))
    )
  );
});

self.addEventListener("activate", (event) => {
  const current = [SHELL_CACHE, PAGES_CACHE];
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(names.filter((name) => !current.includes(name)).map((name) => caches.delete(name)))
    )
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  // Posts (reports, sign-in, quick exit) go straight to the network: the Cache API cannot hold them, and a
  // post answered from anywhere else would be a post that never happened.
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(event));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(event));
  }
});

// A page may be kept for offline use only if the server allowed it to be stored at all: signed-in and case
// pages come with no-store and must never reach the phone's storage.
function mayKeep(response) {
  if (!response.ok || response.type !== "basic" || response.redirected) return false;
  const directives = (response.headers.get("Cache-Control") || "")
    .toLowerCase()
    .split(",")
    .map((directive) => directive.split("=")[0].trim());
  return !directives.includes("no-store") && !directives.includes("private");
}

async function networkFirst(event) {
  const request = event.request;
  try {
    const response = await fetch(request);
    const keeping = mayKeep(response);
    const copy = keeping ? response.clone() : null;
    // A page that is no longer allowed to be stored (someone signed in) must not linger from an earlier visit.
    event.waitUntil(
      caches.open(PAGES_CACHE).then((cache) => (keeping ? cache.put(request, copy) : cache.delete(request)))
    );
    return response;
  } catch (error) {
    const pages = await caches.open(PAGES_CACHE);
    const kept = await pages.match(request);
    if (kept) return kept;
    const offline = await caches.match(OFFLINE_URL);
    return offline || Response.error();
  }
}

async function cacheFirst(event) {
  const request = event.request;
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    const copy = response.clone();
    event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy)));
  }
  return response;
}

// --- push ---------------------------------------------------------------------------------------------------
// The server sends a small JSON message with a neutral text (never a name or anything about a case) and the
// page to open. A push must always show a notification: a browser punishes a worker that swallows one.

// Filled in by the server: the service's name and its neutral text, for a push that cannot be read.
const FALLBACK = {"__FALLBACK__": true};
const ICON = PRECACHE.find((url) => url.startsWith("/static/icons/icon-192"));

function samePath(url) {
  try {
    const target = new URL(url || "/", self.location.origin);
    return target.origin === self.location.origin ? target.pathname + target.search : "/";
  } catch (error) {
    return "/";
  }
}

self.addEventListener("push", (event) => {
  let message;
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  // Valid JSON is not always an object ("null" would make every read below throw, and show nothing).
  if (!message || typeof message !== "object") message = {};
  const options = {
    body: typeof message.body === "string" ? message.body : FALLBACK.body,
    icon: ICON,
    badge: ICON,
    data: { url: samePath(message.url) },
  };
  // The same tag replaces an older notification about the same thing instead of piling up.
  if (typeof message.tag === "string" && message.tag) {
    options.tag = message.tag;
    options.renotify = true;
  }
  const title = typeof message.title === "string" && message.title ? message.title : FALLBACK.title;
  event.waitUntil(self.registration.showNotification(title, options).then(() => acknowledge(message.ack)));
});

// A reminder that climbs the ladder (WhatsApp, SMS, a counselor's call) when it does not reach its person carries
// its job's id and a token: once shown, the phone says so, with those two only (no content, no cookie needed), so
// that the server knows it arrived. A failed acknowledgement is only a missed "shown": the ladder climbs.
function acknowledge(ack) {
  if (!ack || typeof ack !== "object" || !Number.isInteger(ack.job) || typeof ack.t !== "string") return undefined;
  return fetch("/push/tampil", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ job: ack.job, t: ack.t }),
    credentials: "omit",
  }).catch(() => undefined);
}

async function openPage(path) {
  const target = new URL(path, self.location.origin);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const showing = windows.find((client) => new URL(client.url).pathname === target.pathname);
  if (showing) return showing.focus();
  // navigate() works only in a window this worker serves: not one loaded with a hard reload, nor the first page of
  // a first visit (no clients.claim). Such a window is left alone and the page opens in a new one.
  const served = await self.clients.matchAll({ type: "window" });
  const other = served.find((client) => "navigate" in client && new URL(client.url).origin === target.origin);
  if (other) {
    const focused = await other.focus();
    return focused.navigate(target.href);
  }
  return self.clients.openWindow(target.href);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const path = samePath(event.notification.data && event.notification.data.url);
  event.waitUntil(openPage(path));
});

function keyBytes(base64url) {
  const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

// The browser renewed (or dropped) this device's subscription: pass the new one on, proving who we are with the
// old endpoint, which only this device and the server know.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil((async () => {
    const old = event.oldSubscription;
    if (!old) return;
    let renewed = event.newSubscription;
    if (!renewed) {
      const key = await fetch("/push/kunci", { credentials: "omit" }).then((response) => response.json());
      renewed = await self.registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(key.publicKey),
      });
    }
    await fetch("/push/ganti", {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ oldEndpoint: old.endpoint, subscription: renewed.toJSON() }),
    });
  })());
});
