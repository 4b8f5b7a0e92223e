from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "mchis.quality"
    label = "quality"
    verbose_name = "Chất lượng dữ liệu"

    def ready(self) -> None:
        from mchis.core.cards import register_card
        from mchis.registry.hooks import on_children_changed

        from .engine import recheck_children
        from .home import quality_cards

        register_card(quality_cards)
        on_children_changed(recheck_children)
