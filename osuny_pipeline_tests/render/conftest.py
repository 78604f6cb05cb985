from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from osuny_pipeline.render import SiteRenderer
from osuny_pipeline_tests.render.builders import AS_OF, base_content, load_content


@pytest.fixture
def demo(session: Session) -> Session:
    """The acceptance suite's base content, loaded and connected."""
    load_content(session, base_content())
    return session


@pytest.fixture
def renderer(demo: Session) -> SiteRenderer:
    return SiteRenderer(demo, "demo", as_of=AS_OF)
