from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "mchis.quality"
    label = "quality"
    verbose_name = "Chất lượng dữ liệu"

    def ready(self) -> None:
        from mchis.web.home import register_card

        from .home import quality_cards

        register_card(quality_cards)
