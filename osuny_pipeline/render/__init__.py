"""Phase 2 rendering: path rules, Jinja2 templates and deterministic YAML in Osuny's format.

The public names are re-exported lazily: importing `osuny_pipeline.render.cli` (every
CLI start does) must not pay for Jinja2 and the templates."""

__all__ = ["TEMPLATES_VERSION", "RenderError", "Rendered", "SiteRenderer"]


def __getattr__(name: str):
    if name in __all__:
        from osuny_pipeline.render import renderer

        return getattr(renderer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
