"""One outbox for every outbound exchange (R-INT-02, R-INT-05).

Domain services call `outbox_enqueue` inside their own transaction, so an approved change and its outbound
message commit together or not at all. Which partners receive a topic is declared from above
(`routing.subscribe`, called by `mchis.integrations` in its AppConfig.ready); this app knows no partner.
The delivery state machine (claim → delivered | retry | dead, replay) lives here too; the partner-specific
payloads and HTTP live in `mchis.integrations`.
"""
