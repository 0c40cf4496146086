// Cablecast demo chat. Talks to ChatChannel through the official Action Cable client (the global
// `ActionCable` from /actioncable.js) so the page doubles as a check that the unmodified client works.
//
// Rules the page keeps:
//  * Only what the server broadcasts is shown; sent messages are never echoed locally, so every tab in
//    a room renders the same list in the same order.
//  * All user-supplied text reaches the DOM through textContent, never as markup.
//  * Every subscription gets a generation number; callbacks of a subscription that has been replaced
//    (room switch, name change) are ignored, so a late "disconnected" from an old consumer cannot
//    overwrite the state of the new one.
"use strict";

(() => {
  const DEFAULT_ROOMS = ["lobby", "rust", "cpp"];
  const NAME_STORAGE_KEY = "cablecast.chat.name";
  const NAME_MAX_LENGTH = 32;
  const ROOM_MAX_LENGTH = 40;
  // Auto-scroll only when the reader is already at (or near) the bottom; someone scrolled up to read
  // history should not be yanked down by every new message.
  const STICK_TO_BOTTOM_PX = 48;
  // Consecutive messages by one author within this window share one header.
  const GROUP_WINDOW_MS = 2 * 60 * 1000;

  const byId = (id) => document.getElementById(id);
  const ui = {
    status: byId("status"),
    statusText: byId("status-text"),
    nameForm: byId("name-form"),
    name: byId("name"),
    roomList: byId("room-list"),
    roomForm: byId("room-form"),
    room: byId("room"),
    currentRoom: byId("current-room"),
    messageCount: byId("message-count"),
    scroller: byId("scroller"),
    empty: byId("empty"),
    messages: byId("messages"),
    composer: byId("composer"),
    input: byId("message-input"),
    send: byId("send"),
  };

  const state = {
    name: "",
    room: DEFAULT_ROOMS[0],
    rooms: [...DEFAULT_ROOMS],
    consumer: null,
    subscription: null,
    generation: 0,
    connected: false,
    messageCount: 0,
    lastMessage: null, // {user, at} of the newest rendered message, for grouping
  };

  const pageParams = new URLSearchParams(window.location.search);
  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const fullTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

  // ---- persistence -------------------------------------------------------------------------------

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

  // ---- connection --------------------------------------------------------------------------------

  // Same-origin /cable unless the page is told otherwise: ?cable=<url> (development against another
  // server) wins over <meta name="action-cable-url">. The user name travels as a query parameter,
  // percent-encoded (encodeURIComponent, not URLSearchParams, so a space is %20 and never "+").
  function cableUrl(user) {
    const configured = pageParams.get("cable") || ActionCable.getConfig("url") || "/cable";
    const url = new URL(configured, window.location.href);
    const separator = url.search.length > 1 ? "&" : "?";
    url.search = (url.search.length > 1 ? url.search : "") + separator + "user=" + encodeURIComponent(user);
    return url.href;
  }

  function openConsumer() {
    state.consumer = ActionCable.createConsumer(cableUrl(state.name));
  }

  function closeConsumer() {
    const consumer = state.consumer;
    if (!consumer) return;
    state.consumer = null;
    consumer.disconnect();
    // Consumer#disconnect only closes an *open* socket; one still handshaking would open later and
    // linger with a stopped monitor. Abort it explicitly.
    const socket = consumer.connection && consumer.connection.webSocket;
    if (socket && socket.readyState === WebSocket.CONNECTING) socket.close();
  }

  function subscribe() {
    const generation = ++state.generation;
    const isCurrent = () => generation === state.generation;
    setStatus("connecting");
    state.subscription = state.consumer.subscriptions.create(
      { channel: "ChatChannel", room: state.room },
      {
        connected() {
          if (isCurrent()) setStatus("connected");
        },
        disconnected({ willAttemptReconnect } = {}) {
          if (isCurrent()) setStatus("disconnected", { willAttemptReconnect });
        },
        rejected() {
          if (isCurrent()) setStatus("rejected");
        },
        received(data) {
          if (isCurrent()) appendMessage(data);
        },
      },
    );
  }

  function unsubscribe() {
    state.generation++;
    if (state.subscription) {
      state.subscription.unsubscribe();
      state.subscription = null;
    }
  }

  function reconnect() {
    unsubscribe();
    closeConsumer();
    openConsumer();
    subscribe();
  }

  // ---- status badge ------------------------------------------------------------------------------

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

  // ---- rooms -------------------------------------------------------------------------------------

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
    if (room === "" || (room === state.room && state.subscription)) return;
    if (!state.rooms.includes(room)) state.rooms.push(room);
    unsubscribe();
    state.room = room;
    clearMessages();
    renderRooms();
    subscribe();
    ui.input.focus();
  }

  // ---- messages ----------------------------------------------------------------------------------

  function clearMessages() {
    ui.messages.replaceChildren();
    state.messageCount = 0;
    state.lastMessage = null;
    renderMessageMeta();
  }

  function renderMessageMeta() {
    const n = state.messageCount;
    ui.messageCount.textContent = n === 1 ? "1 message" : `${n} messages`;
    ui.empty.textContent = `No messages in #${state.room} yet. Say hello!`;
    ui.empty.hidden = n > 0;
  }

  // A stable hue per user name so an author keeps the same avatar colour everywhere.
  function hueFor(name) {
    let hash = 0;
    for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    return hash % 360;
  }

  function appendMessage(data) {
    if (!data || typeof data.user !== "string" || typeof data.text !== "string") {
      console.warn("Cablecast chat: ignoring a broadcast without string user/text", data);
      return;
    }
    const scroller = ui.scroller;
    const nearBottom =
      scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STICK_TO_BOTTOM_PX;
    const receivedAt = new Date();
    const own = data.user === state.name;
    const continued =
      state.lastMessage !== null &&
      state.lastMessage.user === data.user &&
      receivedAt - state.lastMessage.at < GROUP_WINDOW_MS;

    const item = document.createElement("li");
    item.className = "message" + (own ? " own" : "") + (continued ? " continued" : "");
    item.dataset.testid = "message";
    item.dataset.user = data.user;

    const avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.style.setProperty("--hue", String(hueFor(data.user)));
    avatar.textContent = (Array.from(data.user.trim())[0] || "?").toUpperCase();

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
    ui.messages.append(item);

    state.messageCount++;
    state.lastMessage = { user: data.user, at: receivedAt };
    renderMessageMeta();
    if (own || nearBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  // ---- wiring ------------------------------------------------------------------------------------

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
    // The server identifies the connection by the name given at connect time, so a new name needs
    // a new connection; the list is kept because the room did not change.
    reconnect();
  }

  function sendMessage() {
    const text = ui.input.value.trim();
    if (text === "" || !state.subscription || !state.connected) return;
    // perform() returns false when the socket is not open; keep the text so nothing is lost.
    if (state.subscription.perform("speak", { user: state.name, text })) {
      ui.input.value = "";
      updateComposer();
    }
  }

  function start() {
    if (typeof window.ActionCable === "undefined") {
      ui.status.dataset.state = "disconnected";
      ui.statusText.textContent = "Client failed to load";
      throw new Error("Cablecast chat: /actioncable.js did not define ActionCable");
    }
    if (pageParams.has("debug")) ActionCable.logger.enabled = true;

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
    ui.input.addEventListener("input", updateComposer);

    renderRooms();
    clearMessages();
    openConsumer();
    subscribe();
  }

  start();
})();
