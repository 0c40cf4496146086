// Cablecast demo chat. Talks to ChatChannel through @anycable/web (served by cablecast from its npm
// package, see the import map in index.html) on AnyCable's extended protocol,
// `actioncable-v1-ext-json`, so the page shows what that protocol adds to Action Cable:
//  * no message lost: after a network drop or a server restart the client restores its session (or
//    subscribes again) and asks for the room's history since the last message it saw; the server
//    sends each missed message once, in order, before the live ones;
//  * presence: who is in the room (join on subscribe, `presence` events, `presence.info()`);
//  * whispers: "Alice is typing…", sent to the other subscribers of the room and never stored.
//
// Rules the page keeps:
//  * Only what the server sends is shown; sent messages are never echoed locally, so every tab in a
//    room renders the same list in the same order (recovered messages included).
//  * All user-supplied text reaches the DOM through textContent, never as markup.
//  * Event handlers belong to one subscription; they are unbound when it is replaced (room switch,
//    name change), so a late event of an old subscription cannot change what the page shows.
import { createCable } from "@anycable/web";

const DEFAULT_ROOMS = ["lobby", "rust", "cpp"];
const NAME_STORAGE_KEY = "cablecast.chat.name";
const NAME_MAX_LENGTH = 32;
const ROOM_MAX_LENGTH = 40;
// Auto-scroll only when the reader is already at (or near) the bottom; someone scrolled up to read
// history should not be yanked down by every new message.
const STICK_TO_BOTTOM_PX = 48;
// Consecutive messages by one author within this window share one header.
const GROUP_WINDOW_MS = 2 * 60 * 1000;
// A typing whisper at most this often while keys are pressed; others show it for TYPING_SHOWN_MS
// after the last one, so the indicator stays lit while someone types and goes out when they stop.
const TYPING_WHISPER_EVERY_MS = 1000;
const TYPING_SHOWN_MS = 3000;

const byId = (id) => document.getElementById(id);
const ui = {
  status: byId("status"),
  statusText: byId("status-text"),
  nameForm: byId("name-form"),
  name: byId("name"),
  roomList: byId("room-list"),
  roomForm: byId("room-form"),
  room: byId("room"),
  presenceCount: byId("presence-count"),
  presenceList: byId("presence-list"),
  presenceUnavailable: byId("presence-unavailable"),
  currentRoom: byId("current-room"),
  messageCount: byId("message-count"),
  scroller: byId("scroller"),
  empty: byId("empty"),
  messages: byId("messages"),
  historyGap: byId("history-gap"),
  typing: byId("typing"),
  composer: byId("composer"),
  input: byId("message-input"),
  send: byId("send"),
};

const state = {
  name: "",
  room: DEFAULT_ROOMS[0],
  rooms: [...DEFAULT_ROOMS],
  cable: null,
  channel: null,
  unbind: [], // the current subscription's event handlers
  connected: false,
  // What each visited room has shown: switching back shows it again, and the history the protocol
  // fetches on re-subscribing fills in what was said meanwhile.
  views: new Map(), // room -> {items: [<li>], lastMessage: {user, at} | null, gap: boolean}
  members: {}, // presence id -> info, as the server reports it for the current room
  typists: new Map(), // name -> timer clearing their indicator
  lastTypingWhisperAt: 0,
};

const pageParams = new URLSearchParams(window.location.search);
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

// ---- persistence ---------------------------------------------------------------------------------

// localStorage can throw (disabled storage, opaque origins); the name then lasts for the page only.
function loadName() {
  try {
    return normalizeName(window.localStorage.getItem(NAME_STORAGE_KEY) || "");
  } catch (error) {
    console.warn("Cablecast chat: localStorage unavailable, name will not persist", error);
    return "";
  }
}

function saveName(name) {
  try {
    window.localStorage.setItem(NAME_STORAGE_KEY, name);
  } catch (error) {
    console.warn("Cablecast chat: could not persist name", error);
  }
}

function randomGuestName() {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = new Uint8Array(4);
  window.crypto.getRandomValues(bytes);
  return "guest-" + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

function normalizeName(raw) {
  return String(raw).trim().slice(0, NAME_MAX_LENGTH);
}

function normalizeRoom(raw) {
  return String(raw).trim().slice(0, ROOM_MAX_LENGTH);
}

// ---- connection ----------------------------------------------------------------------------------

// Same-origin /cable unless the page is told otherwise: ?cable=<url> (development against another
// server) wins over <meta name="action-cable-url">. The client needs an absolute ws(s):// URL (it
// adds `sid` to it to restore the session). The user name travels as a query parameter,
// percent-encoded (encodeURIComponent, not URLSearchParams, so a space is %20 and never "+").
function cableUrl(user) {
  const meta = document.querySelector('meta[name="action-cable-url"]');
  const configured = pageParams.get("cable") || (meta && meta.content) || "/cable";
  const url = new URL(configured, window.location.href);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  const separator = url.search.length > 1 ? "&" : "?";
  url.search = (url.search.length > 1 ? url.search : "") + separator + "user=" + encodeURIComponent(user);
  return url.href;
}

function openCable() {
  const cable = createCable(cableUrl(state.name), {
    protocol: "actioncable-v1-ext-json",
    logLevel: pageParams.has("debug") ? "debug" : "warn",
  });
  // While the client recovers a dropped connection its channels emit nothing until they are back;
  // the cable's own event is what says the connection is gone.
  cable.on("disconnect", () => {
    if (cable === state.cable) setStatus("disconnected", { willAttemptReconnect: true });
  });
  state.cable = cable;
}

function subscribe() {
  const room = state.room;
  const view = viewFor(room);
  const channel = state.cable.subscribeTo("ChatChannel", { room });
  state.channel = channel;
  setStatus("connecting");
  state.unbind = [
    channel.on("connect", ({ restored }) => {
      setStatus("connected");
      // Joins once per subscription: after a reconnect the protocol itself joins again.
      channel.presence.join(state.name, { name: state.name }).catch(warnOf("presence join failed"));
      // After a restored session events may have been missed while the connection was down.
      if (restored) channel.presence.reset();
      refreshPresence(channel);
    }),
    channel.on("disconnect", () => {
      setStatus("disconnected", { willAttemptReconnect: true });
      renderPresence({});
      clearTypists();
    }),
    channel.on("close", (error) => {
      setStatus(error && error.name === "SubscriptionRejectedError" ? "rejected" : "disconnected");
    }),
    channel.on("message", (data) => receive(view, data)),
    // The presence helper updates its own state from the same event; read it once it has.
    channel.on("presence", () => queueMicrotask(() => refreshPresence(channel))),
    channel.on("info", ({ type }) => {
      if (type === "history_not_found") markHistoryGap(view);
    }),
  ];
}

// Drops the current subscription: its handlers first, so nothing it still emits reaches the page;
// the unsubscribe also takes this page out of the room's presence list at once.
function unsubscribe() {
  for (const unbind of state.unbind) unbind();
  state.unbind = [];
  const channel = state.channel;
  state.channel = null;
  if (channel) channel.disconnect();
  renderPresence({});
  clearTypists();
}

// A new name needs a new connection (the server identifies it by ?user=). The old one leaves the
// room's presence explicitly before it closes; a bare close would keep the old name listed for the
// server's presence TTL, which is there so that a network drop does not make a member flicker.
function reconnect() {
  const { cable, channel } = state;
  for (const unbind of state.unbind) unbind();
  state.unbind = [];
  state.channel = null;
  state.cable = null;
  const connected = cable && channel && cable.state === "connected" && channel.state === "connected";
  const leave = connected ? channel.presence.leave() : Promise.resolve();
  leave.catch(warnOf("presence leave failed")).finally(() => cable && cable.disconnect());
  renderPresence({});
  clearTypists();
  openCable();
  subscribe();
}

function warnOf(what) {
  return (error) => console.warn(`Cablecast chat: ${what}`, error);
}

// ---- status badge --------------------------------------------------------------------------------

function setStatus(kind, { willAttemptReconnect = false } = {}) {
  const labels = {
    connecting: "Connecting…",
    connected: "Connected",
    disconnected: willAttemptReconnect ? "Reconnecting…" : "Disconnected",
    rejected: "Rejected",
  };
  state.connected = kind === "connected";
  ui.status.dataset.state = kind;
  ui.status.dataset.user = state.name;
  ui.status.dataset.room = state.room;
  ui.statusText.textContent = labels[kind];
  ui.status.title =
    kind === "rejected"
      ? `The server refused the subscription to #${state.room}`
      : `${labels[kind]} as ${state.name}`;
  updateComposer();
}

function updateComposer() {
  ui.input.disabled = !state.connected;
  ui.send.disabled = !state.connected || ui.input.value.trim() === "";
  ui.input.placeholder = state.connected ? `Message #${state.room}` : "Waiting for the connection…";
}

// ---- rooms ---------------------------------------------------------------------------------------

function renderRooms() {
  const items = state.rooms.map((room) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "room-button";
    button.dataset.room = room;
    button.dataset.testid = "room-" + room;
    if (room === state.room) button.setAttribute("aria-current", "true");
    const hash = document.createElement("span");
    hash.className = "room-hash";
    hash.textContent = "#";
    const label = document.createElement("span");
    label.className = "room-name";
    label.textContent = room;
    button.append(hash, label);
    const item = document.createElement("li");
    item.append(button);
    return item;
  });
  ui.roomList.replaceChildren(...items);
  ui.currentRoom.textContent = "# " + state.room;
  ui.currentRoom.dataset.room = state.room;
  document.title = `#${state.room} · Cablecast chat`;
}

function switchRoom(rawRoom) {
  const room = normalizeRoom(rawRoom);
  if (room === "" || (room === state.room && state.channel)) return;
  if (!state.rooms.includes(room)) state.rooms.push(room);
  unsubscribe();
  state.room = room;
  showView(viewFor(room));
  renderRooms();
  subscribe();
  ui.input.focus();
}

// ---- presence ------------------------------------------------------------------------------------

function refreshPresence(channel) {
  channel.presence.info().then(
    (members) => {
      if (channel !== state.channel) return;
      ui.presenceUnavailable.hidden = true;
      renderPresence(members || {});
    },
    (error) => {
      // A server (or stream) without presence answers with an error frame; other failures
      // (the connection dropped meanwhile) are retried on the next connect.
      const unsupported = error && error.message === "failed to retrieve presence";
      if (channel === state.channel && unsupported) ui.presenceUnavailable.hidden = false;
      warnOf("presence info failed")(error);
    },
  );
}

function renderPresence(members) {
  state.members = members;
  const entries = Object.entries(members)
    .map(([id, info]) => ({ id, name: displayName(id, info) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const items = entries.map(({ id, name }) => {
    const item = document.createElement("li");
    item.className = "member" + (id === state.name ? " self" : "");
    item.dataset.testid = "member";
    item.dataset.id = id;
    const avatar = document.createElement("span");
    avatar.className = "avatar avatar-small";
    avatar.setAttribute("aria-hidden", "true");
    avatar.style.setProperty("--hue", String(hueFor(name)));
    avatar.textContent = initialOf(name);
    const label = document.createElement("span");
    label.className = "member-name";
    label.textContent = name;
    item.append(avatar, label);
    if (id === state.name) {
      const you = document.createElement("span");
      you.className = "member-you";
      you.textContent = "you";
      item.append(you);
    }
    return item;
  });
  ui.presenceList.replaceChildren(...items);
  ui.presenceCount.textContent = entries.length > 0 ? String(entries.length) : "";
}

// The info is whatever another client sent in its join: use its name only when it is a string.
function displayName(id, info) {
  const name = info && typeof info.name === "string" ? normalizeName(info.name) : "";
  return name || normalizeName(id) || "?";
}

// ---- typing indicator (whispers) -----------------------------------------------------------------

function whisperTyping() {
  const channel = state.channel;
  if (!channel || !state.connected || ui.input.value.trim() === "") return;
  const now = Date.now();
  if (now - state.lastTypingWhisperAt < TYPING_WHISPER_EVERY_MS) return;
  state.lastTypingWhisperAt = now;
  channel.whisper({ event: "typing", name: state.name });
}

function showTyping(rawName) {
  const name = normalizeName(rawName);
  if (name === "" || name === state.name) return;
  clearTimeout(state.typists.get(name));
  state.typists.set(
    name,
    setTimeout(() => stopTyping(name), TYPING_SHOWN_MS),
  );
  renderTyping();
}

function stopTyping(name) {
  if (!state.typists.has(name)) return;
  clearTimeout(state.typists.get(name));
  state.typists.delete(name);
  renderTyping();
}

function clearTypists() {
  for (const timer of state.typists.values()) clearTimeout(timer);
  state.typists.clear();
  renderTyping();
}

function renderTyping() {
  const names = [...state.typists.keys()];
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
  ui.typing.textContent = text;
  ui.typing.dataset.names = names.join(",");
}

// ---- messages ------------------------------------------------------------------------------------

function viewFor(room) {
  if (!state.views.has(room)) state.views.set(room, { items: [], lastMessage: null, gap: false });
  return state.views.get(room);
}

function showView(view) {
  ui.messages.replaceChildren(...view.items);
  renderMessageMeta(view);
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}

function renderMessageMeta(view) {
  const n = view.items.length;
  ui.messageCount.textContent = n === 1 ? "1 message" : `${n} messages`;
  ui.empty.textContent = `No messages in #${state.room} yet. Say hello!`;
  ui.empty.hidden = n > 0;
  ui.historyGap.hidden = !view.gap;
}

function markHistoryGap(view) {
  view.gap = true;
  if (view === viewFor(state.room)) renderMessageMeta(view);
}

// A stable hue per user name so an author keeps the same avatar colour everywhere.
function hueFor(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

function initialOf(name) {
  return (Array.from(name.trim())[0] || "?").toUpperCase();
}

// Chat messages ({user, text}, broadcast by ChatChannel#speak) and whispers ({event, name}, from
// the other pages in the room) arrive on the same subscription.
function receive(view, data) {
  if (data && data.event === "typing" && typeof data.name === "string") {
    showTyping(data.name);
    return;
  }
  if (!data || typeof data.user !== "string" || typeof data.text !== "string") {
    console.warn("Cablecast chat: ignoring a message without string user/text", data);
    return;
  }
  stopTyping(data.user);
  appendMessage(view, data);
}

function appendMessage(view, data) {
  const current = view === viewFor(state.room);
  const scroller = ui.scroller;
  const nearBottom =
    scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STICK_TO_BOTTOM_PX;
  const receivedAt = new Date();
  const own = data.user === state.name;
  const continued =
    view.lastMessage !== null &&
    view.lastMessage.user === data.user &&
    receivedAt - view.lastMessage.at < GROUP_WINDOW_MS;

  const item = document.createElement("li");
  item.className = "message" + (own ? " own" : "") + (continued ? " continued" : "");
  item.dataset.testid = "message";
  item.dataset.user = data.user;

  const avatar = document.createElement("div");
  avatar.className = "avatar";
  avatar.setAttribute("aria-hidden", "true");
  avatar.style.setProperty("--hue", String(hueFor(data.user)));
  avatar.textContent = initialOf(data.user);

  const author = document.createElement("span");
  author.className = "author";
  author.textContent = data.user;

  const time = document.createElement("time");
  time.className = "time";
  time.dateTime = receivedAt.toISOString();
  time.title = "Received " + fullTimeFormat.format(receivedAt);
  time.textContent = timeFormat.format(receivedAt);

  const meta = document.createElement("div");
  meta.className = "meta";
  meta.append(author, time);

  const text = document.createElement("p");
  text.className = "text";
  text.textContent = data.text;

  const body = document.createElement("div");
  body.className = "body";
  body.append(meta, text);

  item.append(avatar, body);
  view.items.push(item);
  view.lastMessage = { user: data.user, at: receivedAt };
  if (!current) return;

  ui.messages.append(item);
  renderMessageMeta(view);
  if (own || nearBottom) scroller.scrollTop = scroller.scrollHeight;
}

// ---- wiring --------------------------------------------------------------------------------------

function applyName() {
  const name = normalizeName(ui.name.value);
  if (name === "") {
    ui.name.value = state.name; // an empty name would be refused by the server; keep the old one
    return;
  }
  ui.name.value = name;
  if (name === state.name) return;
  state.name = name;
  saveName(name);
  reconnect();
}

async function sendMessage() {
  const text = ui.input.value.trim();
  const channel = state.channel;
  if (text === "" || !channel || !state.connected) return;
  ui.send.disabled = true;
  try {
    await channel.perform("speak", { user: state.name, text });
    // Keep anything typed meanwhile; clear only what was sent.
    if (ui.input.value.trim() === text) ui.input.value = "";
    state.lastTypingWhisperAt = 0; // the next keystroke says "typing" again at once
  } catch (error) {
    // Not connected (any more): keep the text so nothing is lost.
    console.warn("Cablecast chat: message not sent", error);
  } finally {
    updateComposer();
  }
}

function start() {
  state.name = loadName() || randomGuestName();
  saveName(state.name);
  ui.name.value = state.name;

  ui.nameForm.addEventListener("submit", (event) => {
    event.preventDefault();
    applyName();
    ui.input.focus();
  });
  ui.name.addEventListener("change", applyName);

  ui.roomList.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-room]");
    if (button) switchRoom(button.dataset.room);
  });
  ui.roomForm.addEventListener("submit", (event) => {
    event.preventDefault();
    switchRoom(ui.room.value);
    ui.room.value = "";
  });

  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage();
  });
  ui.input.addEventListener("input", () => {
    updateComposer();
    whisperTyping();
  });

  // Closing the tab leaves the room at once rather than after the presence TTL; a page restored
  // from the back/forward cache joins again.
  window.addEventListener("pagehide", () => {
    if (state.channel && state.connected) state.channel.presence.leave().catch(() => {});
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted || !state.channel || !state.connected) return;
    state.channel.presence.join(state.name, { name: state.name }).catch(warnOf("presence join failed"));
  });

  renderRooms();
  showView(viewFor(state.room));
  renderPresence({});
  openCable();
  subscribe();
}

start();
