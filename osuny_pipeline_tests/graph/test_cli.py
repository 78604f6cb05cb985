"""`osuny-pipeline identify`, in process, on both databases."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from osuny_pipeline.cli import main
from osuny_pipeline.cms.models import GitFile, WebsiteState
from osuny_pipeline_tests.graph.content import Content


def test_identify_every_website_then_nothing_new(cli_env, engine, capsys):
    with Session(engine) as session:
        c = Content(session, "alpha")
        c.page("home")
        c.website("beta")
        session.commit()
    assert main(["identify"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["alpha (full)", "beta (full)"]
    assert "files identified" in out[0]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(GitFile)
                              .where(GitFile.website_id == "alpha", GitFile.about_type == "page")) == 1
        assert session.get(WebsiteState, "beta").identified_change_id > 0
    assert main(["identify", "--website", "alpha"]) == 0
    assert capsys.readouterr().out.startswith("alpha: 0 changes, 0 objects, 0 files identified")
    assert main(["identify", "--website", "alpha", "--full"]) == 0
    assert capsys.readouterr().out.startswith("alpha (full): 0 changes")


def test_unknown_website_is_one_clear_line(cli_env, engine, capsys):
    assert main(["identify", "--website", "nope"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("osuny-pipeline: error: unknown website 'nope' (known: ")
