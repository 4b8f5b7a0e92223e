"""python manage.py dedupe_train [--unit CODE] [--seed 42] [--out PATH] — EM-train the duplicate model."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from mchis.quality.dedupe import duckdb_features, export_children, train_model
from mchis.quality.linkage import MODEL_PATH


class Command(BaseCommand):
    help = "Train the Splink duplicate model with EM on the registry (deterministic seed); writes model JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--out", type=Path, default=MODEL_PATH)
        parser.add_argument("--review", type=float, default=0.9, help="p2: review band starts here")
        parser.add_argument("--auto", type=float, default=0.99, help="p1: auto-suggest band starts here")

    def handle(self, *args: Any, **opts: Any) -> None:
        with tempfile.TemporaryDirectory(prefix="mchis_train_") as tmp:
            path = Path(tmp) / "children.csv"
            export_children(path)
            con = duckdb_features(path)
            model = train_model(
                con, out=opts["out"], seed=opts["seed"], review=opts["review"], auto=opts["auto"]
            )
        prior = model["probability_two_random_records_match"]
        self.stdout.write(f"model written to {opts['out']} (λ = {prior:.3g})")
