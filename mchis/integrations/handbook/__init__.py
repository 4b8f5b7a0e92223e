"""The electronic Mother & Child Health Handbook app (Sổ theo dõi sức khỏe bà mẹ trẻ em điện tử): it pulls,
daily, the timelines of the persons who consented, through `GET /api/v1/handbook/feed` with its own token
(R-INT-02). `services` records and withdraws consent, `feed` builds the signed pages, `app` is the local
stand-in for the handbook app (a separate process that pulls and verifies)."""
