import { type components, unwrap } from '@wagw/sdk';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Connection, describeError } from '../api/connection.js';
import type { LiveEvents } from '../events/live-events.js';
import { Notice } from '../ui/components.js';
import { formatTime } from '../ui/format.js';

type Chat = components['schemas']['ChatResponse'];
type Message = components['schemas']['MessageResponse'];

const MESSAGE_EVENTS = new Set(['message.received', 'message.sent', 'message.ack']);

/** A paired session's chats, the stored messages of one, and a composer (capability `send`). */
export function ChatPanel(props: {
  connection: Connection;
  events: LiveEvents;
  sessionId: string;
}) {
  const { api } = props.connection;
  const session = props.sessionId;
  const [chats, setChats] = useState<Chat[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const list = await unwrap(
        api.GET('/api/v1/sessions/{session}/chats', { params: { path: { session } } }),
      );
      setChats(list.items);
      if (selected) {
        const page = await unwrap(
          api.GET('/api/v1/sessions/{session}/chats/{jid}/messages', {
            params: { path: { session, jid: selected }, query: { limit: 50 } },
          }),
        );
        setMessages(page.items.slice().reverse());
      }
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [api, session, selected]);

  useEffect(() => {
    void load();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = props.events.subscribe((event) => {
      if (event.sessionId !== session || !MESSAGE_EVENTS.has(event.type)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 100);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, [load, props.events, session]);

  const open = (jid: string) => {
    setSelected(jid);
    setTo(jid);
  };

  const send = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const sent = await unwrap(
        api.POST('/api/v1/sessions/{session}/messages', {
          params: { path: { session } },
          body: { to: to.trim(), text },
        }),
      );
      setText('');
      setSelected(sent.chatJid);
      setTo(sent.chatJid);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="chat-title" class="card">
      <h2 id="chat-title">Messages</h2>
      {chats.length === 0 ? (
        <p class="muted">No chats yet.</p>
      ) : (
        <ul class="chats" aria-label="Chats">
          {chats.map((chat) => (
            <li key={chat.jid}>
              <button
                type="button"
                aria-pressed={chat.jid === selected}
                onClick={() => open(chat.jid)}
              >
                <strong>{chat.jid.split('@')[0]}</strong>{' '}
                <span class="muted">{chat.lastMessage?.text ?? chat.lastMessage?.type ?? ''}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {selected && (
        <ol class="chat" aria-label={`Messages with ${selected.split('@')[0]}`}>
          {messages.map((m) => (
            <li key={m.id} class={m.fromMe ? 'mine' : 'theirs'} data-message-status={m.status}>
              <span>{m.text ?? `[${m.type}]`}</span>{' '}
              <small class="muted">
                {formatTime(m.timestamp)} · {m.fromMe ? m.status : 'received'}
              </small>
            </li>
          ))}
        </ol>
      )}
      <form class="inline" onSubmit={(e) => void send(e)}>
        <div class="field">
          <label for="msg-to">To (number or JID)</label>
          <input id="msg-to" required value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="msg-text">Message</label>
          <input
            id="msg-text"
            required
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Send
        </button>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}
