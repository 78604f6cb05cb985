"""Phase 2 rendering: path rules, Jinja2 templates and deterministic YAML in Osuny's format."""

from osuny_pipeline.render.renderer import TEMPLATES_VERSION, Rendered, RenderError, SiteRenderer

__all__ = ["TEMPLATES_VERSION", "RenderError", "Rendered", "SiteRenderer"]
