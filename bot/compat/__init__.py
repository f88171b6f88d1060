"""Every botbuilder / msrest workaround, each beside the upstream defect or gap it covers (botbuilder-python 4.17.1,
msrest 0.7.1). Moving to the Microsoft 365 Agents SDK means deleting this folder and fixing what no longer imports.

- auth.py: OpenID metadata fetched with blocking `requests` on the event loop; IndexError for an unknown key id
  (so key rollover never refreshes); a new MSAL client and token per turn. Cached credentials and fixed lookups.
- connector.py: a new ConnectorClient per turn, msrest's ClientRetryPolicy set-up (~3-6 ms CPU), `requests` in a
  thread per reply, and every reply's Activity rebuilt and validated again. One pooled aiohttp client per app id.
- inbound.py: msrest keeps any JSON value in a "str" field and turns bad list items into None; botbuilder drops
  `conversation.tenantId`. Inbound JSON is checked before it becomes an Activity.
- invoke.py: `on_adaptive_card_invoke`'s response is serialised twice (HTTP 500); the invoke is answered by us.
- sent_card.py: `TurnContext.send_activities` deep-copies every outgoing card; a sent card is never copied.
- state.py: ConversationState walks the whole state five times a turn; it is encoded once and written only when
  its stored text changed, on the turn's own database connection.
- state_storage.py: botbuilder-python has no SQL `Storage` (memory, Blob and Cosmos only): one on SQLAlchemy with
  e-tags, on SQLite and PostgreSQL.
- state_codec.py: botbuilder stores state with jsonpickle (slow, and it restores any class named in the row); plain
  JSON, botbuilder's own classes by name, anything else jsonpickled.
"""
