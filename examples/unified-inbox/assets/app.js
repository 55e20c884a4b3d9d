// Unified inbox: the browser side of examples/unified-inbox.
//
// One page over the inbox routes the app mounts at /api/meta (see ADAPTERS.md): the
// conversation list, the open thread with its send box, and the connected accounts. Live
// changes arrive on one EventSource (/api/meta/events); nothing polls.
//
// The routes need a session: the page trades the one-time code of the printed link
// (`?token=...`) or the API token typed into its form for an HttpOnly cookie at
// /api/meta/session, and starts nothing else until it has one. Every request is same-origin, so
// the cookie goes along; a 401 at any time means the session ended and brings the form back.
//
// Data from the API is rendered with DOM nodes and textContent, never innerHTML, and only
// http(s) URLs become links or media sources.

const API = '/api/meta';
const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500; // the API clamps larger pages to this
const PREVIEW_CHARS = 100; // as the store cuts conversation previews
const LIST_REFRESH_DELAY_MS = 300;
const MAX_RETRY_DELAY_MS = 30000;

const PLATFORM_LABELS = { messenger: 'Facebook', instagram: 'Instagram' };

// Meta names reactions (`love`, `like`, ...) and sends the emoji only sometimes.
const REACTION_EMOJI = {
  love: '❤️', like: '👍', smile: '😆', haha: '😆', wow: '😮', sad: '😢', angry: '😠', yay: '🎉', other: '🙂',
};

// Labels of attachment cards; a type not listed here is shown as "Attachment".
const ATTACHMENT_LABELS = {
  image: 'Image', sticker: 'Sticker', video: 'Video', audio: 'Audio', file: 'File',
  share: 'Shared post', reel: 'Reel', ig_reel: 'Reel', ig_post: 'Post',
  template: 'Template', fallback: 'Link', location: 'Location', story_mention: 'Story',
};

const state = {
  platform: 'all',
  kind: 'all',              // 'direct', 'comments' or both
  archived: false,
  conversations: [],        // the list as filtered, newest activity first
  conversationsCursor: null,
  listSeq: 0,               // answers of superseded list requests are dropped
  open: null,               // the open conversation; kept even when the filter hides it
  messages: [],             // its loaded messages, oldest first
  olderCursor: null,
  threadLoaded: false,      // whether the open thread's first page has arrived
  replyTo: null,            // the message the next send replies to
  replyPrivately: false,    // in a comment thread: the reply is a DM to the comment's author
  accounts: [],
  checked: false,           // whether the accounts come from a live check
  sending: false,
  // Idempotency keys of replies whose answer never arrived (network error) or that were still
  // in flight (409), by request body: sending the same reply again reuses its key, so the
  // server answers the first attempt instead of sending twice.
  sendKeys: new Map(),
  file: null,               // the file picked or dropped for the next send
};

const $ = (selector) => document.querySelector(selector);
const byTestId = (id) => $(`[data-testid=${id}]`);
const dom = {
  // header and banners
  live: byTestId('live-status'), liveLabel: $('.live-label'), filter: byTestId('platform-filter'),
  kindFilter: byTestId('kind-filter'),
  archivedToggle: byTestId('archived-toggle'), accountsToggle: $('.accounts-toggle'),
  demoBanner: byTestId('demo-banner'), notice: byTestId('notice-banner'), errorBanner: byTestId('error-banner'),
  errorMessage: byTestId('error-banner-message'), errorFix: byTestId('error-banner-fix'),
  // conversation list
  listHeading: $('#conversations-heading'), listState: byTestId('conversations-state'),
  list: byTestId('conversation-list'), loadMore: byTestId('load-more-conversations'),
  // thread
  threadEmpty: byTestId('thread-empty'), threadHeader: $('.thread-header'), threadAvatar: $('.thread-avatar'),
  threadName: byTestId('thread-name'), threadSubtitle: $('.thread-subtitle'), back: $('.back-button'),
  threadWindow: byTestId('thread-window'), threadOwner: byTestId('thread-owner'), handover: byTestId('handover'),
  markRead: byTestId('mark-read'), archive: byTestId('archive'), thread: byTestId('thread'),
  threadState: $('.thread-state'), loadOlder: byTestId('load-older'), messages: $('.messages'),
  // send box
  form: byTestId('send-form'), replyBar: $('.reply-bar'), replyBarText: $('.reply-bar-text'),
  sendButton: byTestId('send-button'), sendError: byTestId('send-error'),
  sendErrorMessage: byTestId('send-error-message'), sendErrorFix: byTestId('send-error-fix'),
  sendErrorMeta: byTestId('send-error-meta'),
  fileInput: byTestId('file-input'), fileChip: byTestId('file-chip'), fileChipName: byTestId('file-chip-name'),
  uploadProgress: byTestId('upload-progress'), dropHint: byTestId('drop-hint'),
  // accounts
  accountsState: byTestId('accounts-state'), accountList: $('.account-list'),
  checkButton: byTestId('check-connections'),
  // signing in and out
  inboxOnly: document.querySelectorAll('.inbox-only'), signIn: byTestId('sign-in'),
  signInError: byTestId('sign-in-error'), signInButton: byTestId('sign-in-button'), signOut: byTestId('sign-out'),
};

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Creates an element. Props set attributes (`class`, `text` and `on<event>` are special);
 *  null/false props and children are skipped; string children become text nodes. */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.filter((child) => child != null && child !== false));
  return node;
}

/** The URL if it is http(s), else null: API data must never yield `javascript:` links. */
function safeUrl(value) {
  if (typeof value !== 'string' || value === '') return null;
  try {
    const url = new URL(value, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Store ids are integers serialized as strings: compare them as numbers without losing digits. */
function compareIds(a, b) {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function compareMessages(a, b) {
  return a.timestamp_ms - b.timestamp_ms || compareIds(a.id, b.id);
}

// Local time, always on a 24-hour clock (HH:MM) whatever the locale's habit.
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dateFormat = new Intl.DateTimeFormat(undefined, {
  day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });

/** Today: HH:MM; otherwise date and time (with the year when it is not this year). */
function formatTime(ms) {
  const date = new Date(ms);
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return clockFormat.format(date);
  if (date.getFullYear() === now.getFullYear()) return dateFormat.format(date);
  return fullFormat.format(date);
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const RELATIVE_UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400],
  ['hour', 3600], ['minute', 60], ['second', 1]];

/** How long ago `ms` was, in its largest whole unit: "2 min. ago", "3 days ago", "now". */
function formatAgo(ms) {
  const seconds = Math.round((ms - Date.now()) / 1000);
  const [unit, size] = RELATIVE_UNITS.find(([, size]) => Math.abs(seconds) >= size) ?? ['second', 1];
  return relativeFormat.format(Math.trunc(seconds / size), unit);
}

function timeNode(ms, className) {
  if (!ms) return null;
  return h('time', {
    class: className, datetime: new Date(ms).toISOString(),
    title: fullFormat.format(new Date(ms)), text: formatTime(ms),
  });
}

function platformBadge(platform) {
  return h('span', { class: `badge badge-${platform}`, text: PLATFORM_LABELS[platform] ?? platform });
}

const isCommentThread = (c) => c?.kind === 'comments';

function participantName(conversation) {
  if (isCommentThread(conversation)) return `Comments on post ${conversation.post_id}`;
  const profile = conversation.participant ?? {};
  if (profile.name) return profile.name;
  if (profile.username) return `@${profile.username}`;
  return conversation.participant_id;
}

function avatar(name, platform, className = '') {
  const initials = name.replace(/^@/, '').split(/\s+/).filter(Boolean)
    .slice(0, 2).map((word) => [...word][0].toUpperCase()).join('');
  return h('span', { class: `avatar avatar-${platform} ${className}`, 'aria-hidden': 'true', text: initials || '?' });
}

/** A short text for a message in quotes and the reply bar. */
function snippetOf(message) {
  if (message.deleted) return message.sender_name != null ? 'This comment was deleted' : 'This message was unsent';
  if (message.text) return message.text.length > 80 ? `${message.text.slice(0, 80)}…` : message.text;
  if (message.attachments.length) return `[${message.attachments[0].type}]`;
  return 'Message';
}

// ---------------------------------------------------------------------------------------------
// API calls and errors

/** An error answer: `detail` has the API's `{kind, message, fix, code, subcode, fbtrace_id}`;
 *  `status` the HTTP status (0: no answer). */
class ApiError extends Error {
  constructor(detail, status = 0) {
    super(detail.message);
    this.detail = detail;
    this.status = status;
  }
}

/** A same-origin request (the session cookie goes along); a body is always sent as JSON, the
 *  only type the API accepts. With `needsSession`, a 401 means the session ended: the page
 *  goes back to the sign-in form (and the caller still gets the error). */
async function request(url, { method = 'GET', body, idempotencyKey, needsSession = true } = {}) {
  const headers = body ? { 'Content-Type': 'application/json' } : {};
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError({
      kind: 'network', message: 'The server could not be reached.',
      fix: 'Check that the app is running and that you are online, then try again.',
    });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && needsSession) sessionEnded();
    // Routes of the inbox always answer an error body; anything else (a proxy, a missing
    // route) gets a generic one so callers can rely on the shape.
    throw new ApiError(data?.error ?? {
      kind: `http_${response.status}`, fix: '',
      message: `The server answered ${response.status} ${response.statusText}`.trim(),
    }, response.status);
  }
  return data;
}

const meta = (path, options) => request(API + path, options);

function errorDetail(err) {
  return err instanceof ApiError ? err.detail : { message: String(err?.message ?? err), fix: '' };
}

function showError(err, context) {
  const detail = errorDetail(err);
  dom.errorMessage.textContent = `${context}: ${detail.message}`;
  dom.errorFix.textContent = detail.fix ?? '';
  dom.errorFix.hidden = !detail.fix;
  dom.errorBanner.hidden = false;
}

/** Sets (or with null hides) a placeholder line: loading, empty and failed states. */
function setPlaceholder(node, text) {
  node.textContent = text ?? '';
  node.hidden = !text;
}

// ---------------------------------------------------------------------------------------------
// Conversation list

function matchesFilter(conversation) {
  return (state.platform === 'all' || conversation.platform === state.platform)
    && (state.kind === 'all' || (conversation.kind ?? 'direct') === state.kind)
    && conversation.archived === state.archived;
}

function sortConversations() {
  state.conversations.sort((a, b) =>
    b.last_message_at_ms - a.last_message_at_ms || compareIds(b.id, a.id));
}

/** Loads the list: the first page (as many rows as are shown, so a refresh keeps what "Load
 *  more" added), or with `more` the next page. */
async function loadConversations({ more = false } = {}) {
  const seq = ++state.listSeq;
  const params = new URLSearchParams({ platform: state.platform, archived: String(state.archived) });
  if (state.kind !== 'all') params.set('kind', state.kind);
  if (more) {
    params.set('cursor', state.conversationsCursor);
    params.set('limit', PAGE_SIZE);
  } else {
    params.set('limit', Math.min(MAX_PAGE_SIZE, Math.max(PAGE_SIZE, state.conversations.length)));
    if (!state.conversations.length) setPlaceholder(dom.listState, 'Loading conversations…');
  }
  dom.loadMore.disabled = true;
  try {
    const page = await meta(`/conversations?${params}`);
    if (seq !== state.listSeq) return;
    const rows = more ? [...state.conversations, ...page.data] : page.data;
    // A conversation that moved to the front while paging shows up twice: keep the newest.
    state.conversations = [...new Map(rows.map((c) => [c.id, c])).values()];
    state.conversationsCursor = page.next_cursor;
    sortConversations();
    renderConversations();
  } catch (err) {
    if (seq !== state.listSeq) return;
    setPlaceholder(dom.listState, state.conversations.length ? null : 'Conversations could not be loaded.');
    showError(err, 'Loading conversations');
  } finally {
    dom.loadMore.disabled = false;
  }
}

let listRefreshTimer = null;
/** Live events can come in bursts; one list reload answers them all. */
function scheduleListRefresh() {
  clearTimeout(listRefreshTimer);
  listRefreshTimer = setTimeout(() => loadConversations(), LIST_REFRESH_DELAY_MS);
}

function emptyListText() {
  if (state.archived) return 'No archived conversations.';
  if (state.kind === 'comments') return 'No comments yet. Comments on your posts and media appear here.';
  if (state.platform !== 'all') return `No ${PLATFORM_LABELS[state.platform]} conversations yet.`;
  return 'No conversations yet. Messages sent to your Pages and Instagram accounts appear here.';
}

function renderConversations() {
  // Rebuilding the list must not throw a keyboard user's focus back to the top of the page.
  const focusedId = document.activeElement?.closest?.('[data-testid=conversation]')?.dataset.conversationId;
  dom.list.replaceChildren(...state.conversations.map((c) => h('li', {}, conversationItem(c))));
  dom.loadMore.hidden = !state.conversationsCursor;
  setPlaceholder(dom.listState, state.conversations.length ? null : emptyListText());
  if (focusedId) conversationButton(focusedId)?.focus();
}

function conversationButton(id) {
  return dom.list.querySelector(`[data-conversation-id="${CSS.escape(id)}"]`);
}

function conversationItem(c) {
  const name = participantName(c);
  const unread = c.unread_count > 0;
  return h('button', {
    type: 'button', class: `conversation${unread ? ' has-unread' : ''}`, 'data-testid': 'conversation',
    'data-conversation-id': c.id, 'data-platform': c.platform, 'data-participant-id': c.participant_id,
    'data-kind': c.kind ?? 'direct',
    'aria-current': state.open?.id === c.id ? 'true' : null, onclick: () => openConversation(c),
  },
  avatar(name, c.platform),
  h('span', { class: 'conversation-body' },
    h('span', { class: 'conversation-top' },
      h('span', { class: 'conversation-name', 'data-testid': 'conversation-name', text: name }),
      timeNode(c.last_message_at_ms, 'conversation-time')),
    h('span', { class: 'conversation-bottom' },
      platformBadge(c.platform),
      h('span', { class: 'conversation-preview', 'data-testid': 'conversation-preview', text: previewText(c) }),
      unread ? h('span', { class: 'unread', 'data-testid': 'unread-count', text: String(c.unread_count) }) : null,
      unread ? h('span', { class: 'visually-hidden', text: ' unread' }) : null)));
}

function previewText(c) {
  // The store clears the preview when the newest message was unsent or cannot be shown.
  if (c.last_message_preview == null) return c.last_message_id ? 'No preview' : 'No messages yet';
  return c.last_message_direction === 'outbound' ? `You: ${c.last_message_preview}` : c.last_message_preview;
}

/** The preview the store would compute for a message. */
function messagePreview(m) {
  if (m.deleted) return null;
  if (m.text) return [...m.text].slice(0, PREVIEW_CHARS).join('');
  return m.attachments.length ? `[${m.attachments[0].type}]` : null;
}

/** Moves a live message into its list entry at once; the conversation_updated that follows
 *  every message event brings the authoritative counts. */
function applyMessageToList(m, isNew) {
  const c = state.conversations.find((x) => x.id === m.conversation_id);
  if (!c) {
    if (state.platform === 'all' || state.platform === m.platform) scheduleListRefresh();
    return;
  }
  const isLatest = m.message_id === c.last_message_id;
  if (!isLatest && m.timestamp_ms < c.last_message_at_ms) return; // an older message changed
  if (isNew && !isLatest && m.direction === 'inbound' && !m.read) c.unread_count += 1;
  Object.assign(c, {
    last_message_at_ms: Math.max(c.last_message_at_ms, m.timestamp_ms),
    last_message_id: m.message_id,
    last_message_preview: messagePreview(m),
    last_message_direction: m.direction,
  });
  sortConversations();
  renderConversations();
}

function onConversationUpdated(conversation) {
  if (!auth.signedIn) return; // an answer that arrived after signing out
  if (state.open?.id === conversation.id) {
    state.open = conversation;
    renderThreadHeader();
  }
  const others = state.conversations.filter((c) => c.id !== conversation.id);
  state.conversations = matchesFilter(conversation) ? [...others, conversation] : others;
  sortConversations();
  renderConversations();
}

function setPlatform(platform) {
  if (platform === state.platform) return;
  state.platform = platform;
  for (const button of dom.filter.querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(button.dataset.platform === platform));
  }
  resetList();
}

function setKind(kind) {
  if (kind === state.kind) return;
  state.kind = kind;
  for (const button of dom.kindFilter.querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(button.dataset.kind === kind));
  }
  resetList();
}

function setArchived(archived) {
  state.archived = archived;
  dom.listHeading.textContent = archived ? 'Archived' : 'Inbox';
  resetList();
}

function resetList() {
  state.conversations = [];
  state.conversationsCursor = null;
  dom.list.replaceChildren();
  dom.loadMore.hidden = true;
  loadConversations();
}

// ---------------------------------------------------------------------------------------------
// Thread

function openConversation(conversation) {
  state.open = conversation;
  state.messages = [];
  state.olderCursor = null;
  state.threadLoaded = false;
  setReplyTo(null);
  setFile(null);
  clearSendError();
  document.body.classList.add('thread-open');
  dom.thread.dataset.conversationId = conversation.id;
  dom.messages.replaceChildren();
  dom.loadOlder.hidden = true;
  setPlaceholder(dom.threadState, 'Loading messages…');
  renderThreadHeader();
  renderConversations();
  dom.form.elements.text.focus();
  loadThread();
  if (conversation.unread_count > 0) markRead();
}

function closeThreadOnNarrowScreens() {
  document.body.classList.remove('thread-open');
  if (state.open) conversationButton(state.open.id)?.focus();
}

function renderThreadHeader() {
  const c = state.open;
  dom.threadEmpty.hidden = Boolean(c);
  dom.threadHeader.hidden = !c;
  dom.thread.hidden = !c;
  dom.form.hidden = !c;
  if (!c) return;
  const name = participantName(c);
  dom.thread.dataset.platform = c.platform;
  const freshAvatar = avatar(name, c.platform, 'thread-avatar');
  dom.threadAvatar.replaceWith(freshAvatar);
  dom.threadAvatar = freshAvatar;
  dom.threadName.textContent = name;
  const account = state.accounts.find((a) => a.platform === c.platform && a.account_id === c.account_id);
  const details = [
    c.participant?.username && c.participant.name ? `@${c.participant.username}` : null,
    isCommentThread(c) ? 'public comments' : `ID ${c.participant_id}`,
    `via ${account ? accountName(account) : c.account_id}`,
    c.archived ? 'archived' : null,
  ].filter(Boolean).join(' · ');
  dom.threadSubtitle.replaceChildren(platformBadge(c.platform), ` ${details}`);
  dom.archive.textContent = c.archived ? 'Unarchive' : 'Archive';
  // Handover is about direct messages; a comment thread has no owner or window.
  dom.threadOwner.hidden = isCommentThread(c);
  dom.handover.hidden = isCommentThread(c);
  dom.form.elements.text.placeholder = isCommentThread(c)
    ? 'Pick a comment to reply to (Reply or Reply privately under it)'
    : 'Write a reply… (Enter to send, Shift+Enter for a new line)';
  renderOwner(c);
  renderWindow();
}

// ---------------------------------------------------------------------------------------------
// Handover: who answers the conversation. A person taking it over silences the bot (the
// server's handlers see the owner); handing it back lets the bot answer again.

const OWNER_LABELS = {
  bot: 'Answered by the bot',
  human: 'Answered by a person (you)',
  other_app: 'Answered by another app of the Page',
};

function renderOwner(c) {
  const owner = c.owner || 'bot';
  dom.threadOwner.dataset.owner = owner;
  dom.threadOwner.textContent = OWNER_LABELS[owner] || `Owner: ${owner}`;
  dom.handover.textContent = owner === 'human' ? 'Hand back' : 'Take over';
  dom.handover.title = owner === 'human'
    ? 'Let the bot answer this conversation again'
    : 'Answer this conversation yourself: the bot stops replying';
}

async function toggleHandover() {
  const c = state.open;
  if (!c) return;
  dom.handover.disabled = true;
  const action = c.owner === 'human' ? 'hand_back' : 'take_over';
  try {
    onConversationUpdated(await meta(`/conversations/${encodeURIComponent(c.id)}/${action}`, { method: 'POST' }));
  } catch (err) {
    showError(err, action === 'take_over' ? 'Taking the conversation over' : 'Handing the conversation back');
  } finally {
    dom.handover.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Messaging window: 24 hours after the customer's last message any reply goes; up to 7 days only
// a person's (this page's replies are a person's: the server tags them HUMAN_AGENT when needed).

const HUMAN_AGENT_MS = 7 * 24 * 3_600_000;

/** The open conversation's window now: the server's, or the state that followed it since. */
function currentWindow(c, now) {
  const w = c.window;
  if (!w || w.closes_at == null || now < w.closes_at) return w ?? null;
  const humanEnd = c.last_inbound_at_ms + HUMAN_AGENT_MS;
  return now < humanEnd ? { state: 'human_agent', closes_at: humanEnd } : { state: 'closed', closes_at: null };
}

/** "2 d 4 h", "5 h 12 min", "12 min", "under a minute". */
function timeLeft(ms) {
  const minutes = Math.floor(ms / 60_000);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (days > 0) return `${days} d ${hours % 24} h`;
  if (hours > 0) return `${hours} h ${minutes % 60} min`;
  return minutes > 0 ? `${minutes} min` : 'under a minute';
}

function renderWindow() {
  const c = state.open;
  const w = c ? currentWindow(c, Date.now()) : null;
  dom.threadWindow.hidden = !w;
  if (!w) return;
  dom.threadWindow.dataset.state = w.state;
  const left = w.closes_at == null ? '' : timeLeft(w.closes_at - Date.now());
  if (w.closes_at != null) dom.threadWindow.title = `Until ${fullFormat.format(new Date(w.closes_at))}`;
  else dom.threadWindow.removeAttribute('title');
  dom.threadWindow.textContent = {
    open: `Reply window: ${left} left`,
    human_agent: `Human agent only: ${left} left`,
    closed: 'Window closed: wait for the customer to write',
  }[w.state] ?? w.state;
}

async function fetchMessages(conversationId, cursor) {
  const params = new URLSearchParams({ conversation_id: conversationId, limit: PAGE_SIZE });
  if (cursor) params.set('cursor', cursor);
  return meta(`/messages?${params}`);
}

/** Loads the newest page into the open thread, merged with what is shown (live messages may
 *  have come first). After a reconnect a page that no longer overlaps (more was missed than a
 *  page) replaces the thread, so no gap hides inside it. */
async function loadThread() {
  const id = state.open.id;
  try {
    const page = await fetchMessages(id, null);
    if (state.open?.id !== id) return;
    const known = new Set(state.messages.map((m) => m.id));
    if (!state.threadLoaded) {
      state.olderCursor = page.next_cursor;
    } else if (!page.data.some((m) => known.has(m.id))) {
      state.messages = [];
      state.olderCursor = page.next_cursor;
    }
    state.threadLoaded = true;
    mergeMessages(page.data);
    renderThread({ keepOffset: false });
  } catch (err) {
    if (state.open?.id !== id) return;
    setPlaceholder(dom.threadState, state.messages.length ? null : 'Messages could not be loaded.');
    showError(err, 'Loading messages');
  }
}

async function loadOlder() {
  const id = state.open.id;
  dom.loadOlder.disabled = true;
  try {
    const page = await fetchMessages(id, state.olderCursor);
    if (state.open?.id !== id) return;
    mergeMessages(page.data);
    state.olderCursor = page.next_cursor;
    renderThread({ keepOffset: true });
  } catch (err) {
    showError(err, 'Loading older messages');
  } finally {
    dom.loadOlder.disabled = false;
  }
}

/** Adds or replaces messages by stored id, oldest first. */
function mergeMessages(messages) {
  const byId = new Map(state.messages.map((m) => [m.id, m]));
  for (const m of messages) byId.set(m.id, m);
  state.messages = [...byId.values()].sort(compareMessages);
}

/** Redraws the whole thread; `keepOffset` keeps the view still while older messages land
 *  above it, otherwise it scrolls to the newest. */
function renderThread({ keepOffset }) {
  const box = dom.thread;
  const fromBottom = box.scrollHeight - box.scrollTop;
  // Busy: screen readers wait for the finished list instead of reading every insertion.
  box.setAttribute('aria-busy', 'true');
  dom.messages.replaceChildren(...state.messages.map(messageItem));
  box.setAttribute('aria-busy', 'false');
  dom.loadOlder.hidden = !state.olderCursor;
  setPlaceholder(dom.threadState, state.messages.length ? null : 'No messages in this conversation yet.');
  box.scrollTop = keepOffset ? box.scrollHeight - fromBottom : box.scrollHeight;
}

/** Puts a live or just-sent message into the open thread, in time order or in place of the
 *  copy with the same stored id. */
function upsertThreadMessage(m) {
  if (state.open?.id !== m.conversation_id) return;
  const known = state.messages.some((x) => x.id === m.id);
  // Older than what is loaded: "Load older" shows it; inserting it now would hide a gap.
  if (!known && state.olderCursor && state.messages.length && compareMessages(m, state.messages[0]) < 0) return;
  const box = dom.thread;
  const stickToBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  mergeMessages([m]);
  placeMessageNode(m);
  // Replies quote the message they answer: redraw those quoting this one.
  for (const other of state.messages) {
    if (other.reply_to?.type === 'message' && other.reply_to.mid === m.message_id) placeMessageNode(other);
  }
  setPlaceholder(dom.threadState, null);
  if (!known && (stickToBottom || m.direction === 'outbound')) box.scrollTop = box.scrollHeight;
}

function placeMessageNode(m) {
  const node = messageItem(m);
  const find = (id) => dom.messages.querySelector(`:scope > [data-id="${CSS.escape(id)}"]`);
  const existing = find(m.id);
  if (existing) {
    existing.replaceWith(node);
    return;
  }
  const next = state.messages[state.messages.findIndex((x) => x.id === m.id) + 1];
  dom.messages.insertBefore(node, next ? find(next.id) : null);
}

function messageItem(m) {
  return h('li', {
    class: `message ${m.direction}${m.deleted ? ' deleted' : ''}${m.hidden ? ' hidden-comment' : ''}`,
    'data-testid': 'message', 'data-id': m.id, 'data-message-id': m.message_id,
    'data-direction': m.direction, 'data-hidden': m.hidden ? 'true' : null,
  },
  h('div', { class: 'bubble' }, ...messageBody(m)),
  reactionChips(m),
  messageMeta(m));
}

function messageBody(m) {
  const comment = isCommentThread(state.open);
  if (m.deleted) {
    const text = comment ? 'This comment was deleted' : 'This message was unsent';
    return [h('p', { class: 'message-note', 'data-testid': 'message-deleted', text })];
  }
  return [
    comment && m.direction === 'inbound'
      ? h('p', { class: 'comment-author', 'data-testid': 'comment-author', text: m.sender_name ?? m.sender_id })
      : null,
    m.hidden ? h('p', { class: 'message-note', 'data-testid': 'comment-hidden', text: 'Hidden: only its author sees it' }) : null,
    replyQuote(m),
    m.unsupported ? h('p', { class: 'message-note', 'data-testid': 'message-unsupported', text: 'Unsupported message' }) : null,
    m.text ? h('p', { class: 'message-text', 'data-testid': 'message-text', text: m.text }) : null,
    ...m.attachments.map(attachmentNode),
    m.quick_reply && m.direction === 'inbound'
      ? h('span', { class: 'quick-reply-tag', 'data-testid': 'quick-reply', title: 'Quick reply payload', text: m.quick_reply })
      : null,
  ].filter(Boolean);
}

function replyQuote(m) {
  const reply = m.reply_to;
  if (reply?.type === 'story') return card('Story', 'Replied to your story', safeUrl(reply.url), 'Open story');
  if (reply?.type === 'comment') {
    return h('blockquote', { class: 'reply-quote', 'data-testid': 'private-reply-quote' }, 'Private reply to a comment');
  }
  if (reply?.type !== 'message') return null;
  const original = state.messages.find((x) => x.message_id === reply.mid);
  return h('blockquote', { class: 'reply-quote', 'data-testid': 'reply-quote' },
    original ? snippetOf(original) : 'Replying to an earlier message');
}

// Media shown inline, by attachment type.
const INLINE_MEDIA = {
  image: (url, alt) => h('img', { src: url, alt, loading: 'lazy' }),
  sticker: (url, alt) => h('img', { src: url, alt, loading: 'lazy' }),
  video: (url) => h('video', { src: url, controls: true, preload: 'metadata' }),
  audio: (url) => h('audio', { src: url, controls: true, preload: 'none' }),
};

/**
 * Where to load an attachment from: the inbox's kept copy when it has one (Meta's CDN URLs
 * expire), else Meta's URL. A relative `media_url` is relative to where the routes are mounted.
 */
function attachmentUrl(a) {
  if (a.stored === true && typeof a.media_url === 'string' && a.media_url !== '') {
    const kept = /^(https?:)?\//.test(a.media_url) ? a.media_url : `${API}/${a.media_url}`;
    return safeUrl(kept) ?? safeUrl(a.url);
  }
  return safeUrl(a.url);
}

function attachmentNode(a) {
  const url = attachmentUrl(a);
  const label = ATTACHMENT_LABELS[a.type] ?? 'Attachment';
  if (url && INLINE_MEDIA[a.type]) {
    return media(INLINE_MEDIA[a.type](url, a.title || label), a.type, url, safeUrl(a.url));
  }
  if (url && a.type === 'file') {
    return h('a', { class: 'file-link', 'data-testid': 'attachment', href: url, download: true, target: '_blank', rel: 'noopener noreferrer' },
      h('span', { 'aria-hidden': 'true', text: '📎 ' }), fileName(safeUrl(a.url) ?? url, a.title));
  }
  if (a.type === 'story_mention') {
    // The story's media (a picture or a video) is shown as a picture; when it is not one, or
    // has expired, media() falls back to a link card.
    if (!url) return card(label, 'Mentioned you in their story', null, '');
    return h('div', { class: 'story-mention' },
      h('span', { class: 'card-caption', text: 'Mentioned you in their story' }),
      media(INLINE_MEDIA.image(url, 'Story'), a.type, url));
  }
  if (a.type === 'location') return locationCard(a, url);
  if (a.type === 'template' && a.payload?.template_type) return templateNode(a.payload);
  // Known types get their label; an unknown type is named as Meta spells it.
  return card(label, a.title || (ATTACHMENT_LABELS[a.type] ? null : a.type), url, 'Open link');
}

/** Media from Meta's CDN expires: when it no longer loads, offer the link instead. */
/** Inline media from `url`; when it does not load, Meta's `original` URL once (a kept copy the
 *  inbox serves only to download, such as an SVG, or one pruned since), then a card. */
function media(element, type, url, original = null) {
  const wrapper = h('div', { class: `media media-${type}`, 'data-testid': 'attachment' }, element);
  const failed = () => {
    if (original && element.getAttribute('src') !== original) {
      element.setAttribute('src', original);
      return;
    }
    element.removeEventListener('error', failed);
    wrapper.replaceWith(card(ATTACHMENT_LABELS[type], 'Could not be loaded (Meta’s media links expire)', original ?? url, 'Open original'));
  };
  element.addEventListener('error', failed);
  return wrapper;
}

/** A labelled card with an optional caption and link, for everything that is not inline media. */
function card(label, caption, url, linkText) {
  return h('div', { class: 'card', 'data-testid': 'attachment' },
    h('span', { class: 'card-label', text: label }),
    caption ? h('span', { class: 'card-caption', text: caption }) : null,
    url
      ? h('a', { class: 'card-link', href: url, target: '_blank', rel: 'noopener noreferrer', text: linkText })
      : h('span', { class: 'card-missing', text: 'No link available' }));
}

function fileName(url, title) {
  const last = new URL(url).pathname.split('/').pop();
  try {
    return title || decodeURIComponent(last) || 'Download file';
  } catch {
    return last; // not valid percent-encoding: show it as it is
  }
}

/** A structured template (generic cards, a button template, a media template) as sent: its
 *  cards, text and buttons. Buttons are shown, not tappable: only the customer can tap them. */
function templateNode(payload) {
  const type = payload.template_type;
  const elements = Array.isArray(payload.elements) ? payload.elements : [];
  const body = type === 'button'
    ? [h('p', { class: 'template-text', text: String(payload.text ?? '') }), templateButtons(payload.buttons)]
    : elements.map((e) => templateElement(type, e));
  return h('div', { class: `template template-${type}`, 'data-testid': 'template', 'data-template-type': type },
    h('span', { class: 'card-label', text: TEMPLATE_LABELS[type] ?? 'Template' }),
    ...body);
}

const TEMPLATE_LABELS = { generic: 'Cards', button: 'Buttons', media: 'Media' };

function templateElement(type, e) {
  const image = safeUrl(type === 'media' ? e.url : e.image_url);
  const video = type === 'media' && e.media_type === 'video';
  return h('div', { class: 'template-element', 'data-testid': 'template-element' },
    image ? (video ? INLINE_MEDIA.video(image) : INLINE_MEDIA.image(image, String(e.title ?? ''))) : null,
    e.title ? h('strong', { class: 'template-title', text: String(e.title) }) : null,
    e.subtitle ? h('span', { class: 'template-subtitle', text: String(e.subtitle) }) : null,
    templateButtons(e.buttons));
}

/** Postback buttons show their payload on hover; URL buttons link to their (http) URL. */
function templateButtons(buttons) {
  if (!Array.isArray(buttons) || !buttons.length) return null;
  return h('div', { class: 'template-buttons' }, ...buttons.map((b) => {
    const url = b.type === 'web_url' ? safeUrl(b.url) : null;
    if (url) {
      return h('a', { class: 'template-button', 'data-testid': 'template-button', href: url, target: '_blank', rel: 'noopener noreferrer', text: String(b.title ?? url) });
    }
    return h('span', {
      class: 'template-button', 'data-testid': 'template-button', 'data-payload': b.payload ?? null,
      title: b.payload ? `Postback payload: ${b.payload}` : null, text: String(b.title ?? ''),
    });
  }));
}

/** Meta sends a shared location's coordinates in the payload, usually without a URL. */
function locationCard(a, url) {
  const { lat, long } = a.payload?.coordinates ?? {};
  const known = typeof lat === 'number' && typeof long === 'number';
  return card('Location', a.title || (known ? `${lat.toFixed(5)}, ${long.toFixed(5)}` : null),
    url ?? (known ? `https://www.openstreetmap.org/?mlat=${lat}&mlon=${long}#map=16/${lat}/${long}` : null),
    'Open map');
}

function reactionChips(m) {
  if (!m.reactions.length) return null;
  const counts = new Map();
  for (const r of m.reactions) {
    const emoji = r.emoji || REACTION_EMOJI[r.reaction] || r.reaction || '👍';
    counts.set(emoji, (counts.get(emoji) ?? 0) + 1);
  }
  return h('ul', { class: 'reactions', 'aria-label': 'Reactions' },
    ...[...counts].map(([emoji, n]) =>
      h('li', { class: 'reaction', 'data-testid': 'reaction', text: n > 1 ? `${emoji} ${n}` : emoji })));
}

function messageMeta(m) {
  const edited = m.edit_count > 0 && !m.deleted;
  return h('div', { class: 'message-meta' },
    timeNode(m.timestamp_ms, 'message-time'),
    edited ? h('span', {
      class: 'edited', 'data-testid': 'edited', 'data-edit-count': m.edit_count,
      title: m.edited_at_ms ? `Last edited ${fullFormat.format(new Date(m.edited_at_ms))}` : null,
      text: m.edit_count > 1 ? `edited ${m.edit_count} times` : 'edited',
    }) : null,
    m.direction === 'outbound' ? receipt(m) : null,
    m.deleted ? null : h('button', {
      type: 'button', class: 'link-button reply-button', text: 'Reply',
      'aria-label': `Reply to: ${snippetOf(m)}`, onclick: () => setReplyTo(m),
    }),
    ...commentActions(m));
}

/** A comment's own actions: a private reply to its author, hiding, deleting. */
function commentActions(m) {
  if (!isCommentThread(state.open) || m.deleted) return [];
  const button = (testId, text, onclick) => h('button', {
    type: 'button', class: 'link-button', 'data-testid': testId, text,
    'aria-label': `${text}: ${snippetOf(m)}`, onclick,
  });
  return [
    m.direction === 'inbound' ? button('reply-privately', 'Reply privately', () => setReplyTo(m, { privately: true })) : null,
    button(m.hidden ? 'unhide-comment' : 'hide-comment', m.hidden ? 'Unhide' : 'Hide', () => moderate(m, m.hidden ? 'unhide' : 'hide')),
    button('delete-comment', 'Delete', () => moderate(m, 'delete')),
  ].filter(Boolean);
}

/** Hides, unhides or deletes a comment on Meta; the answer is the stored comment. */
async function moderate(m, action) {
  if (action === 'delete' && !confirm(`Delete this comment on ${PLATFORM_LABELS[m.platform]}? This cannot be undone.`)) return;
  const path = `/comments/${encodeURIComponent(m.message_id)}`;
  try {
    const updated = action === 'delete'
      ? await meta(path, { method: 'DELETE' })
      : await meta(`${path}/${action}`, { method: 'POST' });
    onMessage(updated, false);
  } catch (err) {
    showError(err, { hide: 'Hiding the comment', unhide: 'Unhiding the comment', delete: 'Deleting the comment' }[action]);
  }
}

/** Outbound receipts: ✓ once delivered, a highlighted ✓✓ once read. */
function receipt(m) {
  const [stateName, at, mark] = m.read_at_ms != null ? ['read', m.read_at_ms, '✓✓']
    : m.delivered_at_ms != null ? ['delivered', m.delivered_at_ms, '✓'] : [];
  if (!stateName) return null;
  const label = stateName === 'read' ? 'Read' : 'Delivered';
  return h('span', {
    class: `receipt receipt-${stateName}`, 'data-testid': 'receipt', 'data-state': stateName, role: 'img',
    'aria-label': label, title: `${label} ${fullFormat.format(new Date(at))}`, text: mark,
  });
}

async function markRead() {
  const id = state.open?.id;
  if (!id) return;
  try {
    onConversationUpdated(await meta(`/conversations/${encodeURIComponent(id)}/read`, { method: 'POST' }));
  } catch (err) {
    showError(err, 'Marking the conversation read');
  }
}

async function toggleArchive() {
  const c = state.open;
  if (!c) return;
  dom.archive.disabled = true;
  try {
    const action = c.archived ? 'unarchive' : 'archive';
    onConversationUpdated(await meta(`/conversations/${encodeURIComponent(c.id)}/${action}`, { method: 'POST' }));
  } catch (err) {
    showError(err, c.archived ? 'Unarchiving' : 'Archiving');
  } finally {
    dom.archive.disabled = false;
  }
}

/** Any message from the API or the live stream: into the thread and the list. */
function onMessage(m, isNew) {
  if (!auth.signedIn) return;
  upsertThreadMessage(m);
  applyMessageToList(m, isNew);
  noteAccountEvent(m);
}

// ---------------------------------------------------------------------------------------------
// Sending

function setReplyTo(message, { privately = false } = {}) {
  state.replyTo = message;
  state.replyPrivately = Boolean(message) && privately;
  dom.replyBar.hidden = !message;
  dom.replyBar.dataset.private = String(state.replyPrivately);
  const how = state.replyPrivately ? 'Replying privately (a direct message) to' : 'Replying to';
  dom.replyBarText.textContent = message ? `${how} “${snippetOf(message)}”` : '';
  if (message) dom.form.elements.text.focus();
}

function quickReplies(value) {
  return value.split(',').map((title) => title.trim()).filter(Boolean)
    .map((title) => ({ title, payload: title.toUpperCase().replace(/\s+/g, '_') }));
}

/** The send requests for a validated form. The API takes text or an attachment, not both: the
 *  attachment goes first, so the quick replies (shown under the last message) follow the text. */
/** The fields every send of the open conversation has. */
function sendBase() {
  const c = state.open;
  // A person writes these replies: the server adds HUMAN_AGENT only when the window needs it.
  return { platform: c.platform, account_id: c.account_id, recipient_id: c.participant_id, human_agent: true };
}

function sendRequests(fields) {
  const base = sendBase();
  const requests = [];
  const url = fields.attachment_url.value.trim();
  if (url) requests.push({ ...base, attachment: { type: fields.attachment_type.value, url } });
  const text = fields.text.value.trim();
  if (text) requests.push({ ...base, text });
  // A file goes first (see onSubmit) and carries the reply-to itself.
  if (state.replyTo && !state.file && requests.length) requests[0].reply_to = state.replyTo.message_id;
  const replies = quickReplies(fields.quick_replies.value);
  // With only a file, its form carries them (see sendFile).
  if (replies.length && requests.length) requests[requests.length - 1].quick_replies = replies;
  return requests;
}

function validationError(fields) {
  if (isCommentThread(state.open)) {
    if (!state.replyTo) return { message: 'Pick the comment to answer: Reply (public) or Reply privately under it.' };
    if (!fields.text.value.trim()) return { message: 'Write the reply.' };
    if (fields.attachment_url.value.trim() || state.file) return { message: 'A reply to a comment is text only.' };
    return null;
  }
  const url = fields.attachment_url.value.trim();
  if (!url && !fields.text.value.trim() && !state.file) {
    return { message: 'Write a message, give an attachment URL or attach a file.' };
  }
  if (url && !(/^https?:\/\//i.test(url) && safeUrl(url))) {
    const fix = 'Meta downloads the file from this URL, so it must be public.';
    return { message: 'The attachment URL must start with http:// or https://.', fix };
  }
  return null;
}

/** A fresh idempotency key: a random UUID (randomUUID needs a secure context, such as https or
 *  localhost; elsewhere the same 122 random bits come from getRandomValues). */
function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Sends one reply under an idempotency key: the key of an earlier attempt at the same reply
 *  whose answer never arrived, else a new one. The key is forgotten once the server answered
 *  (a retry after a definite answer is a new message), kept after a network error or a 409. */
async function sendReply(body) {
  const id = JSON.stringify(body);
  const idempotencyKey = state.sendKeys.get(id) ?? newIdempotencyKey();
  state.sendKeys.set(id, idempotencyKey);
  try {
    const answer = await meta('/messages', { method: 'POST', body, idempotencyKey });
    state.sendKeys.delete(id);
    return answer;
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 0 && err.status !== 409)) state.sendKeys.delete(id);
    throw err;
  }
}

async function onSubmit(event) {
  event.preventDefault();
  if (state.sending || !state.open) return;
  const fields = dom.form.elements;
  clearSendError();
  const invalid = validationError(fields);
  if (invalid) {
    showSendError(invalid);
    return;
  }
  setSending(true);
  if (isCommentThread(state.open)) {
    await replyToComment(fields);
    return;
  }
  try {
    if (state.file) {
      const sent = await sendFile(state.file);
      if (sent.stored !== false) onMessage(sent, true);
      setFile(null);
      setReplyTo(null);
    }
    for (const body of sendRequests(fields)) {
      const sent = await sendReply(body);
      // Shown at once; the live event for the same stored id later replaces it in place. A
      // message Meta accepted but the server could not store yet (`stored: false`) has no id:
      // its echo stores it, and the live event shows it then.
      if (sent.stored !== false) onMessage(sent, true);
      // Clear what went out, so a failure of the second request leaves only it to retry;
      // a field edited while the request was in flight is left alone.
      const field = body.attachment ? fields.attachment_url : fields.text;
      if (field.value.trim() === (body.attachment?.url ?? body.text)) field.value = '';
      setReplyTo(null);
    }
    fields.quick_replies.value = '';
  } catch (err) {
    showSendError(errorDetail(err));
  } finally {
    setSending(false);
    fields.text.focus();
  }
}

// ---------------------------------------------------------------------------------------------
// Files: picked or dropped, sent as multipart/form-data with upload progress

function setFile(file) {
  state.file = file ?? null;
  if (!file) dom.fileInput.value = '';
  dom.fileChip.hidden = !file;
  dom.fileChipName.textContent = file ? `${file.name} (${formatSize(file.size)})` : '';
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Sends the file with the same fields as a JSON send, under an idempotency key kept (like a
 *  reply's) until the server answered. XMLHttpRequest, because fetch reports no upload progress. */
async function sendFile(file) {
  const base = sendBase();
  const fields = dom.form.elements;
  const replies = quickReplies(fields.quick_replies.value);
  const textFollows = fields.text.value.trim() || fields.attachment_url.value.trim();
  const extra = {};
  if (state.replyTo) extra.reply_to = state.replyTo.message_id;
  if (replies.length && !textFollows) extra.quick_replies = JSON.stringify(replies);
  const id = JSON.stringify({ ...base, ...extra, file: [file.name, file.size, file.lastModified] });
  const idempotencyKey = state.sendKeys.get(id) ?? newIdempotencyKey();
  state.sendKeys.set(id, idempotencyKey);
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...base, ...extra })) form.append(name, String(value));
  form.append('file', file, file.name);
  try {
    const answer = await postForm(API + '/messages', form, idempotencyKey);
    state.sendKeys.delete(id);
    return answer;
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 0 && err.status !== 409)) state.sendKeys.delete(id);
    throw err;
  } finally {
    dom.uploadProgress.hidden = true;
  }
}

function postForm(url, form, idempotencyKey) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Idempotency-Key', idempotencyKey);
    xhr.responseType = 'json';
    dom.uploadProgress.value = 0;
    dom.uploadProgress.hidden = false;
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) dom.uploadProgress.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener('load', () => {
      const data = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      if (xhr.status === 401) sessionEnded();
      reject(new ApiError(data?.error ?? {
        kind: `http_${xhr.status}`, fix: '', message: `The server answered ${xhr.status}`,
      }, xhr.status));
    });
    xhr.addEventListener('error', () => reject(new ApiError({
      kind: 'network', message: 'The file could not be sent: the server could not be reached.',
      fix: 'Check that the app is running and that you are online, then try again.',
    })));
    xhr.send(form);
  });
}

/** Drag-and-drop onto the thread or the composer attaches the first file dropped. */
function setUpFileDrop() {
  let depth = 0;
  const zone = document.querySelector('.thread-pane') ?? dom.thread;
  const carriesFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  const show = (on) => { zone.classList.toggle('dropping', on); dom.dropHint.hidden = !on; };
  zone.addEventListener('dragenter', (e) => {
    if (!carriesFiles(e) || !state.open || isCommentThread(state.open)) return;
    e.preventDefault();
    depth += 1;
    show(true);
  });
  zone.addEventListener('dragover', (e) => {
    if (carriesFiles(e) && state.open) e.preventDefault();
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) show(false);
  });
  zone.addEventListener('drop', (e) => {
    depth = 0;
    show(false);
    const file = e.dataTransfer?.files?.[0];
    if (!file || !state.open || isCommentThread(state.open)) return;
    e.preventDefault();
    clearSendError();
    setFile(file);
  });
  dom.fileInput.addEventListener('change', () => {
    clearSendError();
    setFile(dom.fileInput.files?.[0] ?? null);
  });
  dom.fileChip.querySelector('.file-remove').addEventListener('click', () => setFile(null));
}

/** A public reply (a comment in the thread) or a private one (a DM that opens a conversation
 *  with the comment's author, which shows up in the list). */
async function replyToComment(fields) {
  const comment = state.replyTo;
  const privately = state.replyPrivately;
  const text = fields.text.value.trim();
  try {
    const sent = await meta(`/comments/${encodeURIComponent(comment.message_id)}/replies`, {
      method: 'POST', body: { text, private: privately },
    });
    if (sent.stored !== false) onMessage(sent, true);
    if (fields.text.value.trim() === text) fields.text.value = '';
    setReplyTo(null);
    if (privately) {
      dom.notice.querySelector('.banner-message').textContent =
        `Private reply sent to ${comment.sender_name ?? comment.sender_id}: it is in their direct conversation.`;
      dom.notice.hidden = false;
    }
  } catch (err) {
    showSendError(errorDetail(err));
  } finally {
    setSending(false);
    fields.text.focus();
  }
}

function setSending(sending) {
  state.sending = sending;
  dom.sendButton.disabled = sending;
  dom.sendButton.textContent = sending ? 'Sending…' : 'Send';
  dom.form.setAttribute('aria-busy', String(sending));
}

function showSendError(detail) {
  dom.sendErrorMessage.textContent = detail.message;
  dom.sendErrorFix.textContent = detail.fix ?? '';
  dom.sendErrorFix.hidden = !detail.fix;
  const ids = [['code', detail.code], ['subcode', detail.subcode], ['fbtrace_id', detail.fbtrace_id]]
    .filter(([, value]) => value != null).map(([name, value]) => `${name} ${value}`);
  dom.sendErrorMeta.textContent = ids.join(' · ');
  dom.sendErrorMeta.hidden = !ids.length;
  dom.sendError.hidden = false;
}

const clearSendError = () => { dom.sendError.hidden = true; };

// ---------------------------------------------------------------------------------------------
// Accounts

function accountName(a) {
  return a.name || (a.username ? `@${a.username}` : a.account_id);
}

/** Loads the accounts from /status (with `check`, asking Meta too). When that fails, /accounts
 *  still lists them, without what they received; a failed check keeps what is shown. */
async function loadAccounts({ check = false } = {}) {
  const { generation } = auth;
  try {
    const status = await meta(check ? '/status?check=true' : '/status');
    if (generation !== auth.generation) return;
    state.accounts = status.accounts;
    state.checked = check;
  } catch (err) {
    const fallback = check ? null : await meta('/accounts').catch(() => null);
    if (generation !== auth.generation) return;
    if (!fallback) {
      if (!check) setPlaceholder(dom.accountsState, 'Accounts could not be loaded.');
      showError(err, check ? 'Checking connections' : 'Loading accounts');
      return;
    }
    state.accounts = fallback.data;
    state.checked = false;
  }
  renderAccounts();
  if (state.open) renderThreadHeader(); // it names the account ("via ...")
}

async function checkConnections() {
  Object.assign(dom.checkButton, { disabled: true, textContent: 'Checking…' });
  await loadAccounts({ check: true }); // never throws: failures go to the banner
  Object.assign(dom.checkButton, { disabled: false, textContent: 'Check connections' });
}

/** Inbound events move an account's "last event" without a reload. */
function noteAccountEvent(m) {
  if (m.direction !== 'inbound') return;
  const account = state.accounts.find((a) => a.platform === m.platform && a.account_id === m.account_id);
  if (!account || (account.last_event_at_ms ?? 0) >= m.timestamp_ms) return;
  account.last_event_at_ms = m.timestamp_ms;
  renderAccounts();
}

function renderAccounts() {
  const empty = !state.accounts.length;
  setPlaceholder(dom.accountsState, empty
    ? 'No accounts connected yet. Connect a Facebook Page (and the Instagram account linked to it) to receive messages.'
    : null);
  dom.checkButton.hidden = empty;
  dom.accountList.replaceChildren(...state.accounts.map(accountItem));
  followBackfills();
}

function accountItem(a) {
  const noToken = a.connected === false;
  return h('li', { class: 'account', 'data-testid': 'account', 'data-platform': a.platform, 'data-account-id': a.account_id },
    h('div', { class: 'account-head' },
      platformBadge(a.platform),
      h('span', { class: 'account-name', text: accountName(a) }),
      h('span', { class: `status status-${a.status}`, 'data-testid': 'account-status', text: a.status.replace(/_/g, ' ') })),
    h('dl', { class: 'facts' },
      fact('ID', a.account_id),
      a.linked_page_id ? fact('Linked Page', a.linked_page_id) : null,
      fact('Token', noToken ? 'none: reconnect to send'
        : a.token_expires_at_ms ? `expires ${fullFormat.format(new Date(a.token_expires_at_ms))}` : 'no expiry known'),
      fact('Last event', a.last_event_at_ms ? formatTime(a.last_event_at_ms) : 'none yet'),
      a.unrouted_events != null ? fact('Unrouted events', String(a.unrouted_events)) : null),
    deliveriesNode(a),
    tallyLine('unknown-events', 'Not understood', a.unknown_events ?? [],
      (u) => tallyItem('unknown-event', u, u.reason)),
    tallyLine('unrouted', 'Kept out of the inbox', a.unrouted ?? [],
      (u) => tallyItem('unrouted-reason', u, UNROUTED_REASONS[u.reason] ?? u.reason)),
    backfillNode(a),
    checkList(a));
}

// What /status says the account received (every instance of the app, kept in its store): the
// last event per kind, the events it could not understand and the ones no tenant received, each
// by reason. A kind that stopped arriving points at a webhook field no longer subscribed.

const UNROUTED_REASONS = {
  no_tenant: 'before it was connected',
  disconnected: 'while disconnected',
  unhandled_object: 'of a webhook object the app does not handle',
};

/** "Received: message 2 min. ago · reaction 3 days ago", the most recent kind first. */
function deliveriesNode(a) {
  if (!Array.isArray(a.deliveries)) return null; // an answer of /accounts, not /status
  if (!a.deliveries.length) {
    return h('p', { class: 'account-note', 'data-testid': 'deliveries', text: 'No events received yet.' });
  }
  const recentFirst = [...a.deliveries].sort((x, y) => y.last_at_ms - x.last_at_ms);
  return tallyLine('deliveries', 'Received', recentFirst, (d) => h('span', {
    'data-testid': 'delivery', 'data-kind': d.kind,
    title: `${d.count} received, the last on ${fullFormat.format(new Date(d.last_at_ms))}`,
    text: `${d.kind.replace(/_/g, ' ')} ${formatAgo(d.last_at_ms)}`,
  }));
}

/** One line of items separated by dots; nothing when there are none. */
function tallyLine(testId, label, tallies, item) {
  if (!tallies.length) return null;
  const items = tallies.map(item).flatMap((node, i) => (i ? [' · ', node] : [node]));
  return h('p', { class: 'account-note', 'data-testid': testId }, `${label}: `, ...items);
}

/** "3 × while disconnected (2 min. ago)". */
function tallyItem(testId, tally, label) {
  return h('span', {
    'data-testid': testId, 'data-reason': tally.reason,
    title: `the last on ${fullFormat.format(new Date(tally.last_at_ms))}`,
    text: `${tally.count} × ${label} (${formatAgo(tally.last_at_ms)})`,
  });
}

// History backfill: the account's earlier conversations, imported when it was connected. A
// run's progress is the share of the time between now and its horizon it has read back.

let backfillPoll = null;

function backfillNode(a) {
  const b = a.backfill;
  if (!('backfill' in a)) return null; // an answer of /accounts, not /status
  const start = () => startBackfill(a);
  if (!b) {
    return h('div', { class: 'backfill', 'data-testid': 'backfill', 'data-state': 'none' },
      h('button', { type: 'button', class: 'btn', text: 'Import earlier conversations', onclick: start }));
  }
  const counts = `${b.messages} message${b.messages === 1 ? '' : 's'} from ${b.conversations} conversation${b.conversations === 1 ? '' : 's'}`;
  const span = Math.max(1, b.started_at_ms - b.horizon_ms);
  const read = b.oldest_reached_ms == null ? 0 : Math.min(1, (b.started_at_ms - b.oldest_reached_ms) / span);
  const text = {
    running: `Importing history: ${counts} so far`,
    paused: `History import paused: ${counts}`,
    done: `History imported: ${counts}`,
    failed: `History import failed: ${b.error ?? 'unknown error'}`,
  }[b.state] ?? `History: ${b.state}`;
  return h('div', { class: 'backfill', 'data-testid': 'backfill', 'data-state': b.state },
    h('p', { class: 'account-note', 'data-testid': 'backfill-text', text }),
    b.state === 'running' || b.state === 'paused'
      ? h('progress', { 'data-testid': 'backfill-progress', max: '100', value: String(Math.round(read * 100)), 'aria-label': 'History import' })
      : null,
    b.state === 'failed' || b.state === 'paused'
      ? h('button', { type: 'button', class: 'btn', text: 'Resume', onclick: start })
      : null);
}

async function startBackfill(a) {
  try {
    const query = new URLSearchParams({ platform: a.platform });
    a.backfill = await meta(`/accounts/${encodeURIComponent(a.account_id)}/backfill?${query}`, { method: 'POST' });
    renderAccounts();
  } catch (err) {
    showError(err, 'Importing earlier conversations');
  }
}

/** While a backfill runs, the panel follows it. */
function followBackfills() {
  const running = state.accounts.some((a) => a.backfill?.state === 'running');
  if (running && !backfillPoll) {
    backfillPoll = setInterval(() => loadAccounts({ check: state.checked }), 2000);
  } else if (!running && backfillPoll) {
    clearInterval(backfillPoll);
    backfillPoll = null;
  }
}

function fact(term, value) {
  return h('div', {}, h('dt', { text: term }), h('dd', { text: value }));
}

function checkList(a) {
  if (!state.checked) return null;
  if (!a.checks) return h('p', { class: 'account-note', text: 'Not checked: there is no Page token to check with.' });
  return h('ul', { class: 'checks', 'aria-label': `Checks of ${accountName(a)}` },
    ...a.checks.map((check) => {
      const docs = safeUrl(check.docs);
      return h('li', { class: `check check-${check.status}`, 'data-testid': 'check', 'data-status': check.status },
        h('span', { class: 'check-head' },
          h('span', { class: `status status-${check.status}`, text: check.status }),
          h('span', { class: 'check-title', text: check.title })),
        check.detail ? h('p', { class: 'check-detail', text: check.detail }) : null,
        check.fix ? h('p', { class: 'check-fix', 'data-testid': 'check-fix', text: check.fix }) : null,
        docs ? h('a', { href: docs, target: '_blank', rel: 'noopener noreferrer', text: 'Meta’s documentation' }) : null);
    }));
}

// ---------------------------------------------------------------------------------------------
// Live events

// `lastEventId` is the change the page has seen last: a stream opened again resumes after it
// (the browser resends it by itself when it reconnects; a new EventSource passes it in the URL).
const live = { source: null, lastEventId: null, retryDelay: 1000, retryTimer: null };

function setLiveState(value) {
  dom.live.dataset.state = value;
  dom.liveLabel.textContent = { open: 'Live', connecting: 'Connecting…', closed: 'Offline, retrying' }[value];
}

function connectLive() {
  clearTimeout(live.retryTimer);
  live.source?.close();
  setLiveState('connecting');
  const resume = live.lastEventId === null ? '' : `?last_event_id=${encodeURIComponent(live.lastEventId)}`;
  const source = new EventSource(`${API}/events${resume}`);
  live.source = source;
  source.addEventListener('open', () => {
    live.retryDelay = 1000;
    setLiveState('open');
  });
  source.addEventListener('error', () => {
    if (source !== live.source) return;
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (an error status): retry ourselves, backing off.
      setLiveState('closed');
      live.retryTimer = setTimeout(retryLive, live.retryDelay);
      live.retryDelay = Math.min(live.retryDelay * 2, MAX_RETRY_DELAY_MS);
    } else {
      setLiveState('connecting'); // the browser reconnects by itself (the server asks for 2 s)
    }
  });
  // The stream starts after `ready`'s id and then replays whatever changed since: nothing is
  // missed while it was down, so nothing needs reloading.
  onEvent(source, 'ready', () => {});
  onEvent(source, 'message_stored', (data) => onMessage(data.message, true));
  onEvent(source, 'message_updated', (data) => onMessage(data.message, false));
  onEvent(source, 'conversation_updated', (data) => onConversationUpdated(data.conversation));
  // The server no longer holds what changed after our last event: reload, then follow anew.
  onEvent(source, 'reset', () => {
    live.lastEventId = null;
    source.close();
    resync();
    connectLive();
  });
}

/** The stream's status is hidden from scripts, and a 401 (the session ended) looks like any
 *  other failure: ask the session route first (its 401 brings the sign-in form back). */
async function retryLive() {
  await request(SESSION).catch(() => {});
  if (auth.signedIn) connectLive();
}

function onEvent(source, type, handler) {
  source.addEventListener(type, (event) => {
    if (event.lastEventId) live.lastEventId = event.lastEventId;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // a frame we cannot read is skipped; the next reload corrects the view
    }
    handler(data);
  });
}

// Accounts are not reloaded: that would drop the results of a connection check, and their
// last event times follow the live messages (noteAccountEvent).
function resync() {
  loadConversations();
  if (state.open) loadThread();
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

const SESSION = `${API}/session`;
// `generation` counts sign-outs: answers to requests of an earlier session are dropped.
const auth = { signedIn: false, generation: 0 };

/** The one-time code of the printed sign-in link (`?token=...`). It leaves the address bar
 *  before it is used: spent or not, it must not stay in the history, a bookmark or a reload. */
function takeSignInCode() {
  const params = new URLSearchParams(location.search);
  const code = params.get('token');
  if (code == null) return null;
  params.delete('token');
  replaceQuery(params);
  return code.trim() || null;
}

/** Trades an API token or a one-time code for the session cookie. */
async function signIn(token) {
  await request(SESSION, { method: 'POST', body: { token }, needsSession: false });
}

/** Whether the session cookie is valid (the route answers 401 when it is not). */
async function hasSession() {
  try {
    await request(SESSION, { needsSession: false });
    return true;
  } catch (err) {
    if (err.status === 401) return false;
    throw err;
  }
}

function setSignInError(message) {
  dom.signInError.textContent = message ?? '';
  dom.signInError.hidden = !message;
}

function showSignIn(message) {
  auth.signedIn = false;
  for (const node of dom.inboxOnly) node.hidden = true;
  dom.signIn.hidden = false;
  setSignInError(message);
  dom.signIn.elements.token.focus();
}

function enterInbox() {
  auth.signedIn = true;
  dom.signIn.hidden = true;
  dom.signIn.reset(); // the token does not stay in the page
  setSignInError(null);
  dom.errorBanner.hidden = true;
  for (const node of dom.inboxOnly) node.hidden = false;
  noteOAuthReturn();
  loadAppInfo();
  loadConversations();
  loadAccounts();
  connectLive();
}

/** Stops what the inbox started and forgets what it showed; the filters stay as they were. */
function leaveInbox() {
  auth.signedIn = false;
  auth.generation += 1;
  state.listSeq += 1; // a list answer in flight is dropped
  clearTimeout(listRefreshTimer);
  clearTimeout(live.retryTimer);
  live.source?.close();
  Object.assign(live, { source: null, lastEventId: null, retryDelay: 1000 });
  setLiveState('connecting');
  Object.assign(state, {
    conversations: [], conversationsCursor: null, open: null, messages: [], olderCursor: null,
    threadLoaded: false, replyTo: null, accounts: [], checked: false,
  });
  dom.form.reset();
  setReplyTo(null);
  clearSendError();
  dom.list.replaceChildren();
  dom.loadMore.hidden = true;
  dom.messages.replaceChildren();
  dom.accountList.replaceChildren();
  clearInterval(backfillPoll);
  backfillPoll = null;
  dom.checkButton.hidden = true;
  setPlaceholder(dom.listState, 'Loading conversations…');
  setPlaceholder(dom.accountsState, 'Loading accounts…');
  dom.errorBanner.hidden = true;
  dom.notice.hidden = true;
  document.body.classList.remove('thread-open', 'accounts-open');
  renderThreadHeader();
}

/** A 401 while the inbox was in use: the cookie expired or its token was rotated out. */
function sessionEnded() {
  if (!auth.signedIn) return;
  leaveInbox();
  showSignIn('Your session has ended: sign in again.');
}

async function onSignIn(event) {
  event.preventDefault();
  const field = dom.signIn.elements.token;
  const token = field.value.trim();
  if (!token) {
    setSignInError('Enter the API token.');
    field.focus();
    return;
  }
  dom.signInButton.disabled = true;
  setSignInError(null);
  try {
    await signIn(token);
    enterInbox();
  } catch (err) {
    setSignInError(err.status === 401
      ? 'That API token is not valid: check it and try again.'
      : errorDetail(err).message);
    field.select();
  } finally {
    dom.signInButton.disabled = false;
  }
}

async function signOut() {
  dom.signOut.disabled = true;
  try {
    await request(SESSION, { method: 'DELETE', needsSession: false });
  } catch (err) {
    showError(err, 'Signing out'); // the cookie may still be valid: stay, and say so
    return;
  } finally {
    dom.signOut.disabled = false;
  }
  leaveInbox();
  showSignIn(null);
}

// ---------------------------------------------------------------------------------------------
// Start

async function loadAppInfo() {
  try {
    const info = await request('/api/app', { needsSession: false });
    dom.demoBanner.hidden = !info.demo;
  } catch {
    // Optional: without /api/app the inbox works the same, just without the demo notice.
  }
}

/** Meta's login dialog returns through the callback to `?connected=N`: say so once. */
function noteOAuthReturn() {
  const params = new URLSearchParams(location.search);
  const connected = params.get('connected');
  if (connected == null) return;
  dom.notice.querySelector('.banner-message').textContent =
    `Connected ${connected} account${connected === '1' ? '' : 's'}.`;
  dom.notice.hidden = false;
  params.delete('connected');
  replaceQuery(params);
}

/** Rewrites the address bar's query without a reload or a history entry. */
function replaceQuery(params) {
  const query = params.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
}

/** Narrow screens show the accounts as a drawer; wide ones ignore the class. */
function setAccountsDrawer(open) {
  document.body.classList.toggle('accounts-open', open);
  dom.accountsToggle.setAttribute('aria-expanded', String(open));
  (open ? $('.accounts-close') : dom.accountsToggle).focus();
}

function bindEvents() {
  dom.signIn.addEventListener('submit', onSignIn);
  dom.signOut.addEventListener('click', signOut);
  for (const button of dom.filter.querySelectorAll('button')) {
    button.addEventListener('click', () => setPlatform(button.dataset.platform));
  }
  for (const button of dom.kindFilter.querySelectorAll('button')) {
    button.addEventListener('click', () => setKind(button.dataset.kind));
  }
  dom.archivedToggle.addEventListener('change', () => setArchived(dom.archivedToggle.checked));
  dom.accountsToggle.addEventListener('click', () => setAccountsDrawer(!document.body.classList.contains('accounts-open')));
  $('.accounts-close').addEventListener('click', () => setAccountsDrawer(false));
  for (const banner of [dom.errorBanner, dom.notice]) {
    banner.querySelector('.banner-close').addEventListener('click', () => { banner.hidden = true; });
  }
  dom.loadMore.addEventListener('click', () => loadConversations({ more: true }));
  dom.loadOlder.addEventListener('click', loadOlder);
  dom.back.addEventListener('click', closeThreadOnNarrowScreens);
  dom.markRead.addEventListener('click', markRead);
  dom.archive.addEventListener('click', toggleArchive);
  dom.handover.addEventListener('click', toggleHandover);
  dom.checkButton.addEventListener('click', checkConnections);
  dom.form.addEventListener('submit', onSubmit);
  setUpFileDrop();
  dom.form.querySelector('.reply-cancel').addEventListener('click', () => setReplyTo(null));
  dom.form.elements.text.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter is a newline; an IME composition's Enter is not a send.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      dom.form.requestSubmit();
    } else if (event.key === 'Escape' && state.replyTo) {
      setReplyTo(null);
    }
  });
}

/** Signs in with the printed link's code when the URL has one, then shows the inbox when the
 *  session cookie is valid and the sign-in form when it is not. */
async function start() {
  bindEvents();
  renderThreadHeader();
  setInterval(renderWindow, 30_000);
  const code = takeSignInCode();
  let problem = null;
  if (code) {
    try {
      await signIn(code);
    } catch (err) {
      problem = err.status === 401
        ? 'This sign-in link was already used or has expired: enter the API token.'
        : errorDetail(err).message;
    }
  }
  let signedIn = false;
  try {
    signedIn = await hasSession();
  } catch (err) {
    problem ??= errorDetail(err).message;
  }
  if (signedIn) enterInbox();
  else showSignIn(problem);
}

start();
